#!/usr/bin/env bash
# Installs everything the sandbox runs, from the project's lock files, into the project folder:
#   .venv             the project's Python environment (pinpipe, Airflow, test tools)
#   .venv-localstack  LocalStack in its own environment (it pins its own AWS libraries)
#   .venv-tools       docker-compose (v1), used to validate docker-compose.yml offline
#   build/            Java components from Maven Central, the S3 sink plugin, LocalStack's Kinesis engine,
#                     and the lake's object store (versitygw, built from the Go module proxy)
# Each step is skipped when its inputs have not changed since it last succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STAMPS=build/stamps
mkdir -p "$STAMPS"
PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.8
KINESIS_MOCK_VERSION=0.4.13
VERSITYGW_VERSION=v1.8.0

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# A step runs when the hash of its inputs differs from the one recorded after its last success.
fresh() {
  local name=$1; shift
  local sum
  sum=$(cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1)
  [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$sum" ]
}
stamp() {
  local name=$1; shift
  cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1 > "$STAMPS/$name"
}

check_tools() {
  command -v "$PYTHON" >/dev/null || fail "Python 3.11+ is required ($PYTHON not found)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || fail "Python 3.11+ is required"
  command -v java >/dev/null || fail "Java 17+ is required (java not found)"
  command -v mvn >/dev/null || fail "Maven is required (mvn not found)"
  command -v npm >/dev/null || fail "Node.js and npm are required (npm not found)"
  command -v go >/dev/null || [ -x build/bin/versitygw ] || fail "Go 1.24+ is required (go not found)"
}

uv_bin() {
  if [ ! -x build/uv/bin/uv ]; then
    say "installing uv $UV_VERSION" >&2
    "$PYTHON" -m venv build/uv
    build/uv/bin/pip install -q "uv==$UV_VERSION" >&2
  fi
  echo "$ROOT/build/uv/bin/uv"
}

venv_from_lock() {  # venv_from_lock <dir> <lock file> [extra uv args...]
  local dir=$1 lock=$2; shift 2
  local uv; uv=$(uv_bin)
  [ -x "$dir/bin/python" ] || "$uv" venv -q --python "$PYTHON" "$dir"
  VIRTUAL_ENV="$dir" "$uv" pip sync -q "$lock" "$@"
}

check_tools

if ! fresh python pyproject.toml requirements.lock; then
  say "Python environment (.venv)"
  venv_from_lock .venv requirements.lock
  VIRTUAL_ENV=.venv "$(uv_bin)" pip install -q --no-deps -e .
  stamp python pyproject.toml requirements.lock
fi

if ! fresh localstack requirements-localstack.lock; then
  say "LocalStack (.venv-localstack)"
  venv_from_lock .venv-localstack requirements-localstack.lock
  stamp localstack requirements-localstack.lock
fi

KINESIS_DIR=build/localstack/var/lib/localstack/lib/kinesis-local/$KINESIS_MOCK_VERSION
if [ ! -f "$KINESIS_DIR/node_modules/kinesis-local/main.js" ]; then
  say "LocalStack's Kinesis engine (kinesis-local $KINESIS_MOCK_VERSION)"
  mkdir -p "$KINESIS_DIR"
  npm install --silent --no-save --no-audit --no-fund --prefix "$KINESIS_DIR" "kinesis-local@$KINESIS_MOCK_VERSION"
fi

if [ "$(cat "$STAMPS/versitygw" 2>/dev/null)" != "$VERSITYGW_VERSION" ] || [ ! -x build/bin/versitygw ]; then
  say "The lake's object store: versitygw $VERSITYGW_VERSION (Go module proxy, ~2 min the first time)"
  GOBIN="$ROOT/build/bin" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  echo "$VERSITYGW_VERSION" > "$STAMPS/versitygw"
fi

if ! fresh tools requirements-tools.lock; then
  say "docker-compose for validating docker-compose.yml (.venv-tools)"
  echo 'cython<3' > build/build-constraints.txt
  venv_from_lock .venv-tools requirements-tools.lock --build-constraint build/build-constraints.txt
  stamp tools requirements-tools.lock
fi

for component in kafka connect spark; do
  if ! fresh "jars-$component" "compose/$component/pom.xml"; then
    say "Java: $component (Maven Central)"
    rm -rf "build/jars/$component"
    mvn -q -B -f "compose/$component/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$ROOT/build/jars/$component" -DincludeScope=runtime \
      $([ "$component" = spark ] && echo -DexcludeGroupIds=org.slf4j)
    stamp "jars-$component" "compose/$component/pom.xml"
  fi
done

SINK=services/s3_sink_connector
if ! fresh s3-sink "$SINK/pom.xml" $(find "$SINK/src" -type f | sort); then
  say "Kafka Connect S3 sink plugin"
  PLUGIN=build/connect-plugins/pinpipe-s3-sink
  rm -rf "$PLUGIN"
  mvn -q -B -f "$SINK/pom.xml" package -DskipTests
  mvn -q -B -f "$SINK/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$ROOT/$PLUGIN" -DincludeScope=runtime -DexcludeGroupIds=org.slf4j
  cp "$SINK"/target/pinpipe-s3-sink-*.jar "$PLUGIN/"
  stamp s3-sink "$SINK/pom.xml" $(find "$SINK/src" -type f | sort)
fi

say "setup complete"
