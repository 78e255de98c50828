from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pinpipe.config import load_settings


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (with Delta) for every Spark test."""
    os.environ["TZ"] = "UTC"  # collected timestamps are converted with the process's zone
    time.tzset()
    from pinpipe.spark.session import get_spark

    session = get_spark(load_settings(), "pinpipe-tests")
    yield session
    session.stop()


def raw_frame(spark: Any, records: list[Any]) -> Any:
    """A frame of landed records (``source``, ``position``, ``raw``) in delivery order."""
    rows = [
        (f"test:{i}", i, r if isinstance(r, str) else json.dumps(r)) for i, r in enumerate(records)
    ]
    return spark.createDataFrame(rows, "source string, position long, raw string")
