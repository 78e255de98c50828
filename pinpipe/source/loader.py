"""Loads the source tables from JSONL or CSV files named after the tables."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pinpipe.contract import SOURCE_TABLES, SourceTable, parse_datetime
from pinpipe.errors import PinpipeError

SUFFIXES = (".jsonl", ".csv")


class LoadError(PinpipeError):
    """A source file is missing or has a row that does not fit the table."""


def find_file(directory: Path, table: SourceTable) -> Path:
    for suffix in SUFFIXES:
        path = directory / f"{table.name}{suffix}"
        if path.exists():
            return path
    raise LoadError(
        f"no {table.name}.jsonl or {table.name}.csv in {directory}: "
        f"the folder needs one file per table ({', '.join(t.name for t in SOURCE_TABLES)})"
    )


def _convert(table: SourceTable, raw: dict[str, Any], where: str) -> dict[str, Any]:
    missing = [c for c in table.column_names if c not in raw]
    if missing:
        raise LoadError(f"{where}: missing column(s) {', '.join(missing)}")
    row: dict[str, Any] = {}
    for col in table.columns:
        value = raw[col.name]
        try:
            if value is None or (col.type != "str" and value == ""):
                row[col.name] = None
            elif col.type == "int":
                row[col.name] = int(value)
            elif col.type == "float":
                row[col.name] = float(value)
            elif col.type == "datetime":
                row[col.name] = parse_datetime(str(value))
            else:
                row[col.name] = str(value)
        except ValueError as e:
            raise LoadError(
                f"{where}: column {col.name}: {value!r} is not a valid {col.type}"
            ) from e
    return row


def read_file(path: Path, table: SourceTable) -> Iterator[dict[str, Any]]:
    """Typed rows of one table's file."""
    with path.open(encoding="utf-8", newline="") as f:
        if path.suffix == ".csv":
            for n, raw in enumerate(csv.DictReader(f), start=2):
                yield _convert(table, raw, f"{path}:{n}")
        else:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as e:
                    raise LoadError(f"{path}:{n}: not valid JSON: {e}") from e
                yield _convert(table, raw, f"{path}:{n}")
