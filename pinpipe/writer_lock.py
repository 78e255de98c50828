"""One writer at a time for each of a pipeline user's batch tables, and for its streaming tables.

Two runs writing the same Delta table at once conflict (or, on an empty table, fail with
Delta's ``ProtocolChangedException``). Every batch step holds the locks of the tables it writes
(and of those it reads, so gold is never computed from a silver table half way through a run):
a second run waits for the first, saying which run it waits for, or gives up after its timeout.
Steps on different tables run side by side: the DAG cleans pin, geo and user at once.
The streaming job holds one lock for all of its tables while it runs: its queries take
themselves to be their tables' only writers (``keyed_table``), so a second job exits at once.
The locks are OS file locks, so a run that dies releases them at once.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError

GOLD = "gold"  # the lock of the nine gold tables
QUARANTINE = "quarantine"  # the shared quarantine table's, held only while it is created
STREAMING = "streaming"  # the lock of the streaming job's tables


class TablesBusy(PinpipeError):
    """Another run holds one of the pipeline user's batch tables."""


def holder_description(step: str) -> str:
    run = os.environ.get("AIRFLOW_CTX_DAG_RUN_ID")
    by = f"Airflow run {run}" if run else "pinpipe batch run"
    since = datetime.now(UTC).strftime("%H:%M:%S UTC")
    return f"{by}, step {step!r} (pid {os.getpid()}, since {since})"


def _lock_file(s: Settings, name: str) -> Path:
    path = s.state_dir / "locks" / f"batch-{s.uid}-{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _acquire(
    f: IO[str], path: Path, what: str, deadline: float, on_wait: Callable[[str], None]
) -> None:
    told = False
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            other = path.read_text().strip() or "another run"
            if time.monotonic() >= deadline:
                raise TablesBusy(
                    f"{what} being written by {other}; run again when it has finished"
                ) from None
            if not told:
                on_wait(f"waiting for {other} to finish writing {what.removesuffix(' are')}")
                told = True
            time.sleep(0.5)


@contextmanager
def _held(
    s: Settings, name: str, holder: str, deadline: float, on_wait: Callable[[str], None]
) -> Iterator[None]:
    path = _lock_file(s, name)
    what = f"the {name} tables of pipeline user {s.uid} are"
    with open(path, "a+") as f:
        _acquire(f, path, what, deadline, on_wait)
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


@contextmanager
def batch_tables(
    s: Settings,
    holder: str,
    wait_s: float,
    tables: Sequence[str],
    on_wait: Callable[[str], None] = lambda text: print(text, flush=True),
) -> Iterator[None]:
    """Hold the locks of ``tables`` (silver table names, ``GOLD``) for ``holder``, waiting up to
    ``wait_s`` seconds for all of them."""
    deadline = time.monotonic() + wait_s
    with ExitStack() as stack:
        for name in sorted(set(tables)):  # one order for every run: no two wait for each other
            stack.enter_context(_held(s, name, holder, deadline, on_wait))
        yield


@contextmanager
def streaming_tables(s: Settings) -> Iterator[None]:
    """Hold the streaming tables' lock for this process, or raise ``TablesBusy`` at once, naming
    the streaming job that holds it."""
    since = datetime.now(UTC).strftime("%H:%M:%S UTC")
    holder = f"the streaming job (pid {os.getpid()}, since {since})"
    with ExitStack() as stack:
        try:
            stack.enter_context(batch_tables(s, holder, wait_s=0, tables=[STREAMING]))
        except TablesBusy as e:
            raise TablesBusy(f"{e} (`pinpipe stream stop` stops the background one)") from None
        yield
