"""``pinpipe demo``: the whole pipeline, step by step, ending in the report.

Every step is timed and recorded in ``state/demo/last-run.json`` (the report shows it); a step
that fails stops the demo with the step's name, where its log is, and what to try.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import PinpipeError

console = Console()


@dataclass
class DemoOptions:
    rows: int = 11_000  # generated source rows per table
    source_dir: Path | None = None  # load these files instead of generating
    stream_events: int = 300
    batch_size: int = 100
    seed: int = 0


@dataclass
class Step:
    name: str
    what: str
    log: str  # where to look when it fails
    hint: str  # what to try when it fails
    action: Callable[[], str]  # returns a one-line result


@dataclass
class StepResult:
    name: str
    seconds: float
    ok: bool
    detail: str = ""


@dataclass
class DemoRun:
    started_at: str
    options: dict[str, Any]
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    ok: bool = False
    failed_step: str | None = None
    report: str | None = None


class DemoFailed(PinpipeError):
    pass


def run_file(s: Settings) -> Path:
    return s.state_dir / "demo" / "last-run.json"


def report_file(s: Settings) -> Path:
    return s.state_dir / "report" / "pinpipe-report.html"


def _save(s: Settings, run: DemoRun) -> None:
    path = run_file(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(run), indent=2, default=str))


# --- the steps -------------------------------------------------------------------------------


def start_sandbox(s: Settings) -> str:
    from pinpipe.sandbox import stack

    with console.status("starting the stack") as spinner:
        result = stack.up(s, progress=lambda msg: spinner.update(msg))
    return f"stack healthy in {result.seconds:.0f}s; API {result.api_url}"


def source_fingerprint(s: Settings, o: DemoOptions) -> dict[str, Any]:
    if o.source_dir is not None:
        return {"db": s.source_db_url, "dir": str(o.source_dir.resolve())}
    return {"db": s.source_db_url, "generated_rows": o.rows, "seed": o.seed}


def create_source(s: Settings, o: DemoOptions) -> str:
    """Generate (or load) the source database, unless it already holds this very source."""
    from pinpipe import cli_emulate, cli_source
    from pinpipe.source import db

    marker = s.state_dir / "demo" / "source.json"
    wanted = source_fingerprint(s, o)
    engine = db.connect(s.source_db_url)
    try:
        db.ensure_tables(engine)
        rows = db.count_rows(engine, db.SOURCE_TABLES[0])
    except db.SourceError:  # no tables yet
        rows = 0
    if marker.exists() and json.loads(marker.read_text()) == wanted and rows:
        return f"unchanged: {rows:,} rows per table in {s.source_db_url}"
    if marker.exists() and cli_emulate.checkpoint_file(s, "batch").exists():
        raise DemoFailed(
            f"the source differs from the previous demo's ({marker.read_text().strip()}), and "
            "the lake holds that one's events: use the same DEMO_ROWS / DEMO_SOURCE, or start "
            "from an empty lake with `make down && make reset`"
        )
    if o.source_dir is not None:
        cli_source.load(from_dir=o.source_dir, db=None, replace=True)
    else:
        cli_source.generate(rows=o.rows, seed=o.seed, db=None, replace=True)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(wanted))
    return f"{db.count_rows(engine, db.SOURCE_TABLES[0]):,} rows per table"


def emulate(s: Settings, path: str, o: DemoOptions) -> str:
    """Send the source rows through one path of the API gateway, resuming after earlier runs."""
    from pinpipe import cli_emulate

    count = o.stream_events if path == "stream" else None
    batch_size = 25 if path == "stream" else o.batch_size
    resume = cli_emulate.checkpoint_file(s, path).exists()
    try:
        sent = cli_emulate._run(
            path, count=count, duration=None, rate=0.0, batch_size=batch_size, seed=None,
            all_rows=True, resume=resume, profile=None, api_url=None, db_url=None,
        )  # fmt: skip
    except typer.Exit as e:
        if e.exit_code:
            raise DemoFailed(f"some {path} events could not be delivered") from e
    return f"{sent.events:,} events sent" + (" (after those sent before)" if resume else "")


def wait_for_landing(s: Settings) -> str:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pinpipe import landing

    with Progress(TextColumn("[bold]landing[/]"), BarColumn(), MofNCompleteColumn(),
                  console=console) as progress:  # fmt: skip
        task = progress.add_task("landing", total=None)

        def show(landed: dict[str, int], ends: dict[str, int]) -> None:
            progress.update(task, total=sum(ends.values()), completed=sum(landed.values()))

        ends = landing.wait_until_landed(s, timeout=600, on_poll=show)
    return ", ".join(f"{t}: {n:,}" for t, n in ends.items()) + " records in the lake"


def run_batch_dag(s: Settings) -> str:
    from pinpipe import cli_batch

    cli_batch.trigger(timeout=3600, uid=s.uid)
    return f"{cli_batch.DAG_ID} succeeded"


def catch_up_streaming(s: Settings) -> str:
    from pinpipe.sandbox import runner

    if runner.running_pid(s, "streaming") is not None:
        return "the background streaming job is running and keeps the tables current"
    log = s.logs_dir / "demo-streaming.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out, console.status("streaming job: catching up with the streams"):
        done = subprocess.run(
            [sys.executable, "-m", "pinpipe.spark.streaming.job", "--available-now"],
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=1800,
        )
    if done.returncode != 0:
        raise DemoFailed(f"the streaming job exited with {done.returncode}")
    processed = [ln for ln in log.read_text(errors="replace").splitlines() if "processed" in ln]
    return processed[-1] if processed else "done"


def write_report(s: Settings, run: DemoRun) -> str:
    """Write the report, with this run's timings so far; fail if a gold table is empty."""
    from pinpipe.report import figures, render

    data = figures.collect(s)
    data.run = asdict(run)
    empty = [name for name, rows in data.gold.items() if not rows]
    out = render.write(data, report_file(s))
    if empty:
        raise DemoFailed(f"gold tables without rows: {', '.join(empty)} (report: {out})")
    return str(out)


