"""Every DAG file imports cleanly and defines what it should (Airflow's loader test)."""

from __future__ import annotations

import pytest

from pinpipe.config import PROJECT_ROOT

pytestmark = pytest.mark.unit


def test_dag_folder_loads_without_errors(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "airflow" / "dags"))
    assert bag.import_errors == {}
    assert "pinpipe_stack_health" in bag.dag_ids
    dag = bag.dags["pinpipe_stack_health"]
    assert dag is not None and not dag.catchup
