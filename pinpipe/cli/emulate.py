"""``pinpipe emulate``: post source rows through the API gateway as users would."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pinpipe.config import load_settings
from pinpipe.services import emulator
from pinpipe.services.emulator import PathName, RunOptions

if TYPE_CHECKING:
    from pinpipe.services.emulator.emulator import RunSummary
    from pinpipe.services.emulator.sender import Counters

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


def _run(options: RunOptions, profile: str | None) -> None:
    s = load_settings(**({"profile": profile} if profile else {}))
    path = options.path
    progress = Progress(
        TextColumn(f"[bold]{path}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress, emulator.stop_on_interrupt() as stop:
        task = progress.add_task(path, total=None, stats="")

        def on_progress(summary: RunSummary, c: Counters) -> None:
            rate_now = summary.events / max(summary.seconds, 1e-9)
            progress.update(
                task,
                total=summary.planned,
                completed=summary.events,
                stats=f"{rate_now:,.1f} events/s  retries {c.retries}  failed {c.dead_records}",
            )

        report = emulator.run(s, options, on_progress, stop)
    summary, c = report.summary, report.counters
    console.print(
        f"{'interrupted: ' if summary.interrupted else ''}sent {summary.events} events "
        f"in {summary.seconds:.1f}s ({report.rate:,.1f} events/s): "
        f"{c.delivered_records} rows acknowledged, {c.dead_records} rows failed; "
        f"{c.requests} requests, {c.retries} retries"
    )
    if summary.interrupted:
        console.print(f"continue with: pinpipe emulate {path} --resume (same --all/--seed)")
    if not report.ok:
        err.print(
            f"[red]{c.dead_records} rows could not be delivered[/]; "
            f"they are in {report.dead_letter_file}"
        )
        raise typer.Exit(1)


def _command(path: PathName, doc: str) -> Callable[..., None]:
    """The ``emulate batch`` and ``emulate stream`` commands: the same options, another path."""

    def command(
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
        options = RunOptions(
            path, count, duration, rate, batch_size, seed, all_rows, resume, api_url, db
        )
        _run(options, profile)

    command.__doc__ = doc
    return command


app.command("batch")(
    _command("batch", "POST events to <api>/topics/<uid>.{pin,geo,user} (Kafka REST proxy v2).")
)
app.command("stream")(
    _command(
        "stream",
        "PUT events to <api>/streams/streaming-<uid>-{pin,geo,user}/record (/records in batches).",
    )
)
