"""``pinpipe table``: print a table the pipeline wrote, for people or for scripts."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pinpipe import tables
from pinpipe.config import settings

console = Console()
err = Console(stderr=True)


def table(
    name: Annotated[
        str, typer.Argument(help="silver (pin, geo, user), gold, quarantine or streaming table")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="every row as a JSON line (all rows unless --limit)")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(help="rows to show (default: 50 in the table view, all with --json)"),
    ] = None,
) -> None:
    """Print a table the pipeline wrote."""
    data = tables.read(settings(), name)
    rows = data.to_pylist()
    if limit is None:
        limit = 0 if as_json else 50
    shown = rows if limit <= 0 else rows[:limit]
    if as_json:
        for row in shown:
            print(json.dumps(row, default=str, ensure_ascii=False))
        if len(shown) < len(rows):
            err.print(f"{name}: printed the first {len(shown)} of {len(rows)} rows (--limit)")
        return
    out = Table(
        title=f"{name}: {len(rows)} rows"
        + (f" (first {len(shown)}; --limit 0 shows all)" if len(shown) < len(rows) else "")
    )
    for col in data.column_names:
        out.add_column(col, overflow="fold")
    for row in shown:
        out.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(out)
