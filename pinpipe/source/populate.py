"""Fill the source database from files or from the generator, with progress reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, inspect

from pinpipe.contract import PIN, SOURCE_TABLES, SourceTable
from pinpipe.source import db, loader
from pinpipe.source.generator import SourceGenerator

Advance = Callable[[int], None]
T = TypeVar("T")


def prepare_tables(engine: Engine, replace: bool) -> None:
    """Create the tables if needed; refuse to add to tables that already hold rows."""
    existing = set(inspect(engine).get_table_names())
    if not all(t.name in existing for t in SOURCE_TABLES):
        db.init(engine, replace=True)
        return
    if replace:
        db.init(engine, replace=True)
        return
    rows = db.count_rows(engine, PIN)
    if rows:
        raise db.SourceError(
            f"the source database already holds {rows} rows: use --replace to start afresh"
        )


def _counting(items: Iterable[T], advance: Advance, every: int = 1000) -> Iterator[T]:
    n = 0
    for item in items:
        yield item
        n += 1
        if n % every == 0:
            advance(every)
    advance(n % every)


def load(engine: Engine, directory: Path, advance: Advance = lambda _: None) -> dict[str, int]:
    """Load each table from its file; returns rows per table."""
    files = {t.short: loader.find_file(directory, t) for t in SOURCE_TABLES}
    counts = {}
    for table in SOURCE_TABLES:
        rows = loader.read_file(files[table.short], table)
        counts[table.short] = db.insert_rows(engine, table, _counting(rows, advance))
    return counts


def generate(
    engine: Engine, rows: int, seed: int, advance: Advance = lambda _: None, chunk: int = 10_000
) -> int:
    """Generate ``rows`` aligned rows per table; returns the number of triplets written."""
    generator = iter(SourceGenerator(rows, seed=seed))
    tables: dict[str, SourceTable] = {t.short: t for t in SOURCE_TABLES}
    written = 0
    with engine.begin() as conn:
        while written < rows:
            batch: dict[str, list[dict[str, Any]]] = {k: [] for k in tables}
            for pin, geo, user in _take(generator, chunk):
                batch["pin"].append(pin)
                batch["geo"].append(geo)
                batch["user"].append(user)
            for short, values in batch.items():
                db.insert_batch(conn, tables[short], values)
            written += len(batch["pin"])
            advance(len(batch["pin"]))
    return written


def _take(items: Iterator[T], n: int) -> Iterator[T]:
    for _ in range(n):
        try:
            yield next(items)
        except StopIteration:
            return
