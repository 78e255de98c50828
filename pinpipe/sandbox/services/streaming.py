"""The Spark Structured Streaming job (Kinesis -> Delta), started on demand, stopped by `down`.

Durability: its progress is its checkpoints and Delta commits in the lake; a killed job resumes
from the last committed micro-batch, and its Delta merges make a replayed batch a no-op.
"""

from __future__ import annotations

import sys

from pinpipe.sandbox.services.base import Launch, Service

SERVICE = Service(
    name="streaming",
    description="Spark Structured Streaming: Kinesis -> Delta",
    ports=(),
    depends_on=("localstack", "lake"),
    launch=lambda s: Launch([sys.executable, "-m", "pinpipe.spark.streaming.job"]),
    health=None,
    url=lambda s: "",
    optional=True,
    hint="`pinpipe logs streaming` shows the Spark job's log.",
)
