"""What a finished streaming query read, for the jobs' summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql.streaming.query import StreamingQuery


def rows_read(query: StreamingQuery) -> int:
    """Records the query has read so far (summed per source: behind Spark Connect a progress
    report carries no total)."""
    return sum(src.numInputRows for p in query.recentProgress for src in p.sources)
