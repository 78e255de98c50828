"""The source database of posts: schema, loading from files, and a calibrated generator.

The stage's API: ``init``, ``load`` and ``generate`` take the settings and options and return
what they did; the command line and the demo call these.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pinpipe.config import Settings
from pinpipe.contract import SOURCE_TABLES

if TYPE_CHECKING:
    from sqlalchemy import Engine

Advance = Callable[[int], None]


@dataclass(frozen=True)
class SourceReport:
    url: str  # the database, password hidden
    rows: dict[str, int]  # rows written per table (pin, geo, user)
    seconds: float


def _engine(s: Settings, db_url: str | None) -> Engine:
    from pinpipe.source import db

    return db.connect(db_url or s.source_db_url)


def init(s: Settings, db_url: str | None = None, replace: bool = False) -> str:
    """Create the three source tables; returns the database's URL."""
    from pinpipe.source import db

    engine = _engine(s, db_url)
    db.init(engine, replace=replace)
    return repr(engine.url)


def load(
    s: Settings,
    from_dir: Path,
    db_url: str | None = None,
    replace: bool = False,
    advance: Advance = lambda _: None,
) -> SourceReport:
    """Load the three tables from JSONL or CSV files named after them."""
    from pinpipe.source import populate

    return _fill(s, db_url, replace, lambda engine: populate.load(engine, from_dir, advance))


def generate(
    s: Settings,
    rows: int,
    seed: int = 0,
    db_url: str | None = None,
    replace: bool = False,
    advance: Advance = lambda _: None,
) -> SourceReport:
    """Generate ``rows`` realistic rows per table (calibrated on the original data)."""
    from pinpipe.source import populate

    def fill(engine: Engine) -> dict[str, int]:
        written = populate.generate(engine, rows, seed, advance=advance)
        return {t.short: written for t in SOURCE_TABLES}

    return _fill(s, db_url, replace, fill)


def _fill(
    s: Settings, db_url: str | None, replace: bool, fill: Callable[[Engine], dict[str, int]]
) -> SourceReport:
    from pinpipe.source import populate

    engine = _engine(s, db_url)
    populate.prepare_tables(engine, replace)
    t0 = time.perf_counter()
    counts = fill(engine)
    return SourceReport(repr(engine.url), counts, time.perf_counter() - t0)


def row_count(s: Settings, db_url: str | None = None) -> int:
    """Rows of the pin table, 0 when the tables do not exist yet."""
    from pinpipe.source import db

    engine = _engine(s, db_url)
    try:
        db.ensure_tables(engine)
        return db.count_rows(engine, SOURCE_TABLES[0])
    except db.SourceError:
        return 0
