"""Shared fixtures. Integration tests run their own stack on shifted ports and a temporary state
folder, started and stopped through the ``pinpipe`` command users run, so a developer's own
stack is never touched; with ``PINPIPE_TEST_SANDBOX=attach`` they use the running stack instead,
and every pipeline user a test creates in it is removed afterwards (tests/e2e/pipelines.py)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pinpipe.aws_access import GLOBAL_ENDPOINT_VARIABLE, IGNORE_ENDPOINT_VARIABLES
from pinpipe.config import Settings, load_settings
from tests.sandbox import Sandbox

if TYPE_CHECKING:
    from tests.e2e.pipelines import Pipeline

# Apart from the benchmarks' stacks, and every shifted port below the ephemeral range (32768+),
# where a client socket of any process could hold it when the stack starts.
PORT_SHIFT = 12000
AWS_ENDPOINT_VARS = (GLOBAL_ENDPOINT_VARIABLE, IGNORE_ENDPOINT_VARIABLES)


def _test_env(state_dir: Path) -> dict[str, str]:
    defaults = Settings().ports
    # The developer's own configuration, and any AWS endpoint override, would point elsewhere.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PINPIPE_", *AWS_ENDPOINT_VARS))
    }
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


@pytest.fixture(scope="module")
def pipeline(sandbox: Sandbox) -> Iterator[Pipeline]:
    """A pipeline user of the module's own in the sandbox (end-to-end and fault suites):
    provisioned, with its S3 sink connector, and removed after the module's tests."""
    from tests.e2e.pipelines import provisioned

    with provisioned(sandbox) as p:
        yield p


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (with Delta) for every Spark test."""
    os.environ["TZ"] = "UTC"  # collected timestamps are converted with the process's zone
    time.tzset()
    from pinpipe.spark.session import INTERPRETED_CONF, get_spark

    # Interpreted, as the stack's Spark server runs: the tests' many small plans then start at once.
    session = get_spark(load_settings(), "pinpipe-tests", local=True, extra_conf=INTERPRETED_CONF)
    yield session
    session.stop()
    # py4j logs from finalizers at interpreter exit, after pytest has closed its streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
