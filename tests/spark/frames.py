"""Spark frames built by hand for the Spark tests."""

from __future__ import annotations

import json
from typing import Any


def raw_frame(spark: Any, records: list[Any]) -> Any:
    """A frame of landed records (``source``, ``position``, ``raw``) in delivery order."""
    rows = [
        (f"test:{i}", i, r if isinstance(r, str) else json.dumps(r)) for i, r in enumerate(records)
    ]
    return spark.createDataFrame(rows, "source string, position long, raw string")
