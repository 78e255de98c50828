"""The streaming path end to end: emulator -> API Gateway -> Kinesis -> the Spark streaming job
-> Delta tables holding exactly the cleaned source rows. (A killed job: tests/faults/.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.expected import expected_silver
from tests.e2e.pipelines import Pipeline, streaming_rows

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_streamed_posts_land_in_the_delta_tables_exactly_once(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.db'}"
    pipeline.ok("source", "generate", "--rows", "150", "--seed", "31", "--db", source)
    pipeline.ok("emulate", "stream", "--all", "--batch-size", "25", "--db", source)
    out = pipeline.ok("stream", "run", "--available-now", timeout=900)
    assert "processed" in out
    assert streaming_rows(pipeline) == expected_silver(source)
