"""``pinpipe stream``: the streaming job, in the foreground or beside the sandbox."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from pinpipe import streaming
from pinpipe.config import settings

app = typer.Typer(help="Run the streaming job: Kinesis streams -> cleaned Delta tables.")
console = Console()


@app.command()
def run(
    available_now: Annotated[
        bool, typer.Option("--available-now", help="process what is in the streams, then stop")
    ] = False,
) -> None:
    """Run the streaming job in the foreground (Ctrl-C stops it cleanly)."""
    streaming.run_here(settings(), available_now)


@app.command()
def start() -> None:
    """Start the streaming job in the background, beside the sandbox."""
    s = settings()
    pid = streaming.start(s)
    console.print(f"streaming job running (pid {pid}); log: {streaming.log_file(s)}")


@app.command()
def stop() -> None:
    """Stop the background streaming job (it finishes its current micro-batch)."""
    stopped = streaming.stop(settings())
    console.print("streaming job stopped" if stopped else "the streaming job was not running")


@app.command()
def status() -> None:
    """Whether the background streaming job runs, and the end of its log."""
    s = settings()
    pid = streaming.running_pid(s)
    console.print(f"streaming job: {'running, pid ' + str(pid) if pid else 'not running'}")
    console.print(streaming.log_tail(s, 10), markup=False, highlight=False)
    if pid is None:
        raise typer.Exit(1)
