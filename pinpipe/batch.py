"""The batch stage's API: run the Spark batch steps here, or trigger the batch DAG in Airflow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError

DAG_ID = "pinpipe_batch"
STEPS = ("all", "clean", "analytics")


class BatchFailed(PinpipeError):
    """A batch run ended in a state other than success."""


@dataclass(frozen=True)
class DagRun:
    run_id: str
    state: str
    task_states: dict[str, str | None]
    url: str  # the DAG's page in the Airflow UI


def run_here(
    s: Settings, step: str = "all", full: bool = False, wait_s: float | None = None
) -> dict[str, Any]:
    """Run the batch steps in one Spark session in this process; returns the job's summary.
    ``full`` rebuilds from every landed object; ``wait_s`` bounds the wait for another run."""
    from pinpipe.spark.batch import job

    if step not in STEPS:
        raise PinpipeError(f"unknown step {step!r}: use {', '.join(STEPS)}")
    args = [step, "--post-years", s.batch.post_years, "--join-years", s.batch.join_years]
    args += ["--full"] if full else []
    args += ["--wait", str(wait_s)] if wait_s is not None else []
    return job.main([*args, "--uid", s.uid])


def trigger(
    s: Settings,
    timeout: float = 1800,
    on_started: Callable[[str], None] = lambda _: None,
    on_poll: Callable[[dict[str, str | None]], None] = lambda _: None,
) -> DagRun:
    """Trigger the batch DAG for the settings' uid and wait for it; raises if it fails."""
    from pinpipe.airflow_client import AirflowClient

    client = AirflowClient.login(s)
    client.wait_for_dag(DAG_ID)
    run_id = client.trigger(DAG_ID, conf={"uid": s.uid})
    on_started(run_id)
    state = client.wait(DAG_ID, run_id, timeout, on_poll=on_poll)
    run = DagRun(run_id, state, client.task_states(DAG_ID, run_id), dag_url(s))
    if state != "success":
        tasks = ", ".join(f"{t}: {st}" for t, st in run.task_states.items())
        raise BatchFailed(
            f"{DAG_ID} run {run_id} {state} ({tasks}); task logs are under "
            f"{s.state_dir / 'airflow' / 'logs'} and at {run.url}"
        )
    return run


def dag_url(s: Settings) -> str:
    return f"{s.endpoints.airflow}/dags/{DAG_ID}"
