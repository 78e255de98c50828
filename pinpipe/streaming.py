"""The streaming stage's API: run the streaming job here, or in the background beside the stack."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import PinpipeError

JOB_MODULE = "pinpipe.spark.streaming.job"


class StreamingFailed(PinpipeError):
    """The streaming job could not start or exited with an error."""


@dataclass(frozen=True)
class CatchUp:
    records: int | None  # processed, as the job reported it (None: not reported)
    log: Path


def run_here(s: Settings, available_now: bool = False) -> None:
    """Run the job in this process until stopped (or, ``available_now``, until caught up)."""
    from pinpipe.spark.streaming import job

    job.main(["--uid", s.uid, *(["--available-now"] if available_now else [])])


class CatchUpJob:
    """The streaming job processing every record now in the streams, then stopping, in a
    process of its own that logs to a file; other work can go on meanwhile."""

    def __init__(self, s: Settings) -> None:
        self.log = s.logs_dir / "streaming-catch-up.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", JOB_MODULE, "--available-now", "--uid", s.uid],
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float = 1800) -> CatchUp:
        """Wait until the job has caught up; raises if it failed."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise StreamingFailed(
                f"the streaming job had not caught up after {timeout:.0f}s; log: {self.log}"
            ) from None
        if code != 0:
            raise StreamingFailed(f"the streaming job exited with {code}; log: {self.log}")
        lines = self.log.read_text(errors="replace").splitlines()
        processed = [ln for ln in lines if "processed" in ln]
        words = processed[-1].split() if processed else []
        return CatchUp(int(words[1]) if len(words) > 1 and words[1].isdigit() else None, self.log)

    def stop(self) -> None:
        """Stop the job if it still runs (what it committed stays; the rest is read again)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(s: Settings) -> int:
    """Start the job in the background beside the sandbox; returns its pid."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    if runner.running_pid(s, "localstack") is None:
        raise StreamingFailed("the sandbox is not running: `make up` first")
    pid = runner.start(s, STREAMING)
    time.sleep(2)
    if runner.running_pid(s, STREAMING.name) is None:
        raise StreamingFailed(
            f"the streaming job exited at once:\n{runner.log_tail(s, STREAMING.name)}"
        )
    return pid


def stop(s: Settings) -> bool:
    """Stop the background job (it finishes its micro-batch); False if it was not running."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    return runner.stop(s, STREAMING.name)


def running_pid(s: Settings) -> int | None:
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    return runner.running_pid(s, STREAMING.name)


def log_tail(s: Settings, lines: int) -> str:
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    return runner.log_tail(s, STREAMING.name, lines)


def log_file(s: Settings) -> Path:
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    return runner.log_file(s, STREAMING.name)
