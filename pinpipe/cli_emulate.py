"""``pinpipe emulate``: post source rows through the API gateway as users would."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pinpipe.config import Settings, load_settings
from pinpipe.errors import PinpipeError

if TYPE_CHECKING:
    from pinpipe.services.emulator.emulator import RunSummary

app = typer.Typer(help="Post source rows through the API gateway, as users posting would.")
console = Console()
err = Console(stderr=True)

Count = Annotated[
    int | None,
    typer.Option("--count", min=1, help="events to send (pin+geo+user rows of one post)"),
]
Duration = Annotated[
    float | None, typer.Option("--duration", min=0, help="stop after this many seconds")
]
Rate = Annotated[
    float, typer.Option("--rate", min=0, help="events per second; 0 = as fast as possible")
]
BatchSize = Annotated[int, typer.Option("--batch-size", min=1, max=500, help="rows per request")]
Seed = Annotated[
    int | None, typer.Option("--seed", help="seed of the random row draws (with replacement)")
]
AllRows = Annotated[
    bool, typer.Option("--all", help="every source row exactly once, in index order")
]
Resume = Annotated[
    bool, typer.Option("--resume", help="continue after the last event an earlier run delivered")
]
Profile = Annotated[
    str | None, typer.Option("--profile", help="local or aws (default: the configured profile)")
]
ApiUrl = Annotated[
    str | None, typer.Option("--api-url", help="API invoke URL with stage (default: looked up)")
]
Db = Annotated[
    str | None, typer.Option("--db", help="source database URL (default: the configured one)")
]


def checkpoint_file(s: Settings, path: str) -> Path:
    """Where a path's progress is kept, per pipeline user (each has its own topics/streams)."""
    return s.state_dir / "emulator" / s.uid / f"checkpoint-{path}.json"


def _run(
    path: str,
    count: int | None,
    duration: float | None,
    rate: float,
    batch_size: int,
    seed: int | None,
    all_rows: bool,
    resume: bool,
    profile: str | None,
    api_url: str | None,
    db_url: str | None,
) -> RunSummary:
    from pinpipe.aws.provision import api_url as deployed_api_url
    from pinpipe.services.emulator.emulator import Emulator, EmulatorOptions, stop_on
    from pinpipe.services.emulator.sender import Sender
    from pinpipe.source import db

    s: Settings = load_settings(**({"profile": profile} if profile else {}))
    if all_rows and seed is not None:
        raise PinpipeError("--all sends every row in order; it takes no --seed")
    url = api_url or deployed_api_url(s)
    if not url:
        raise PinpipeError(
            "no deployed API found: start the stack with `make up` (or pass --api-url)"
        )
    engine = db.connect(db_url or s.source_db_url)
    db.ensure_tables(engine)
    total_rows = db.count_rows(engine, db.SOURCE_TABLES[0])
    if total_rows == 0:
        raise PinpipeError(
            "the source database is empty: run `pinpipe source generate` or `load` first"
        )
    if count is None and duration is None and not all_rows:
        count = 100
    run_dir = s.state_dir / "emulator"
    sender = Sender(dead_letter_file=run_dir / f"dead-letter-{path}.jsonl")
    options = EmulatorOptions(
        path=path,  # type: ignore[arg-type]
        api_url=url,
        count=count,
        duration_s=duration,
        rate=rate,
        batch_size=batch_size,
        seed=seed,
        all_rows=all_rows,
        resume=resume,
    )
    total = count if count is not None else (total_rows if all_rows else None)
    progress = Progress(
        TextColumn(f"[bold]{path}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(path, total=total, stats="")

        def on_progress(summary: RunSummary) -> None:
            c = sender.counters
            rate_now = summary.events / max(summary.seconds, 1e-9)
            progress.update(
                task,
                completed=summary.events,
                stats=f"{rate_now:,.1f} events/s  retries {c.retries}  failed {c.dead_records}",
            )

        emulator = Emulator(s, engine, options, checkpoint_file(s, path), sender, on_progress)
        previous = signal.signal(signal.SIGINT, stop_on(sender.stop))
        try:
            summary = emulator.run()
        finally:
            signal.signal(signal.SIGINT, previous)
    c = sender.counters
    console.print(
        f"{'interrupted: ' if summary.interrupted else ''}sent {summary.events} events "
        f"in {summary.seconds:.1f}s ({summary.events / max(summary.seconds, 1e-9):,.1f} "
        f"events/s): {c.delivered_records} rows acknowledged, {c.dead_records} rows failed; "
        f"{c.requests} requests, {c.retries} retries"
    )
    if summary.interrupted:
        console.print(f"continue with: pinpipe emulate {path} --resume (same --all/--seed)")
    if c.dead_records:
        err.print(
            f"[red]{c.dead_records} rows could not be delivered[/]; "
            f"they are in {sender.dead_letter_file}"
        )
        raise typer.Exit(1)
    return summary


@app.command()
def batch(
    count: Count = None,
    duration: Duration = None,
    rate: Rate = 0.0,
    batch_size: BatchSize = 1,
    seed: Seed = None,
    all_rows: AllRows = False,
    resume: Resume = False,
    profile: Profile = None,
    api_url: ApiUrl = None,
    db: Db = None,
) -> None:
    """POST events to <api>/topics/<uid>.{pin,geo,user} (Kafka REST proxy v2 format)."""
    _run("batch", count, duration, rate, batch_size, seed, all_rows, resume, profile, api_url, db)


@app.command()
def stream(
    count: Count = None,
    duration: Duration = None,
    rate: Rate = 0.0,
    batch_size: BatchSize = 1,
    seed: Seed = None,
    all_rows: AllRows = False,
    resume: Resume = False,
    profile: Profile = None,
    api_url: ApiUrl = None,
    db: Db = None,
) -> None:
    """PUT events to <api>/streams/streaming-<uid>-{pin,geo,user}/record (/records in batches)."""
    _run("stream", count, duration, rate, batch_size, seed, all_rows, resume, profile, api_url, db)
