"""``pinpipe batch`` and ``pinpipe table``: run the batch pipeline and look at its tables."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pinpipe.config import settings
from pinpipe.errors import PinpipeError

app = typer.Typer(help="Run the batch pipeline: clean the landed data, compute the gold tables.")
console = Console()
DAG_ID = "pinpipe_batch"


@app.command()
def run(
    step: Annotated[str, typer.Argument(help="all, clean or analytics")] = "all",
) -> None:
    """Run the Spark batch jobs here, without Airflow."""
    from pinpipe.spark.batch import job

    if step not in ("all", "clean", "analytics"):
        raise PinpipeError(f"unknown step {step!r}: use all, clean or analytics")
    s = settings()
    job.main([step, "--post-years", s.batch.post_years, "--join-years", s.batch.join_years])


@app.command()
def trigger(
    timeout: Annotated[float, typer.Option(help="seconds to wait for the run")] = 1800,
    uid: Annotated[str | None, typer.Option(help="another pipeline user id to run for")] = None,
) -> None:
    """Trigger the batch DAG in the running Airflow and wait for its result."""
    from pinpipe.airflow_client import AirflowClient, AirflowError

    s = settings()
    client = AirflowClient.login(s)
    client.wait_for_dag(DAG_ID)
    run_id = client.trigger(DAG_ID, conf={"uid": uid} if uid else None)
    console.print(f"triggered {DAG_ID} run {run_id}; UI: {s.endpoints.airflow}/dags/{DAG_ID}")
    with console.status("running") as spinner:

        def show(states: dict[str, str | None]) -> None:
            spinner.update(", ".join(f"{t}: {st or 'waiting'}" for t, st in states.items()))

        state = client.wait(DAG_ID, run_id, timeout, on_poll=show)
    states = client.task_states(DAG_ID, run_id)
    for task_id, task_state in states.items():
        console.print(f"  {task_id}: {task_state}")
    if state != "success":
        raise AirflowError(
            f"run {run_id} {state}; task logs are under {s.state_dir / 'airflow' / 'logs'} "
            f"and in the UI"
        )
    console.print(f"[green]{DAG_ID} succeeded[/]")


def table(
    name: Annotated[
        str, typer.Argument(help="silver (pin, geo, user), gold, quarantine or streaming table")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table")] = False,
    limit: Annotated[int, typer.Option(help="rows to show (0 = all)")] = 50,
) -> None:
    """Print a table the pipeline wrote."""
    from pinpipe import tables

    s = settings()
    data = tables.read(s, name)
    rows = data.to_pylist()
    shown = rows if limit <= 0 else rows[:limit]
    if as_json:
        for row in shown:
            print(json.dumps(row, default=str, ensure_ascii=False))
        return
    out = Table(
        title=f"{name}: {len(rows)} rows"
        + (f" (first {len(shown)})" if len(shown) < len(rows) else "")
    )
    for col in data.column_names:
        out.add_column(col, overflow="fold")
    for row in shown:
        out.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(out)
