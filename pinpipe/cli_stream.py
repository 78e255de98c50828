"""``pinpipe stream``: the streaming job, in the foreground or beside the sandbox."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from pinpipe.config import settings
from pinpipe.errors import PinpipeError

app = typer.Typer(help="Run the streaming job: Kinesis streams -> cleaned Delta tables.")
console = Console()


@app.command()
def run(
    available_now: Annotated[
        bool, typer.Option("--available-now", help="process what is in the streams, then stop")
    ] = False,
) -> None:
    """Run the streaming job in the foreground (Ctrl-C stops it cleanly)."""
    from pinpipe.spark.streaming import job

    job.main(["--available-now"] if available_now else [])


@app.command()
def start() -> None:
    """Start the streaming job in the background, beside the sandbox."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import STREAMING

    s = settings()
    if runner.running_pid(s, "localstack") is None:
        raise PinpipeError("the sandbox is not running: `make up` first")
    pid = runner.start(s, STREAMING)
    time.sleep(2)
    if runner.running_pid(s, STREAMING.name) is None:
        raise PinpipeError(
            f"the streaming job exited at once:\n{runner.log_tail(s, STREAMING.name)}"
        )
    console.print(f"streaming job running (pid {pid}); log: {runner.log_file(s, STREAMING.name)}")


@app.command()
def stop() -> None:
    """Stop the background streaming job (it finishes its current micro-batch)."""
    from pinpipe.sandbox import runner

    stopped = runner.stop(settings(), "streaming")
    console.print("streaming job stopped" if stopped else "the streaming job was not running")


@app.command()
def status() -> None:
    """Whether the background streaming job runs, and the end of its log."""
    from pinpipe.sandbox import runner

    s = settings()
    pid = runner.running_pid(s, "streaming")
    console.print(f"streaming job: {'running, pid ' + str(pid) if pid else 'not running'}")
    console.print(runner.log_tail(s, "streaming", 10), markup=False, highlight=False)
    if pid is None:
        raise typer.Exit(1)
