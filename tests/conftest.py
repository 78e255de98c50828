"""Shared fixtures. Integration tests run their own stack on shifted ports and a temporary state
folder, started and stopped through the ``pinpipe`` command users run, so a developer's own
stack is never touched."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import PROJECT_ROOT, Settings, load_settings

PORT_SHIFT = 20000
PINPIPE = [sys.executable, "-m", "pinpipe"]


@dataclass
class Sandbox:
    """A running test stack: its settings, environment and the CLI to drive it."""

    settings: Settings
    env: dict[str, str]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*PINPIPE, *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def up(self) -> None:
        done = self.cli("up")
        assert done.returncode == 0, f"pinpipe up failed:\n{done.stdout}\n{done.stderr}"

    def down(self) -> None:
        done = self.cli("down")
        assert done.returncode == 0, f"pinpipe down failed:\n{done.stdout}\n{done.stderr}"

    def status(self) -> dict:  # type: ignore[type-arg]
        done = self.cli("status", "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    @property
    def api_url(self) -> str:
        url = self.status()["api_url"]
        assert url, "the API gateway has no deployed API"
        return str(url)


def _test_env(state_dir: Path) -> dict[str, str]:
    defaults = Settings().ports
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env["PINPIPE_STATE_DIR"] = str(state_dir)
    env["PINPIPE_PROFILE"] = "local"
    for name, port in defaults.model_dump().items():
        env[f"PINPIPE_PORTS__{name.upper()}"] = str(port + PORT_SHIFT)
    return env


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    if os.environ.get("PINPIPE_TEST_SANDBOX") == "attach":
        # Use the stack already running with the current configuration (faster inner loop).
        yield Sandbox(settings=load_settings(), env=dict(os.environ))
        return
    state_dir = tmp_path_factory.mktemp("sandbox-state")
    env = _test_env(state_dir)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # so load_settings() in the tests sees the test stack
    try:
        box = Sandbox(settings=load_settings(), env=env)
        try:
            box.up()
            yield box
        finally:
            box.down()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (with Delta) for every Spark test."""
    os.environ["TZ"] = "UTC"  # collected timestamps are converted with the process's zone
    time.tzset()
    from pinpipe.spark.session import get_spark

    session = get_spark(load_settings(), "pinpipe-tests")
    yield session
    session.stop()
    # py4j logs from finalizers at interpreter exit, after pytest has closed its streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
