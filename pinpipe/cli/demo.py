"""``pinpipe demo``: the whole pipeline in one command, ending in its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pinpipe.config import settings

console = Console()


def demo(
    rows: Annotated[int, typer.Option(min=1, help="generated source rows per table")] = 11_000,
    source: Annotated[
        Path | None,
        typer.Option(
            "--source",
            help="load the source tables from this folder (JSONL/CSV) instead of generating",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    stream_events: Annotated[
        int, typer.Option(min=1, help="events sent through the streaming path")
    ] = 300,
) -> None:
    """Start the sandbox and run the pipeline end to end: source database, events through both
    paths, the batch DAG in Airflow, the streaming job; then write the report. The stack keeps
    running. Running it again sends only what is new."""
    from pinpipe import demo as pipeline_demo
    from pinpipe.sandbox.services.airflow import admin_password

    s = settings()
    options = pipeline_demo.DemoOptions(rows=rows, source_dir=source, stream_events=stream_events)
    record = pipeline_demo.run(s, options)
    console.rule("[bold green]done")
    for step in record.steps:
        console.print(f"  {step.name:<16} {step.seconds:>7.1f}s")
    console.print(f"  {'total':<16} {record.seconds:>7.1f}s")
    console.print(f"\nReport:     {record.report}\n            file://{record.report}")
    console.print(
        f"Airflow UI: {s.endpoints.airflow}  (login {s.airflow.username} / {admin_password(s)})"
    )
    console.print("The stack keeps running: `make down` stops it.")
