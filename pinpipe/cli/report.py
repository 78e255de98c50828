"""``pinpipe report``: write the pipeline's report (one self-contained HTML file)."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pinpipe import report as pipeline_report
from pinpipe.config import settings

console = Console()


def report(
    open_it: Annotated[bool, typer.Option("--open", help="open it in the default browser")] = False,
    out: Annotated[Path | None, typer.Option(help="where to write the HTML file")] = None,
) -> None:
    """Write the pipeline's report (one self-contained HTML file) from the lake."""
    with console.status("reading the lake"):
        written = pipeline_report.write(settings(), out)
    for problem in written.problems:
        console.print(f"[yellow]could not read[/] {problem}", highlight=False)
    path = written.path
    console.print(f"wrote {path}\n  file://{path}")
    if open_it and not webbrowser.open(path.as_uri()):
        console.print("no browser found here: open the file:// address above")
