"""``pinpipe demo``: the whole pipeline, step by step, ending in the report.

Every step is timed and recorded in ``state/demo/last-run.json`` (the report shows it); a step
that fails stops the demo with the step's name, where its log is, and what to try.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from pinpipe import streaming
from pinpipe.config import Settings
from pinpipe.errors import PinpipeError
from pinpipe.services.emulator import PathName

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


def _save(s: Settings, run: DemoRun) -> None:
    path = run_file(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(run), indent=2, default=str))


# --- the steps -------------------------------------------------------------------------------


def start_sandbox(s: Settings) -> str:
    from pinpipe.sandbox import stack

    with console.status("starting the stack") as spinner:
        result = stack.up(s, progress=lambda msg: spinner.update(msg))
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    return f"stack healthy in {result.seconds:.0f}s; API {result.api_url}"


def source_fingerprint(s: Settings, o: DemoOptions) -> dict[str, Any]:
    if o.source_dir is not None:
        return {"db": s.source_db_url, "dir": str(o.source_dir.resolve())}
    return {"db": s.source_db_url, "generated_rows": o.rows, "seed": o.seed}


def create_source(s: Settings, o: DemoOptions) -> str:
    """Generate (or load) the source database, unless it already holds this very source."""
    from pinpipe import source
    from pinpipe.services import emulator

    marker = s.state_dir / "demo" / "source.json"
    wanted = source_fingerprint(s, o)
    rows = source.row_count(s)
    if marker.exists() and json.loads(marker.read_text()) == wanted and rows:
        return f"unchanged: {rows:,} rows per table in {s.source_db_url}"
    if marker.exists() and emulator.checkpoint_file(s, "batch").exists():
        raise DemoFailed(
            f"the source differs from the previous demo's ({marker.read_text().strip()}), and "
            "the lake holds that one's events: use the same DEMO_ROWS / DEMO_SOURCE, or start "
            "from an empty lake with `make down && make reset`"
        )
    with _bar("source rows", None if o.source_dir else o.rows) as advance:
        if o.source_dir is not None:
            done = source.load(s, o.source_dir, replace=True, advance=advance)
        else:
            done = source.generate(s, o.rows, o.seed, replace=True, advance=advance)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(wanted))
    return f"{done.rows['pin']:,} rows per table"


def emulate(s: Settings, path: PathName, o: DemoOptions) -> str:
    """Send the source rows through one path of the API gateway, resuming after earlier runs."""
    from pinpipe.services import emulator

    resume = emulator.checkpoint_file(s, path).exists()
    options = emulator.RunOptions(
        path,
        count=o.stream_events if path == "stream" else None,
        batch_size=25 if path == "stream" else o.batch_size,
        all_rows=True,
        resume=resume,
    )
    with Progress(TextColumn(f"[bold]{path}[/]"), BarColumn(), MofNCompleteColumn(),
                  console=console) as progress, emulator.stop_on_interrupt() as stop:  # fmt: skip
        task = progress.add_task(path, total=None)
        report = emulator.run(
            s,
            options,
            lambda summary, _: progress.update(
                task, total=summary.planned, completed=summary.events
            ),
            stop,
        )
    if report.summary.interrupted:
        raise DemoFailed(f"interrupted; `pinpipe emulate {path} --all --resume` continues")
    if not report.ok:
        raise DemoFailed(
            f"{report.counters.dead_records} {path} rows could not be delivered; "
            f"they are in {report.dead_letter_file}"
        )
    sent = report.summary.events
    return f"{sent:,} events sent" + (" (after those sent before)" if resume else "")


def wait_for_landing(s: Settings) -> str:
    from pinpipe import landing

    with Progress(TextColumn("[bold]landing[/]"), BarColumn(), MofNCompleteColumn(),
                  console=console) as progress:  # fmt: skip
        task = progress.add_task("landing", total=None)

        def show(landed: dict[str, int], ends: dict[str, int]) -> None:
            progress.update(task, total=sum(ends.values()), completed=sum(landed.values()))

        ends = landing.wait_until_landed(s, timeout=600, on_poll=show)
    return ", ".join(f"{t}: {n:,}" for t, n in ends.items()) + " records in the lake"


def run_batch_dag(s: Settings) -> str:
    from pinpipe import batch

    with console.status("waiting for Airflow") as spinner:

        def show(states: dict[str, str | None]) -> None:
            spinner.update(", ".join(f"{t}: {st or 'waiting'}" for t, st in states.items()))

        done = batch.trigger(s, timeout=3600, on_poll=show)
    return f"{batch.DAG_ID} run {done.run_id} succeeded"


BACKGROUND_JOB_RUNS = "the background streaming job is running and keeps the tables current"


class StreamingCatchUp:
    """The streaming job catching up in the background while the batch path runs: the two
    paths share no table, and most of the batch DAG's time is waiting on Airflow."""

    def __init__(self) -> None:
        self.job: streaming.CatchUpJob | None = None

    def start(self, s: Settings) -> str:
        if streaming.running_pid(s) is not None:
            return BACKGROUND_JOB_RUNS
        self.job = streaming.CatchUpJob(s)
        return f"started; it logs to {self.job.log}"

    def wait(self) -> str:
        if self.job is None:
            return BACKGROUND_JOB_RUNS
        with console.status("streaming job: catching up with the streams"):
            done = self.job.wait()
        return f"processed {done.records} records" if done.records is not None else "done"

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()


