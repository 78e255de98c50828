#!/usr/bin/env bash
# mypy (strict) over the installed layout of the pinpipe package. The package is assembled from
# pinpipe/, aws/, services/ and spark/ (see package-dir in pyproject.toml), which mypy cannot map,
# so it checks a tree of symbolic links laid out as the package is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=build/typecheck
rm -rf "$tree" && mkdir -p "$tree/pinpipe"
for entry in pinpipe/*; do
  [ "$(basename "$entry")" = "__pycache__" ] || ln -s "$PWD/$entry" "$tree/pinpipe/"
done
for part in aws services spark; do ln -s "$PWD/$part" "$tree/pinpipe/$part"; done
cd "$tree"
exec ../../.venv/bin/mypy --config-file ../../pyproject.toml --cache-dir ../mypy-cache -p pinpipe "$@"
