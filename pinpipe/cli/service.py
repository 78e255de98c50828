"""``pinpipe service``: run or check one service of the stack (used by both run modes)."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console

from pinpipe.config import settings

app = typer.Typer(help="Run or check one service of the stack (used by both run modes).")
err = Console(stderr=True)


@app.command("run")
def run(name: str) -> None:
    """Prepare one service and replace this process with it (foreground)."""
    from pinpipe.sandbox.services import service_named

    s = settings()
    sv = service_named(name)
    if sv.prepare:
        sv.prepare(s)
    launch = sv.launch(s)
    sys.stdout.flush()
    os.execvpe(launch.argv[0], launch.argv, {**os.environ, **launch.env})


@app.command("health")
def health(name: str) -> None:
    """Exit 0 if the service is healthy, 1 otherwise (used as a container health check)."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import service_named

    result = runner.check_health(settings(), service_named(name))
    if not result.ok:
        err.print(result.detail)
        raise typer.Exit(1)
