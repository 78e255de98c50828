"""One writer at a time for a pipeline user's batch tables.

Two runs writing the same Delta tables at once conflict (or, on an empty table, fail with
Delta's ``ProtocolChangedException``). Every batch step holds this lock while it writes: a second
run waits for the first, saying which run it waits for, or gives up after its timeout. The lock
is an OS file lock, so a run that dies releases it at once.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError


class TablesBusy(PinpipeError):
    """Another run holds the pipeline user's batch tables."""


def holder_description(step: str) -> str:
    run = os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")
    by = f"Airflow run {run}" if run else "pinpipe batch run"
    since = datetime.now(UTC).strftime("%H:%M:%S UTC")
    return f"{by}, step {step!r} (pid {os.getpid()}, since {since})"


@contextmanager
def batch_tables(
    s: Settings,
    holder: str,
    wait_s: float,
    on_wait: Callable[[str], None] = lambda text: print(text, flush=True),
) -> Iterator[None]:
    path = s.state_dir / "locks" / f"batch-{s.uid}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    with open(path, "a+") as f:
        told = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                other = path.read_text().strip() or "another run"
                if time.monotonic() >= deadline:
                    raise TablesBusy(
                        f"the batch tables of pipeline user {s.uid} are being written by {other}; "
                        "run again when it has finished"
                    ) from None
                if not told:
                    on_wait(f"waiting for {other} to finish writing the batch tables")
                    told = True
                time.sleep(0.5)
        f.seek(0)
        f.truncate()
        f.write(holder)
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            f.flush()
