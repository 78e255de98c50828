"""What the pipeline's tables should hold for a source database, by the independent
implementation in tests/reference.py."""

from __future__ import annotations

from typing import Any

from pinpipe.contract import SOURCE_TABLES, to_wire
from pinpipe.source import db
from tests import reference


def source_records(source_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every source row, per table, as the emulator sends it."""
    with db.connect(source_url).connect() as conn:
        return {t.short: [to_wire(r) for r in db.read_rows(conn, t)] for t in SOURCE_TABLES}


def expected_silver(source_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each silver table, sorted."""
    return {
        t: sorted(tuple(r.values()) for r in reference.silver(rows, t))
        for t, rows in source_records(source_url).items()
    }


def expected_gold(source_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each gold table."""
    silver = {t: reference.silver(rows, t) for t, rows in source_records(source_url).items()}
    return reference.gold(silver["pin"], silver["geo"], silver["user"])