def write_report(s: Settings, run: DemoRun) -> str:
    """Write the report, with this run's timings so far; fail if a gold table is empty."""
    from pinpipe import report

    written = report.write(s, run=asdict(run))
    if written.empty_gold:
        raise DemoFailed(
            f"gold tables without rows: {', '.join(written.empty_gold)} (report: {written.path})"
        )
    return str(written.path)


@contextmanager
def _bar(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    with Progress(TextColumn(f"[bold]{what}[/]"), BarColumn(), MofNCompleteColumn(),
                  console=console) as progress:  # fmt: skip
        task = progress.add_task(what, total=total)
        yield lambda n: progress.advance(task, n)


# --- the run ---------------------------------------------------------------------------------


def steps(s: Settings, o: DemoOptions, record: DemoRun, streaming: StreamingCatchUp) -> list[Step]:
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
        Step("emulate stream", f"send {o.stream_events} events through the stream path "
             "(API -> Kinesis)", f"{s.state_dir}/emulator/dead-letter-stream.jsonl",
             "`pinpipe status`: is localstack healthy?", lambda: emulate(s, "stream", o)),
        Step("streaming start", "start the streaming job catching up, in the background",
             f"{logs}/streaming-catch-up.log", "run it in the foreground: `pinpipe stream run "
             "--available-now`", lambda: streaming.start(s)),
        Step("emulate batch", "send every source row through the batch path (API -> Kafka)",
             f"{s.state_dir}/emulator/dead-letter-batch.jsonl",
             "`pinpipe status`: is the rest-proxy healthy? resend with "
             "`pinpipe emulate batch --all --resume`",
             lambda: emulate(s, "batch", o)),
        Step("landing", "wait for the S3 sink to land every Kafka record", f"{logs}/connect.log",
             f"connector status: {s.endpoints.kafka_connect}/connectors/{s.connector_name}/status",
             lambda: wait_for_landing(s)),
        Step("batch DAG", "run the batch DAG in Airflow (clean, then the gold tables)",
             airflow_logs, f"open {s.endpoints.airflow}/dags/pinpipe_batch (login: pinpipe status)",
             lambda: run_batch_dag(s)),
        Step("streaming", "wait for the streaming job to catch up",
             f"{logs}/streaming-catch-up.log", "run it in the foreground: `pinpipe stream run "
             "--available-now`", streaming.wait),
        Step("report", "write the report", "the message above",
             "`pinpipe report` rewrites it from the lake", lambda: write_report(s, record)),
    ]  # fmt: skip


def run(s: Settings, o: DemoOptions) -> DemoRun:
    record = DemoRun(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        options={k: str(v) for k, v in asdict(o).items()},
    )
    streaming = StreamingCatchUp()
    plan = steps(s, o, record, streaming)
    t0 = time.monotonic()
    try:
        _run_steps(s, plan, record, t0)
    finally:
        streaming.stop()  # a step failed or the demo was interrupted while it ran
    record.ok = True
    from pinpipe.report import default_path

    record.report = str(default_path(s))
    _save(s, record)
    return record


def _run_steps(s: Settings, plan: list[Step], record: DemoRun, t0: float) -> None:
    for i, step in enumerate(plan, 1):
        console.rule(f"[bold][{i}/{len(plan)}] {step.what}")
        t = time.monotonic()
        try:
            detail = step.action()
        except Exception as e:  # any failure: record it and name the step, the cause chained
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
