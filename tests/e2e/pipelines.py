"""Helpers for end-to-end tests: a separate pipeline user inside the running sandbox, so each
test sees only its own records, and waiting for the S3 sink to land them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests

from pinpipe import landing
from pinpipe.config import Settings, load_settings
from tests.conftest import Sandbox


@dataclass
class Pipeline:
    sandbox: Sandbox
    settings: Settings
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 900):  # type: ignore[no-untyped-def]
        import subprocess
        import sys

        from pinpipe.config import PROJECT_ROOT

        return subprocess.run(
            [sys.executable, "-m", "pinpipe", *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, *args: str, timeout: float = 900) -> str:
        done = self.cli(*args, timeout=timeout)
        assert done.returncode == 0, f"pinpipe {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return str(done.stdout)


def new_pipeline(sandbox: Sandbox) -> Pipeline:
    """Provision a fresh uid's bucket, topics, streams, API and S3 sink connector."""
    uid = f"e2e{uuid.uuid4().hex[:8]}"
    env = {**sandbox.env, "PINPIPE_UID": uid}
    pipeline = Pipeline(sandbox, load_settings(uid=uid), env)
    pipeline.ok("provision")
    pipeline.ok("connector")
    return pipeline


def remove_connector(pipeline: Pipeline) -> None:
    s = pipeline.settings
    requests.delete(f"{s.endpoints.kafka_connect}/connectors/{s.connector_name}", timeout=30)


def wait_until_landed(pipeline: Pipeline, timeout: float = 180) -> dict[str, int]:
    """Wait until every record of the uid's topics is in the lake; returns records per topic."""
    return landing.wait_until_landed(pipeline.settings, timeout)
