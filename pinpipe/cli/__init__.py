"""The ``pinpipe`` command line: the sandbox's front door.

One module per command group; each command parses its options, calls the stage's API, and
prints the result. No command calls another.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from pinpipe.cli import (
    batch,
    cloud,
    demo,
    emulate,
    report,
    service,
    source,
    stack,
    stream,
    table,
)
from pinpipe.errors import PinpipeError

app = typer.Typer(
    help="pinpipe: run a Pinterest-style data pipeline locally, then on AWS by switching profile.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for command in (stack.up, stack.down, stack.status, stack.logs, stack.reset):
    app.command()(command)
app.command("provision")(stack.provision)
app.command("connector")(stack.connector)
app.command("deploy")(cloud.deploy)
app.command("destroy")(cloud.destroy)
app.command("dist")(cloud.dist)
app.command()(stack.compose)
app.add_typer(service.app, name="service")
app.add_typer(source.app, name="source")
app.add_typer(emulate.app, name="emulate")
app.add_typer(batch.app, name="batch")
app.add_typer(stream.app, name="stream")
app.command("table")(table.table)
app.command("demo")(demo.demo)
app.command("report")(report.report)


def main() -> None:
    try:
        app()
    except PinpipeError as e:
        Console(stderr=True).print(f"[red]error:[/] {e}", highlight=False)
        sys.exit(2)
