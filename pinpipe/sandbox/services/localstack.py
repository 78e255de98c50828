"""LocalStack: Kinesis, API Gateway, IAM, STS and CloudFormation (the lake has its own object
store). The pipeline's REST API and role are a CloudFormation stack deployed into it from the
same CDK app as in AWS (``pinpipe.aws.deploy``).

Durability:
- Kinesis runs on kinesis-mock, which saves its streams and records to
  ``state/localstack/var/lib/localstack/state/kinesis/`` every ``KINESIS_PERSIST_INTERVAL``
  while anything changes them (a preload skips the saves while nothing does), and loads them at
  start. ``PERSISTENCE=1`` is what moves that folder out of the temporary
  one LocalStack clears; LocalStack's own snapshots are not used. A preload makes each save
  atomic (kinesis-mock rewrites the file in place), so a kill can lose the records
  acknowledged since the last complete save (``KINESIS_LOSS_WINDOW_S``), nothing else; and it
  makes a SIGTERM wait for one more save (kinesis-mock would end at once, unsaved).
  kinesis-mock outlives a killed LocalStack (another preload keeps it from dying on its first
  log line with no reader), and ``up`` stops it with SIGTERM before LocalStack starts again,
  so nothing acknowledged is lost. LocalStack's own stop would kill it (SIGKILL); ``run.py``
  makes it send the same SIGTERM first, so ``down`` loses nothing either.
- API Gateway, IAM and CloudFormation hold only what provisioning re-deploys at every ``up``,
  with the same names and the same REST API id (see ``pinpipe.aws.identity``).

``compose/localstack/run.py`` starts it with two changes to API Gateway: a body its validator
cannot decode answers 400, as on AWS, not 500; and a call to a pipeline's API before ``up`` has
deployed it again answers 503 (retry), not 404; and the kinesis-mock stop above.

Exposure: the gateway listens on the bind host only (the hypercorn server honours the host of
``GATEWAY_LISTEN``; the default one does not), and kinesis-mock, which has no bind setting, is
started with a preload that makes it listen on the bind host too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from pinpipe.aws import identity
from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox.health import Health
from pinpipe.sandbox.services.base import COMPOSE_DIR, Launch, Service

LOCALSTACK_PYTHON = PROJECT_ROOT / ".venv-localstack" / "bin" / "python"
KINESIS_MOCK_VERSION = "0.4.13"
KINESIS_PERSIST_INTERVAL = "1s"
# What a kill can lose: records acknowledged since the start of the last complete save, that is
# within one interval plus the time a save takes to write (bounded here by another interval).
KINESIS_LOSS_WINDOW_S = 2.0
SERVICES = ("kinesis", "apigateway", "iam", "sts", "cloudformation")
_LIB = "var/lib/localstack/lib"


def filesystem_root(s: Settings) -> Path:
    return s.state_dir / "localstack"


def kinesis_data_dir(s: Settings) -> Path:
    return filesystem_root(s) / "var/lib/localstack/state/kinesis"


def _set_aside_unreadable_saves(s: Settings) -> None:
    """kinesis-mock cannot start from an unreadable save (one cut short by a kill before saves
    were atomic); keep it aside, say so, and start from nothing rather than not at all."""
    for partial in kinesis_data_dir(s).glob("*.json.*.tmp"):  # a save cut short by a kill
        partial.unlink()
    for save in kinesis_data_dir(s).glob("*.json"):
        try:
            json.loads(save.read_bytes())
            continue
        except ValueError:
            aside = save.with_name(f"{save.name}.unreadable-{int(time.time())}")
            save.rename(aside)
            print(f"warning: the Kinesis save {save} is unreadable; kept as {aside.name}")


def _prepare(s: Settings) -> None:
    _set_aside_unreadable_saves(s)
    # kinesis-mock is installed once under build/; each state folder links to it.
    installed = s.build_dir / "localstack" / _LIB / "kinesis-local"
    if not installed.is_dir():
        raise SandboxError(f"{installed} is missing: run `make setup` first")
    link = s.state_dir / "localstack" / _LIB / "kinesis-local"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or link.resolve() != installed.resolve():
        link.unlink(missing_ok=True)
        link.symlink_to(installed.resolve())


def _launch(s: Settings) -> Launch:
    if not LOCALSTACK_PYTHON.exists():
        raise SandboxError(f"{LOCALSTACK_PYTHON} is missing: run `make setup` first")
    env = {
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(filesystem_root(s)),
        "GATEWAY_LISTEN": f"{s.bind_host}:{s.ports.localstack}",
        "GATEWAY_SERVER": "hypercorn",
        "SERVICES": ",".join(SERVICES),
        # Loaded at start, not at first use: until API Gateway is loaded, a call to an invoke
        # URL falls through to LocalStack's catch-all and gets a 404, which clients give up on.
        "EAGER_SERVICE_LOADING": "1",
        "PERSISTENCE": "1",
        "KINESIS_PERSISTENCE": "1",
        "KINESIS_MOCK_PERSIST_INTERVAL": KINESIS_PERSIST_INTERVAL,
        "KINESIS_MOCK_PROVIDER_ENGINE": "node",
        "KINESIS_MOCK_VERSION": KINESIS_MOCK_VERSION,
        "NODE_OPTIONS": " ".join(
            f"--require {COMPOSE_DIR / 'localstack' / name}"
            for name in ("loopback.js", "atomic-persist.js", "outlive-reader.js")
        ),
        "PINPIPE_BIND_HOST": s.bind_host,
        "PINPIPE_PIPELINES_FILE": str(identity.registry(s)),
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",
        "AWS_DEFAULT_REGION": s.region,
    }
    return Launch([str(LOCALSTACK_PYTHON), str(COMPOSE_DIR / "localstack" / "run.py")], env)


def _health(s: Settings) -> Health:
    url = f"{s.endpoints.kinesis}/_localstack/health"
    try:
        states = requests.get(url, timeout=2).json().get("services", {})
    except (requests.RequestException, ValueError) as e:
        return Health(False, f"GET {url}: {type(e).__name__}")
    bad = [n for n in SERVICES if states.get(n) != "running"]
    if bad:
        return Health(False, f"not ready: {', '.join(bad)}")
    return _kinesis_answers(s)


def _kinesis_answers(s: Settings) -> Health:
    """LocalStack says Kinesis is "running" before kinesis-mock listens: kinesis-mock starts on
    the first Kinesis call, and calls that arrive while it starts fail with an InternalError
    (seen after a restart under load). Only a call that succeeds shows it is up."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from pinpipe.aws_access import aws_client

    quick = Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1})
    kinesis = aws_client(s, "kinesis", config=quick)
    try:
        kinesis.list_streams(Limit=1)
    except (BotoCoreError, ClientError) as e:
        return Health(False, f"Kinesis not answering yet: {e}")
    return Health(True)


SERVICE = Service(
    name="localstack",
    description="LocalStack: Kinesis, API Gateway, IAM, STS, CloudFormation",
    ports=("localstack",),
    depends_on=(),
    prepare=_prepare,
    launch=_launch,
    health=_health,
    url=lambda s: s.endpoints.kinesis,
    hint="`make setup` installs LocalStack and its Kinesis engine.",
)
