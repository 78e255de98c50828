"""The user-posting emulator: reads source rows and sends them as users' posts would arrive.

The stage's API is ``run(settings, options) -> EmulatorReport``: it finds the deployed API,
opens the source database, sends, keeps the per-user checkpoint, and reports what happened.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pinpipe.config import Settings
from pinpipe.contract import SOURCE_TABLES
from pinpipe.errors import PinpipeError
from pinpipe.services.emulator.options import PathName, RunOptions

if TYPE_CHECKING:
    from pinpipe.services.emulator.emulator import RunSummary
    from pinpipe.services.emulator.sender import Counters


@dataclass(frozen=True)
class EmulatorReport:
    summary: RunSummary
    counters: Counters
    dead_letter_file: Path

    @property
    def rate(self) -> float:
        return self.summary.events / max(self.summary.seconds, 1e-9)

    @property
    def ok(self) -> bool:
        return self.counters.dead_records == 0


class EmulatorError(PinpipeError):
    """The emulator cannot start: no API, no source rows, or contradictory options."""


def checkpoint_file(s: Settings, path: PathName) -> Path:
    """Where a path's progress is kept, per pipeline user (each has its own topics/streams)."""
    return s.state_dir / "emulator" / s.uid / f"checkpoint-{path}.json"


def dead_letter_file(s: Settings, path: PathName) -> Path:
    return s.state_dir / "emulator" / f"dead-letter-{path}.jsonl"


def run(
    s: Settings,
    options: RunOptions,
    on_progress: Callable[[RunSummary, Counters], None] = lambda *_: None,
    stop: threading.Event | None = None,
) -> EmulatorReport:
    """Send events through one path of the API gateway; set ``stop`` to end after the request
    in flight (the checkpoint then lets ``resume`` continue where it stopped)."""
    from pinpipe.aws.provision import api_key as deployed_api_key
    from pinpipe.aws.provision import api_url as deployed_api_url
    from pinpipe.services.emulator.emulator import Emulator
    from pinpipe.services.emulator.sender import Sender
    from pinpipe.source import db

    if options.all_rows and options.seed is not None:
        raise EmulatorError("--all sends every row in order; it takes no --seed")
    url = options.api_url or deployed_api_url(s)
    if not url:
        raise EmulatorError(
            "no deployed API found: start the stack with `make up` (or pass --api-url)"
        )
    engine = db.connect(options.db_url or s.source_db_url)
    db.ensure_tables(engine)
    if db.count_rows(engine, SOURCE_TABLES[0]) == 0:
        raise EmulatorError(
            "the source database is empty: run `pinpipe source generate` or `load` first"
        )
    count = options.count
    if count is None and options.duration_s is None and not options.all_rows:
        count = 100
    sender = Sender(dead_letter_file=dead_letter_file(s, options.path))
    if s.deploy.api_key_required and options.api_url is None:
        # The key created with the API's usage plan; its value is read, never stored.
        sender.session.headers["x-api-key"] = deployed_api_key(s)
    if stop is not None:
        sender.stop = stop
    emulator_options = replace(options, api_url=url, count=count)
    emulator = Emulator(
        s,
        engine,
        emulator_options,
        checkpoint_file(s, options.path),
        sender,
        lambda summary: on_progress(summary, sender.counters),
    )
    summary = emulator.run()
    return EmulatorReport(summary, replace(sender.counters), sender.dead_letter_file)


@contextmanager
def stop_on_interrupt() -> Iterator[threading.Event]:
    """An event that Ctrl-C sets (instead of raising), for ``run``'s ``stop``."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = [
    "EmulatorError",
    "EmulatorReport",
    "PathName",
    "RunOptions",
    "checkpoint_file",
    "dead_letter_file",
    "run",
    "stop_on_interrupt",
]
