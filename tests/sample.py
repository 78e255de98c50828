"""The real sample of the original source tables, when the shared folder is next to the project."""

from __future__ import annotations

import json
from pathlib import Path

from pinpipe.config import PROJECT_ROOT

SAMPLE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "aicore-sample"
SAMPLE_ROWS = 2019


def sample_available() -> bool:
    return (SAMPLE_DIR / "pinterest_data.jsonl").exists()


def read_sample(name: str) -> list[dict[str, object]]:
    with (SAMPLE_DIR / f"{name}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sample_dir() -> Path:
    return SAMPLE_DIR


def assert_sample_stored(conn: object) -> None:
    """Every value of the real sample reads back from the source database unchanged."""
    from pinpipe.contract import DATETIME_FORMAT, SOURCE_TABLES
    from pinpipe.source import db

    for table in SOURCE_TABLES:
        stored = {r[table.key]: r for r in db.read_rows(conn, table)}
        for original in read_sample(table.name):
            row = stored[original[table.key]]
            for col in table.columns:
                value = row[col.name]
                if col.type == "datetime":
                    value = value.strftime(DATETIME_FORMAT)
                assert value == original[col.name], (table.name, original[table.key], col.name)
