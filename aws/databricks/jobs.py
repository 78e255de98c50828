"""The batch and streaming jobs as Databricks Jobs API 2.2 definitions.

They are plain JSON (what ``databricks jobs create --json`` and ``jobs/reset`` take), built from
the settings: ``make dist`` writes them next to the wheel, and ``pinpipe deploy`` creates or
updates the jobs by name. Every task is a ``python_wheel_task`` on the ``pinpipe`` wheel, calling
the same entry points a local run uses.
"""

from __future__ import annotations

from typing import Any

from pinpipe.config import Settings
from pinpipe.contract import TABLES
from pinpipe.errors import ConfigError

PACKAGE = "pinpipe"
BATCH_ENTRY = "pinpipe_batch"
STREAM_ENTRY = "pinpipe_stream"
CLUSTER_KEY = "pinpipe"
UID_PARAMETER = "uid"
LANDED_BEFORE_PARAMETER = "landed_before"  # empty: everything landed so far


def parameter_reference(name: str) -> str:
    """How a task's argument names a job parameter; Databricks puts in its value."""
    return f"{{{{job.parameters.{name}}}}}"


UID_REFERENCE = parameter_reference(UID_PARAMETER)
LANDED_BEFORE_REFERENCE = parameter_reference(LANDED_BEFORE_PARAMETER)


def batch_job_name(s: Settings) -> str:
    return f"pinpipe-batch-{s.uid}"


def streaming_job_name(s: Settings) -> str:
    return f"pinpipe-streaming-{s.uid}"


def wheel_uri(s: Settings, wheel_name: str) -> str:
    return f"{s.databricks.artifacts_path}/{wheel_name}"


def new_cluster(s: Settings) -> dict[str, Any]:
    """A job cluster with access to the lake, as the profile chooses it."""
    d = s.databricks
    cluster: dict[str, Any] = {
        "spark_version": d.spark_version,
        "node_type_id": d.node_type_id,
        "num_workers": d.num_workers,
        "spark_env_vars": {"PINPIPE_PROFILE": s.profile, "PINPIPE_UID": s.uid},
    }
    if d.lake_access == "instance-profile":
        if not d.instance_profile_arn:
            raise ConfigError(
                "databricks.instance_profile_arn (env PINPIPE_DATABRICKS__INSTANCE_PROFILE_ARN): "
                "empty, but databricks.lake_access is instance-profile; give the ARN of an "
                "instance profile registered in the workspace, or set lake_access = "
                '"unity-catalog"'
            )
        cluster["aws_attributes"] = {"instance_profile_arn": d.instance_profile_arn}
    else:
        cluster["data_security_mode"] = "SINGLE_USER"
    return cluster


def _compute(s: Settings) -> dict[str, Any]:
    if s.databricks.existing_cluster_id:
        return {"existing_cluster_id": s.databricks.existing_cluster_id}
    return {"job_cluster_key": CLUSTER_KEY}


def _job_clusters(s: Settings) -> list[dict[str, Any]]:
    if s.databricks.existing_cluster_id:
        return []
    return [{"job_cluster_key": CLUSTER_KEY, "new_cluster": new_cluster(s)}]


def _wheel_task(
    s: Settings, key: str, entry: str, args: list[str], wheel: str, after: list[str]
) -> dict[str, Any]:
    return {
        "task_key": key,
        **_compute(s),
        "depends_on": [{"task_key": k} for k in after],
        "libraries": [{"whl": wheel}],
        "python_wheel_task": {"package_name": PACKAGE, "entry_point": entry, "parameters": args},
    }


def batch_job(s: Settings, wheel_name: str) -> dict[str, Any]:
    """Clean pin, geo and user side by side, then the gold tables: the batch DAG's Spark steps.
    One run at a time, so two runs never write the same tables; a second run queues."""
    wheel = wheel_uri(s, wheel_name)
    uid = ["--uid", UID_REFERENCE]
    bound = ["--landed-before", LANDED_BEFORE_REFERENCE]
    cleans = [
        _wheel_task(s, f"clean_{t}", BATCH_ENTRY, ["clean", "--table", t, *bound, *uid], wheel, [])
        for t in TABLES
    ]
    years = ["--post-years", s.batch.post_years, "--join-years", s.batch.join_years]
    after = [c["task_key"] for c in cleans]
    gold = _wheel_task(s, "analytics", BATCH_ENTRY, ["analytics", *years, *uid], wheel, after)
    return {
        "name": batch_job_name(s),
        "max_concurrent_runs": 1,
        "queue": {"enabled": True},
        "parameters": [
            {"name": UID_PARAMETER, "default": s.uid},
            {"name": LANDED_BEFORE_PARAMETER, "default": ""},
        ],
        "job_clusters": _job_clusters(s),
        "tasks": [*cleans, gold],
        "tags": {"pinpipe": s.uid},
    }


def streaming_job(s: Settings, wheel_name: str) -> dict[str, Any]:
    """The three Kinesis streams into their Delta tables, in one task (one driver runs the three
    queries, as locally), kept running by Databricks."""
    task = _wheel_task(
        s, "stream", STREAM_ENTRY, ["--uid", UID_REFERENCE], wheel_uri(s, wheel_name), []
    )
    return {
        "name": streaming_job_name(s),
        "max_concurrent_runs": 1,
        "continuous": {"pause_status": "UNPAUSED"},
        "parameters": [{"name": UID_PARAMETER, "default": s.uid}],
        "job_clusters": _job_clusters(s),
        "tasks": [task],
        "tags": {"pinpipe": s.uid},
    }


def all_jobs(s: Settings, wheel_name: str) -> list[dict[str, Any]]:
    return [batch_job(s, wheel_name), streaming_job(s, wheel_name)]
