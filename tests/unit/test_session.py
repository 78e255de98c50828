"""Which Spark session a job gets: on a Databricks cluster, always the cluster's own."""

from __future__ import annotations

from typing import Any

import pytest

from pinpipe.config import load_settings
from pinpipe.spark import session

pytestmark = pytest.mark.unit


class FakeBuilder:
    def __init__(self) -> None:
        self.configured: list[str] = []
        self.created = 0

    def config(self, key: str, value: str) -> FakeBuilder:
        self.configured.append(key)
        return self

    def appName(self, name: str) -> FakeBuilder:
        return self

    def remote(self, url: str) -> FakeBuilder:
        self.configured.append("remote")
        return self

    def getOrCreate(self) -> str:
        self.created += 1
        return "the cluster's session"


def test_on_a_databricks_cluster_the_job_takes_the_clusters_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pyspark.sql import SparkSession

    builder = FakeBuilder()
    monkeypatch.setattr(SparkSession, "builder", builder)
    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setenv(session.DATABRICKS_RUNTIME_VARIABLE, "17.3")
    # Not the sandbox's Connect server, no local master or jars: the runtime's own session.
    got: Any = session.get_spark(load_settings(profile="aws"), local=True)
    assert got == "the cluster's session"
    assert builder.created == 1 and builder.configured == []
