"""Every DAG file imports cleanly and defines what it should (Airflow's loader test)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from pinpipe.config import PROJECT_ROOT

pytestmark = pytest.mark.unit


def load_dags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "airflow" / "dags"))
    assert bag.import_errors == {}
    return bag


def test_dag_folder_loads_without_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bag = load_dags(tmp_path, monkeypatch)
    assert {"pinpipe_stack_health", "pinpipe_batch"} <= set(bag.dag_ids)
    assert not bag.dags["pinpipe_stack_health"].catchup


CLEAN = {"clean_pin", "clean_geo", "clean_user"}


def test_batch_dag_runs_daily_cleaning_the_three_tables_at_once_with_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag = load_dags(tmp_path, monkeypatch).dags["pinpipe_batch"]
    assert dag.schedule == "@daily" or str(dag.timetable.summary) == "@daily"
    assert not dag.catchup and dag.max_active_runs == 1
    assert dag.is_paused_upon_creation  # starting the stack starts no run
    assert dag.get_task("check_landed_data").downstream_task_ids == CLEAN
    assert dag.get_task("analytics").upstream_task_ids == CLEAN
    assert dag.get_task("analytics").downstream_task_ids == {"publish_run_summary"}
    assert all(t.retries == 2 for t in dag.tasks)


def test_without_a_shared_spark_the_steps_run_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PINPIPE_ENDPOINTS__SPARK_CONNECT", "")
    dag = load_dags(tmp_path, monkeypatch).dags["pinpipe_batch"]
    order = [
        "check_landed_data",
        "clean_pin",
        "clean_geo",
        "clean_user",
        "analytics",
        "publish_run_summary",
    ]
    for upstream, downstream in pairwise(order):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    # Each step in a process of its own: its JVM ends with it.
    assert dag.get_task("clean_pin").python_callable.__name__ == "run_local_step"


def test_locally_the_spark_steps_run_the_job_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dag = load_dags(tmp_path, monkeypatch).dags["pinpipe_batch"]
    clean_pin = dag.get_task("clean_pin")
    assert type(clean_pin).__name__ == "PythonOperator"
    assert clean_pin.op_kwargs["args"][:3] == ["clean", "--table", "pin"]
    # A run cleans what had landed when it was due, and its summary is saved under that time.
    clean_args = clean_pin.op_kwargs["args"]
    assert "dag_run.run_after" in clean_args[clean_args.index("--landed-before") + 1]
    due = dag.get_task("publish_run_summary").op_kwargs["due"]
    assert due == clean_args[clean_args.index("--landed-before") + 1]
    assert "--uid" in dag.get_task("analytics").op_kwargs["args"]
    # With the stack's Spark Connect server, in the task's own process: no process start.
    assert clean_pin.python_callable.__name__ == "run_connected_step"


def test_with_the_aws_profile_the_dag_runs_the_databricks_batch_job_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pinpipe.aws.databricks import jobs
    from pinpipe.config import load_settings

    monkeypatch.setenv("PINPIPE_PROFILE", "aws")
    dag = load_dags(tmp_path, monkeypatch).dags["pinpipe_batch"]
    run = dag.get_task("batch_job")
    assert type(run).__name__ == "DatabricksRunNowOperator"
    assert run.job_name == jobs.batch_job_name(load_settings(profile="aws"))
    assert set(run.job_parameters) == {jobs.UID_PARAMETER, jobs.LANDED_BEFORE_PARAMETER}
    assert "dag_run.run_after" in run.job_parameters[jobs.LANDED_BEFORE_PARAMETER]
    assert run.upstream_task_ids == {"check_landed_data"}
    assert run.downstream_task_ids == {"publish_run_summary"}
    assert not CLEAN & set(dag.task_ids)  # the cleans are the Databricks job's own tasks
