"""How the batch DAG runs its Spark steps: the one place where local and cloud differ.

Locally each step is the batch job (``pinpipe.spark.batch.job <args>``) on this machine: called in
the task's own process when the stack's Spark Connect server does the work (a process start and
its imports cost seconds per step), else in a process of its own, whose JVM ends with it. With
``batch.runner = "databricks"`` (the aws profile) the DAG runs the batch job ``pinpipe deploy``
created in Databricks, whose tasks call the same job with the same arguments.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pinpipe.config import Settings
from pinpipe.errors import JobError

JOB_MODULE = "pinpipe.spark.batch.job"


def run_local_step(args: list[str]) -> dict[str, Any]:
    """Run one job step in its own process (its own JVM); return the step's summary."""
    with tempfile.TemporaryDirectory() as tmp:
        summary_file = Path(tmp) / "summary.json"
        command = [sys.executable, "-m", JOB_MODULE, *args, "--summary-file", str(summary_file)]
        print("running:", " ".join(command), flush=True)
        done = subprocess.run(command, stdout=sys.stdout, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise JobError(f"{' '.join(args)} failed with exit code {done.returncode}")
        return dict(json.loads(summary_file.read_text()))


def run_connected_step(args: list[str]) -> dict[str, Any]:
    """Run one job step in this process, as a client of the Spark Connect server."""
    from pinpipe.spark.batch import job

    print("running:", JOB_MODULE, " ".join(args), flush=True)
    return job.main(args)


def spark_step(s: Settings, task_id: str, args: list[str]) -> Any:
    """An Airflow operator that runs ``job.py <args>`` on this machine."""
    from airflow.providers.standard.operators.python import PythonOperator

    step = run_connected_step if s.endpoints.spark_connect else run_local_step
    return PythonOperator(task_id=task_id, python_callable=step, op_kwargs={"args": args})


def databricks_batch_job(s: Settings, uid: str, landed_before: str) -> Any:
    """An Airflow operator that runs the batch job ``pinpipe deploy`` made in Databricks (its
    clean and gold steps, cleaning what landed before ``landed_before``), found by name, and
    waits for it."""
    from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator

    from pinpipe.aws.databricks import jobs

    return DatabricksRunNowOperator(
        task_id="batch_job",
        databricks_conn_id=s.databricks.connection_id,
        job_name=jobs.batch_job_name(s),
        job_parameters={jobs.UID_PARAMETER: uid, jobs.LANDED_BEFORE_PARAMETER: landed_before},
    )
