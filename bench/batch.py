"""Benchmark of the batch job: Spark (the pipeline's own job code) against a single-node engine
(DuckDB) computing the same gold tables from the same landed files, measured in the same run.

    python -m bench.batch            # 100k and 1M events (BENCH_EVENTS=100000,1000000)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from pinpipe.config import load_settings
from pinpipe.spark import lake


def main() -> None:
    sizes = [int(n) for n in os.environ.get("BENCH_EVENTS", "100000,1000000").split(",")]
    results = []
    for events in sizes:
        root = Path(tempfile.mkdtemp(prefix=f"pinpipe-bench-{events}-"))
        s = load_settings(lake_uri=f"file://{root}")
        from bench.landed_files import write_landed

        t = time.perf_counter()
        write_landed(s, root, events)
        print(f"{events:>9,} events: generated and landed in {time.perf_counter() - t:.1f}s")

        from bench import duckdb_gold

        t = time.perf_counter()
        duck_counts = duckdb_gold.gold_tables(s, root)
        duck_s = time.perf_counter() - t

        from pinpipe.spark.batch import analytics, job
        from pinpipe.spark.session import get_spark

        t = time.perf_counter()
        spark = get_spark(s, "pinpipe-bench")
        session_s = time.perf_counter() - t
        t = time.perf_counter()
        for table in lake.SILVER:
            job.clean_table(spark, s, table)
        spark_counts = job.run_analytics(spark, s, analytics.YearRanges())
        spark_s = time.perf_counter() - t
        spark.stop()
        same = spark_counts == duck_counts
        results.append((events, spark_s, session_s, duck_s, same))
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(
        f"{'events':>10} {'rows':>10} {'spark s':>9} {'rows/s':>10} {'(+session)':>10} "
        f"{'duckdb s':>9} {'spark/duckdb':>12} {'same counts':>11}"
    )
    for events, spark_s, session_s, duck_s, same in results:
        rows = events * 3
        print(
            f"{events:>10,} {rows:>10,} {spark_s:>9.1f} {rows / spark_s:>10,.0f} "
            f"{session_s:>10.1f} {duck_s:>9.1f} {spark_s / duck_s:>12.1f}x {same!s:>11}"
        )


if __name__ == "__main__":
    main()
