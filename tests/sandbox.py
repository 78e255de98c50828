"""The test stack as tests drive it: the ``pinpipe`` command users run, with the stack's settings
and environment (the ``sandbox`` fixture in tests/conftest.py starts or attaches to it)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

import requests

from pinpipe.config import PROJECT_ROOT, Settings

PINPIPE = [sys.executable, "-m", "pinpipe"]
JSON = "application/json"
KAFKA_JSON = "application/vnd.kafka.json.v2+json"  # what the Kafka REST proxy takes


def pinpipe(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``pinpipe <args>`` from the project root with exactly this environment."""
    return subprocess.run(
        [*PINPIPE, *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def call_api(method: str, url: str, body: Any, content_type: str = JSON) -> requests.Response:
    """One request to a pipeline's REST API: ``body`` as JSON, or as it is if it is bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.request(
        method, url, data=data, headers={"Content-Type": content_type}, timeout=60
    )


@dataclass
class Cli:
    """Settings, and the environment that gives the ``pinpipe`` command the same settings."""

    settings: Settings
    env: dict[str, str]
    default_timeout: ClassVar[float] = 600

    def cli(self, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        return pinpipe(self.env, *args, timeout=timeout or self.default_timeout)

    def ok(self, *args: str, timeout: float | None = None) -> str:
        """Run the command, which must succeed; returns what it printed."""
        done = self.cli(*args, timeout=timeout)
        assert done.returncode == 0, f"pinpipe {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return str(done.stdout)

    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.ok("status", "--json")))

    @property
    def api_url(self) -> str:
        """The invoke URL of the settings' own REST API."""
        url = self.status()["api_url"]
        assert url, "the API gateway has no deployed API"
        return str(url)


@dataclass
class Sandbox(Cli):
    """A running test stack."""

    def up(self) -> None:
        self.ok("up")

    def down(self) -> None:
        self.ok("down")
