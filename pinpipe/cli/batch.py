"""``pinpipe batch``: run the batch pipeline here, or through the batch DAG in Airflow."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from pinpipe import batch
from pinpipe.config import load_settings, settings

app = typer.Typer(help="Run the batch pipeline: clean the landed data, compute the gold tables.")
console = Console()


@app.command()
def run(
    step: Annotated[str, typer.Argument(help="all, clean or analytics")] = "all",
    full: Annotated[
        bool, typer.Option("--full", help="read every landed object again and rebuild the tables")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="wait while another run writes the tables, or exit at once"
        ),
    ] = True,
) -> None:
    """Run the Spark batch jobs here, in one Spark session, without Airflow.

    Cleaning reads only what landed since the last run and merges it into the tables; --full
    reads everything again. Another run writing the same tables (the batch DAG) is waited for.
    """
    batch.run_here(settings(), step, full=full, wait_s=None if wait else 0)


@app.command()
def trigger(
    timeout: Annotated[float, typer.Option(help="seconds to wait for the run")] = 1800,
    uid: Annotated[str | None, typer.Option(help="another pipeline user id to run for")] = None,
) -> None:
    """Trigger the batch DAG in the running Airflow and wait for its result."""
    s = load_settings(uid=uid) if uid else settings()
    with console.status("waiting for Airflow") as spinner:

        def started(run_id: str) -> None:
            console.print(f"triggered {batch.DAG_ID} run {run_id}; UI: {batch.dag_url(s)}")

        def show(states: dict[str, str | None]) -> None:
            spinner.update(", ".join(f"{t}: {st or 'waiting'}" for t, st in states.items()))

        done = batch.trigger(s, timeout, on_started=started, on_poll=show)
    for task_id, task_state in done.task_states.items():
        console.print(f"  {task_id}: {task_state}")
    console.print(f"[green]{batch.DAG_ID} succeeded[/]")
