"""The lake's object store: Versity S3 Gateway (versitygw, Apache-2.0) over a local folder.

It speaks the S3 API that Spark's s3a, delta-rs, boto3 and the S3 sink use (conditional puts,
multipart uploads, directory-marker keys included), and keeps every object as a file under
``state/lake/<bucket>/``. Durability: a PUT is answered only after its file is complete and
linked into place, so whatever it acknowledged survives a kill of it or of the whole stack.
"""

from __future__ import annotations

from pathlib import Path

from pinpipe.aws_access import aws_access
from pinpipe.config import Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import health
from pinpipe.sandbox.services.base import Launch, Service

HEALTH_PATH = "/_pinpipe/health"


def binary(s: Settings) -> Path:
    return s.build_dir / "bin" / "versitygw"


def data_dir(s: Settings) -> Path:
    return s.state_dir / "lake"


def _launch(s: Settings) -> Launch:
    exe = binary(s)
    if not exe.exists():
        raise SandboxError(f"{exe} is missing: run `make setup` first")
    data_dir(s).mkdir(parents=True, exist_ok=True)
    # The store accepts exactly the keys its clients are given.
    access = aws_access(s, "s3")
    keys = access.credentials
    if keys is None or not keys.access_key_id:
        raise SandboxError(
            "the local lake needs static credentials: set credentials.source = 'static' with "
            "access_key_id and secret_access_key (the local profile does)"
        )
    return Launch(
        [
            str(exe),
            "--port",
            f"{s.bind_host}:{s.ports.lake}",
            "--region",
            access.region,
            "--health",
            HEALTH_PATH,
            "--quiet",
            "posix",
            str(data_dir(s)),
        ],
        # Keys go through the environment, not argv, so `ps` does not show them.
        env={
            "ROOT_ACCESS_KEY": keys.access_key_id,
            "ROOT_SECRET_KEY": keys.secret_access_key,
        },
    )


SERVICE = Service(
    name="lake",
    description="Lake object store: versitygw (S3 API) over state/lake",
    ports=("lake",),
    depends_on=(),
    launch=_launch,
    health=lambda s: health.http_ok(f"{s.endpoints.s3}{HEALTH_PATH}"),
    url=lambda s: s.endpoints.s3,
    hint="`make setup` builds versitygw from the Go module proxy.",
)
