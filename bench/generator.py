"""Benchmark of the source generator into SQLite, against a baseline measured in the same run:
the same rows inserted with the standard library's sqlite3 executemany (no generation)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from pinpipe.contract import SOURCE_TABLES
from pinpipe.source import db, populate
from pinpipe.source.generator import SourceGenerator


def main() -> None:
    rows = int(os.environ.get("BENCH_ROWS", "200000"))
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.connect(f"sqlite:///{Path(tmp) / 'gen.db'}")
        populate.prepare_tables(engine, replace=False)
        t = time.perf_counter()
        populate.generate(engine, rows, seed=1)
        ours = time.perf_counter() - t

        data = list(SourceGenerator(rows, seed=1))
        con = sqlite3.connect(Path(tmp) / "baseline.db")
        t = time.perf_counter()
        for i, table in enumerate(SOURCE_TABLES):
            names = table.column_names
            con.execute(f"CREATE TABLE {table.name} ({', '.join(f'[{n}]' for n in names)})")
            con.executemany(
                f"INSERT INTO {table.name} VALUES ({', '.join('?' * len(names))})",
                [
                    tuple(str(v) if hasattr(v, "isoformat") else v for v in r[i].values())
                    for r in data
                ],
            )
        con.commit()
        baseline = time.perf_counter() - t
    print(
        f"generator: {rows:,} rows per table in {ours:.1f}s = {rows / ours:,.0f} rows/s per table"
    )
    print(f"baseline, insert only: {baseline:.1f}s = {rows / baseline:,.0f} rows/s per table")
    print(f"generator / insert-only: {ours / baseline:.1f}x the time")


if __name__ == "__main__":
    main()
