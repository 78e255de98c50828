"""`pinpipe down` and `up` act on the sandbox's own processes only, judged by what they are, not
by what a pid file says."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.sandbox import pinpipe

pytestmark = pytest.mark.integration


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    """A process that has nothing to do with the sandbox, leading its own session like a
    service would."""
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def _pinpipe(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env["PINPIPE_STATE_DIR"] = str(state)
    return pinpipe(env, *args, timeout=120)


@pytest.mark.parametrize("record", ["bare pid", "other start time"])
def test_down_leaves_a_process_a_stale_pid_file_names_alive(
    tmp_path: Path, unrelated: subprocess.Popen[bytes], record: str
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    started = psutil.Process(unrelated.pid).create_time()
    # After a reboot, the pid of a service that ran before can belong to anything.
    stale = (
        str(unrelated.pid)
        if record == "bare pid"
        else json.dumps({"pid": unrelated.pid, "create_time": started - 86400})
    )
    for name in ("kafka", "localstack", "streaming"):
        (run / f"{name}.pid").write_text(stale)

    done = _pinpipe(tmp_path, "down")

    assert done.returncode == 0, done.stderr
    assert "nothing was running" in done.stdout
    assert unrelated.poll() is None, "down signalled a process that is not the sandbox's"
    status = json.loads(_pinpipe(tmp_path, "status", "--json").stdout)
    assert not any(row["running"] for row in status["services"])
