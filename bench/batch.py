"""Benchmark of the batch job: Spark (the pipeline's own job code) against a single-node engine
(DuckDB) computing the same tables from the same landed files, measured in the same run.

Both engines' silver, quarantine and gold tables are then compared row by row (every column,
floats within a small tolerance); the benchmark fails, naming the table and its first differing
rows, if they differ.

Then 1% more events land and the incremental run (only the new objects) is timed, and its
tables compared row by row with a full rebuild's.

    python -m bench.batch            # 100k and 1M events (BENCH_EVENTS=100000,1000000)
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

from bench.landed_files import write_landed
from pinpipe.config import Settings, load_settings
from pinpipe.contract import GOLD_TABLES, QUARANTINE, QUARANTINE_TABLE, SILVER_TABLES
from pinpipe.spark import lake

FLOAT_TOLERANCE = 1e-9  # relative
SHOWN_DIFFERENCES = 5


def delta_files(s: Settings, name: str) -> list[str]:
    """The data files of a Delta table's current version (local paths)."""
    from deltalake import DeltaTable

    uris = DeltaTable(lake.table_path(s, name, scheme="s3")).file_uris()
    return [u.removeprefix("file://") for u in uris]


def delta_rows(s: Settings, name: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    from deltalake import DeltaTable

    dataset = DeltaTable(lake.table_path(s, name, scheme="s3")).to_pyarrow_dataset()
    table = dataset.to_table(columns=list(columns), use_threads=False)
    return [tuple(r[c] for c in columns) for r in table.to_pylist()]


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, "") if v is None else (1, v) for v in row)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=FLOAT_TOLERANCE)
    return bool(a == b)


def _same_row(a: tuple[Any, ...] | None, b: tuple[Any, ...] | None) -> bool:
    if a is None or b is None:
        return a is b
    return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))


def row_differences(
    name: str,
    spark_rows: list[tuple[Any, ...]],
    duck_rows: list[tuple[Any, ...]],
    engines: tuple[str, str] = ("Spark", "DuckDB"),
) -> str | None:
    """None if both engines' rows are the same once sorted; else what differs, first rows first."""
    pairs = zip_longest(sorted(spark_rows, key=_sort_key), sorted(duck_rows, key=_sort_key))
    differing = [(i, a, b) for i, (a, b) in enumerate(pairs) if not _same_row(a, b)]
    if not differing:
        return None
    first, second = engines
    lines = [
        f"{name}: {len(spark_rows):,} rows from {first}, {len(duck_rows):,} from {second}, "
        f"{len(differing):,} sorted positions differ; the first ones ({first} | {second}):"
    ]
    for i, a, b in differing[:SHOWN_DIFFERENCES]:
        lines.append(f"  row {i}: {a} | {b}")
    return "\n".join(lines)


def silver_differences(con: Any, s: Settings, name: str) -> str | None:
    """Silver tables hold no computed floats, so they must be equal exactly; compared in DuckDB,
    which reads the Spark table's files, so the rows never pass through Python."""
    from bench.duckdb_gold import q, typed

    files = ", ".join(f"'{f}'" for f in delta_files(s, name))
    spark_view = f"spark_{name}"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {spark_view} AS "
        f"{typed(SILVER_TABLES[name], f'SELECT * FROM read_parquet([{files}])')}"
    )
    only = {
        "Spark": f"SELECT * FROM {spark_view} EXCEPT ALL SELECT * FROM {q(name)}",
        "DuckDB": f"SELECT * FROM {q(name)} EXCEPT ALL SELECT * FROM {spark_view}",
    }
    counts = {
        engine: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for engine, t in (("Spark", spark_view), ("DuckDB", q(name)))
    }
    lines = []
    for engine, query in only.items():
        extra = con.execute(f"{query} ORDER BY ALL LIMIT {SHOWN_DIFFERENCES}").fetchall()
        if extra:
            total = con.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
            lines.append(f"  {total:,} rows only in {engine}'s, the first ones:")
            lines += [f"    {row}" for row in extra]
    if not lines:
        return None
    header = f"{name}: {counts['Spark']:,} rows from Spark, {counts['DuckDB']:,} from DuckDB"
    return "\n".join([header, *lines])


