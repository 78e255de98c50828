"""``pinpipe source``: create and fill the source database."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pinpipe import source
from pinpipe.config import settings
from pinpipe.source.calibration import ORIGINAL_ROWS

app = typer.Typer(help="Create and fill the source database (pin, geo and user tables).")
console = Console()

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL, e.g. mysql+pymysql://u:p@127.0.0.1/db "
        "(default: setting source_db, else SQLite in the state folder)",
    ),
]
ReplaceOption = Annotated[
    bool, typer.Option("--replace", help="drop and re-create the tables if they exist")
]


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def init(db: DbOption = None, replace: ReplaceOption = False) -> None:
    """Create the three source tables."""
    url = source.init(settings(), db, replace)
    console.print(f"created pinterest_data, geolocation_data, user_data in {url}")


@app.command()
def load(
    from_dir: Annotated[
        Path,
        typer.Option(
            "--from",
            help="folder with pinterest_data, geolocation_data and user_data as .jsonl or .csv",
            exists=True,
            file_okay=False,
        ),
    ],
    db: DbOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Load the three tables from JSONL or CSV files named after them."""
    with _progress() as progress:
        task = progress.add_task("loading rows", total=None, rate="")
        done = source.load(
            settings(), from_dir, db, replace, advance=lambda n: progress.advance(task, n)
        )
    rows = ", ".join(f"{n} {t} rows" for t, n in done.rows.items())
    console.print(f"loaded {rows} into {done.url}")


@app.command()
def generate(
    rows: Annotated[int, typer.Option("--rows", min=0, help="rows per table")] = ORIGINAL_ROWS,
    seed: Annotated[int, typer.Option("--seed", help="same seed, same rows")] = 0,
    db: DbOption = None,
    replace: ReplaceOption = False,
) -> None:
    """Generate realistic rows (calibrated on the original data) into the three tables."""
    t0 = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task("generating", total=rows, rate="")

        def advance(n: int) -> None:
            done = progress.tasks[task].completed + n
            rate = done / max(time.perf_counter() - t0, 1e-9)
            progress.update(task, advance=n, rate=f"{rate:,.0f} rows/s per table")

        done = source.generate(settings(), rows, seed, db, replace, advance=advance)
    written = done.rows["pin"]
    console.print(
        f"generated {written} rows per table (seed {seed}) into {done.url} in "
        f"{done.seconds:.1f}s ({written / max(done.seconds, 1e-9):,.0f} rows/s per table)"
    )
