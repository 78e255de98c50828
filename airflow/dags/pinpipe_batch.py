"""The daily batch pipeline: landed data -> silver tables -> gold tables -> run summary.

Where the Spark steps run (this machine, or a Databricks job) is the profile's choice
(``batch.runner``): see ``pinpipe/orchestration.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import chain, dag, task

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(minutes=1), "owner": "pinpipe"}


# A run may name another pipeline user: trigger with conf {"uid": "..."}.
UID = "{{ (dag_run.conf or {}).get('uid', '') }}"
# When the run was due: the end of a scheduled run's data interval, the time a manual run was
# asked for. A run cleans what had landed by then and its summary is saved under it: a run that
# starts late, or is cleared and runs again, leaves what landed after it was due to the next run.
DUE = "{{ dag_run.run_after.isoformat() }}"


def _settings(uid: str = ""):  # type: ignore[no-untyped-def]
    from pinpipe.config import load_settings

    return load_settings(**({"uid": uid} if uid else {}))


def _landed_everywhere(uid: str) -> bool:
    """True when each of the three topics has at least one object in the lake."""

    from pinpipe.aws_access import aws_client

    s = _settings(uid)
    s3 = aws_client(s, "s3")
    for topic in s.topics.values():
        found = s3.list_objects_v2(Bucket=s.bucket, Prefix=f"topics/{topic}/", MaxKeys=1)
        if not found.get("KeyCount"):
            print(f"nothing landed yet for {topic}")
            return False
    return True


@dag(
    dag_id="pinpipe_batch",
    description="Clean the landed pin, geo and user data and compute the gold tables",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # Starting the stack does not start a run: the first one is asked for (`pinpipe batch
    # trigger`, `make demo`, or unpausing it in the UI), and daily runs follow from there.
    is_paused_upon_creation=True,
    default_args=DEFAULT_ARGS,
    tags=["pinpipe", "batch"],
)
def pinpipe_batch() -> None:
    from airflow.providers.standard.sensors.python import PythonSensor

    from pinpipe.contract import TABLES
    from pinpipe.orchestration import databricks_batch_job, spark_step

    s = _settings()
    wait = PythonSensor(
        task_id="check_landed_data",
        python_callable=_landed_everywhere,
        op_kwargs={"uid": UID},
        poke_interval=10,
        timeout=120,
        mode="reschedule",
        soft_fail=True,  # nothing landed: the run is skipped, not failed, and frees the queue
    )

    @task(task_id="publish_run_summary")
    # Not named run_id: Airflow 3.0 gives context-named parameters a default, which would
    # put a parameter with a default before one without.
    def publish_run_summary(dag_run_id: str, due: str, uid: str) -> dict[str, object]:
        from pinpipe.batch_summary import publish

        return publish(_settings(uid), dag_run_id, due)

    summary = publish_run_summary(dag_run_id="{{ run_id }}", due=DUE, uid=UID)
    if s.batch.runner == "databricks":
        # The same steps, as the tasks of one Databricks job (pinpipe.aws.databricks.jobs).
        wait >> databricks_batch_job(s, uid=UID, landed_before=DUE) >> summary
        return
    years = ["--post-years", s.batch.post_years, "--join-years", s.batch.join_years]
    clean = [
        spark_step(s, f"clean_{t}", ["clean", "--table", t, "--landed-before", DUE, "--uid", UID])
        for t in TABLES
    ]
    gold = spark_step(s, "analytics", ["analytics", *years, "--uid", UID])
    if s.endpoints.spark_connect:
        wait >> clean >> gold >> summary  # one shared Spark: the three tables are cleaned at once
    else:
        chain(wait, *clean, gold, summary)  # a Spark JVM per step: one at a time fits a laptop


pinpipe_batch()