def differences(con: Any, s: Settings) -> list[str]:
    """Every table both engines wrote, compared row by row; one report per differing table."""
    found = [silver_differences(con, s, name) for name in SILVER_TABLES]
    for name, table in {QUARANTINE: QUARANTINE_TABLE, **GOLD_TABLES}.items():
        columns = table.column_names
        duck = con.execute(f"SELECT {', '.join(columns)} FROM {name}").fetchall()
        found.append(row_differences(name, delta_rows(s, name, columns), duck))
    return [d for d in found if d is not None]


def main() -> None:
    sizes = [int(n) for n in os.environ.get("BENCH_EVENTS", "100000,1000000").split(",")]
    results = []
    for events in sizes:
        root = Path(tempfile.mkdtemp(prefix=f"pinpipe-bench-{events}-"))
        s = load_settings(lake_uri=f"file://{root}")

        t = time.perf_counter()
        write_landed(s, root, events)
        print(f"{events:>9,} events: generated and landed in {time.perf_counter() - t:.1f}s")

        from bench import duckdb_gold

        t = time.perf_counter()
        duck = duckdb_gold.build(s, root)
        duck_s = time.perf_counter() - t

        from pinpipe.spark.session import get_spark

        t = time.perf_counter()
        spark = get_spark(s, "pinpipe-bench", local=True)
        session_s = time.perf_counter() - t
        t = time.perf_counter()
        run_spark(spark, s)
        spark_s = time.perf_counter() - t

        t = time.perf_counter()
        differing = differences(duck, s)
        print(f"{events:>9,} events: tables compared row by row in {time.perf_counter() - t:.1f}s")
        duck.close()
        if differing:
            print(f"\nSpark and DuckDB differ at {events:,} events:", file=sys.stderr)
            print("\n".join(differing), file=sys.stderr)
            sys.exit(1)

        more = max(1, events // 100)
        write_landed(s, root, more, seed=2, first=events)
        t = time.perf_counter()
        run_spark(spark, s)
        incremental_s = time.perf_counter() - t
        incremental = snapshot(s)
        t = time.perf_counter()
        run_spark(spark, s, full=True)
        rebuild_s = time.perf_counter() - t
        differing = [
            d
            for name, rows in snapshot(s).items()
            if (d := row_differences(name, incremental[name], rows, ("incremental", "full")))
            is not None
        ]
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
        if differing:
            print(f"\nincremental and full rebuild differ at {events:,} events:", file=sys.stderr)
            print("\n".join(differing), file=sys.stderr)
            sys.exit(1)
        print(
            f"{events:>9,} events: +{more:,} more: incremental run {incremental_s:.1f}s, "
            f"full rebuild {rebuild_s:.1f}s, same tables"
        )
        results.append((events, spark_s, session_s, duck_s, incremental_s, rebuild_s))

    print()
    print(
        f"{'events':>10} {'rows':>10} {'spark s':>9} {'rows/s':>10} {'(+session)':>10} "
        f"{'duckdb s':>9} {'spark/duckdb':>12} {'+1% s':>7} {'+1%/first':>9} {'full s':>7}"
    )
    for events, spark_s, session_s, duck_s, incremental_s, rebuild_s in results:
        rows = events * 3
        print(
            f"{events:>10,} {rows:>10,} {spark_s:>9.1f} {rows / spark_s:>10,.0f} "
            f"{session_s:>10.1f} {duck_s:>9.1f} {spark_s / duck_s:>12.1f}x "
            f"{incremental_s:>7.1f} {incremental_s / spark_s:>9.2f} {rebuild_s:>7.1f}"
        )
    print("(+1%: a run after 1% more events landed; full: the rebuild of every table after it)")


def run_spark(spark: Any, s: Settings, full: bool = False) -> None:
    from pinpipe.spark.batch import analytics, job

    started = time.perf_counter()
    steps = job.clean_tables(spark, s, list(lake.SILVER), full)  # side by side, as the job does
    steps["cleans"] = {"seconds": round(time.perf_counter() - started, 1)}
    steps["gold"] = job.timed(job.run_analytics, spark, s, analytics.YearRanges(), full)
    print("    seconds: " + ", ".join(f"{name} {out['seconds']}" for name, out in steps.items()))


def snapshot(s: Settings) -> dict[str, list[tuple[Any, ...]]]:
    tables = {**SILVER_TABLES, QUARANTINE: QUARANTINE_TABLE, **GOLD_TABLES}
    return {name: delta_rows(s, name, t.column_names) for name, t in tables.items()}


if __name__ == "__main__":
    main()