# --- the run ---------------------------------------------------------------------------------


def steps(s: Settings, o: DemoOptions, record: DemoRun) -> list[Step]:
    logs = str(s.logs_dir)
    airflow_logs = str(s.state_dir / "airflow" / "logs")
    source = str(o.source_dir) if o.source_dir else f"{o.rows:,} generated rows per table"
    return [
        Step("sandbox", "start the sandbox", f"{logs}/<service>.log",
             "`pinpipe status` shows which service is unhealthy; `pinpipe logs` tails each log",
             lambda: start_sandbox(s)),
        Step("source", f"create the source database ({source})", "the output above",
             "check DEMO_SOURCE points at a folder with the three tables' files",
             lambda: create_source(s, o)),
        Step("emulate batch", "send every source row through the batch path (API -> Kafka)",
             f"{s.state_dir}/emulator/dead-letter-batch.jsonl",
             "`pinpipe status`: is the rest-proxy healthy? resend with "
             "`pinpipe emulate batch --all --resume`",
             lambda: emulate(s, "batch", o)),
        Step("emulate stream", f"send {o.stream_events} events through the stream path "
             "(API -> Kinesis)", f"{s.state_dir}/emulator/dead-letter-stream.jsonl",
             "`pinpipe status`: is localstack healthy?", lambda: emulate(s, "stream", o)),
        Step("landing", "wait for the S3 sink to land every Kafka record", f"{logs}/connect.log",
             f"connector status: {s.endpoints.kafka_connect}/connectors/{s.connector_name}/status",
             lambda: wait_for_landing(s)),
        Step("batch DAG", "run the batch DAG in Airflow (clean, then the gold tables)",
             airflow_logs, f"open {s.endpoints.airflow}/dags/pinpipe_batch (login: pinpipe status)",
             lambda: run_batch_dag(s)),
        Step("streaming", "run the streaming job until it has caught up",
             f"{logs}/demo-streaming.log", "run it in the foreground: `pinpipe stream run "
             "--available-now`", lambda: catch_up_streaming(s)),
        Step("report", "write the report", "the message above",
             "`pinpipe report` rewrites it from the lake", lambda: write_report(s, record)),
    ]  # fmt: skip


def run(s: Settings, o: DemoOptions) -> DemoRun:
    record = DemoRun(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        options={k: str(v) for k, v in asdict(o).items()},
    )
    plan = steps(s, o, record)
    t0 = time.monotonic()
    for i, step in enumerate(plan, 1):
        console.rule(f"[bold][{i}/{len(plan)}] {step.what}")
        t = time.monotonic()
        try:
            detail = step.action()
        except (Exception, typer.Exit) as e:
            record.steps.append(StepResult(step.name, time.monotonic() - t, False, str(e)))
            record.seconds = time.monotonic() - t0
            record.failed_step = step.name
            _save(s, record)
            raise DemoFailed(
                f"step {i} ({step.name}) failed: {e}\n  log:  {step.log}\n  hint: {step.hint}"
            ) from e
        record.steps.append(StepResult(step.name, time.monotonic() - t, True, detail))
        record.seconds = time.monotonic() - t0
        _save(s, record)
        console.print(f"[green]✓[/] {step.name} in {time.monotonic() - t:.1f}s: {detail}")
    record.ok = True
    record.report = str(report_file(s))
    _save(s, record)
    return record
