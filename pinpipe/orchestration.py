"""How the batch DAG runs its Spark steps: the one place where local and cloud differ.

Locally each step is ``python -m pinpipe.spark.batch.job <args>`` on this machine; with
``batch.runner = "databricks"`` (the aws profile) the same job file and arguments are submitted
to Databricks with DatabricksSubmitRunOperator.
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
DATABRICKS_ENTRY = (
    "pinpipe_batch_job.py"  # uploaded next to the wheel; calls job.main(sys.argv[1:])
)


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


def spark_step(s: Settings, task_id: str, args: list[str]) -> Any:
    """An Airflow operator that runs ``job.py <args>`` where the configuration says."""
    if s.batch.runner == "databricks":
        from airflow.providers.databricks.operators.databricks import DatabricksSubmitRunOperator

        d = s.databricks
        cluster: dict[str, Any] = (
            {"existing_cluster_id": d.existing_cluster_id}
            if d.existing_cluster_id
            else {
                "new_cluster": {
                    "spark_version": d.spark_version,
                    "node_type_id": d.node_type_id,
                    "num_workers": d.num_workers,
                    "spark_env_vars": {"PINPIPE_PROFILE": s.profile, "PINPIPE_UID": s.uid},
                }
            }
        )
        return DatabricksSubmitRunOperator(
            task_id=task_id,
            databricks_conn_id=d.connection_id,
            spark_python_task={
                "python_file": f"{d.artifacts_path}/{DATABRICKS_ENTRY}",
                "parameters": args,
            },
            libraries=[{"whl": f"{d.artifacts_path}/pinpipe-0.1.0-py3-none-any.whl"}],
            run_name=f"pinpipe-{task_id}",
            **cluster,
        )
    from airflow.providers.standard.operators.python import PythonOperator

    return PythonOperator(task_id=task_id, python_callable=run_local_step, op_kwargs={"args": args})
