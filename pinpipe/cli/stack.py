"""The stack's commands: ``up``, ``down``, ``status``, ``logs``, ``reset``, ``provision``,
``connector`` and ``compose``."""

from __future__ import annotations

import json
import shutil
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pinpipe.config import Settings, settings
from pinpipe.errors import PinpipeError, ProvisionError

console = Console()


def _status_rows(s: Settings) -> list[dict[str, object]]:
    from pinpipe.sandbox import runner

    return [
        {
            "service": st.name,
            "description": st.description,
            "running": st.running,
            "healthy": st.health.ok,
            "detail": st.health.detail,
            "pid": st.pid,
            "url": st.url,
            "log": str(st.log),
        }
        for st in runner.status(s)
    ]


def _print_status(s: Settings, api_url: str | None) -> None:
    from pinpipe.sandbox.services.airflow import admin_password

    table = Table(title=f"pinpipe sandbox (profile {s.profile}, uid {s.uid})")
    for col in ("service", "state", "url"):
        table.add_column(col)
    for row in _status_rows(s):
        state = (
            "[green]healthy[/]"
            if row["healthy"]
            else f"[yellow]starting[/] {row['detail']}"
            if row["running"]
            else "[red]stopped[/]"
        )
        table.add_row(str(row["service"]), state, str(row["url"]))
    console.print(table)
    console.print(f"API gateway: {api_url or '(not deployed)'}")
    console.print(
        f"Airflow UI:  {s.endpoints.airflow}  login {s.airflow.username} / {admin_password(s)}"
    )
    console.print(f"Total memory (RSS) of the stack: {_stack_rss_mib(s)} MiB")


def _stack_rss_mib(s: Settings) -> int:
    from pinpipe.sandbox import runner

    return round(runner.stack_rss_bytes(s) / 2**20)


def up() -> None:
    """Start the whole stack as local processes, provision it, and wait until it is healthy."""
    from pinpipe.sandbox import stack

    s = settings()
    with console.status("starting the stack") as spinner:
        result = stack.up(s, progress=lambda msg: spinner.update(msg))
    steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in result.timings.items())
    console.print(f"[green]stack is up[/] in {result.seconds:.1f}s ({steps})")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    _print_status(s, result.api_url)


def down() -> None:
    """Stop every process of the stack (all data is kept)."""
    from pinpipe.sandbox import stack

    s = settings()
    with console.status("stopping the stack") as spinner:
        stopped = stack.down(s, progress=lambda msg: spinner.update(msg))
    console.print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")


def status(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Show each service, its health and URL, and the API gateway's invoke URL."""
    from pinpipe.aws.provision import api_url
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services.airflow import admin_password

    s = settings()
    url = None
    try:
        url = api_url(s) if runner.running_pid(s, "localstack") else None
    except ProvisionError as e:  # LocalStack still starting, or stuck: the table shows which
        Console(stderr=True).print(f"[yellow]API gateway:[/] {e}", highlight=False)
    if as_json:
        print(
            json.dumps(
                {
                    "profile": s.profile,
                    "uid": s.uid,
                    "api_url": url,
                    "airflow_url": s.endpoints.airflow,
                    "airflow_username": s.airflow.username,
                    "airflow_password": admin_password(s),
                    "bucket": s.bucket,
                    "topics": s.topics,
                    "streams": s.streams,
                    "services": _status_rows(s),
                    "rss_mib": _stack_rss_mib(s),
                },
                indent=2,
            )
        )
    else:
        _print_status(s, url)


def logs(
    service: Annotated[str | None, typer.Argument(help="one service; all when omitted")] = None,
    lines: Annotated[int, typer.Option("-n", "--lines", help="lines of tail per log")] = 20,
) -> None:
    """Show where each service logs, and the tail of each log."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import all_services, service_named

    s = settings()
    services = [service_named(service)] if service else all_services()
    for sv in services:
        console.rule(f"{sv.name}: {runner.log_file(s, sv.name)}")
        console.print(runner.log_tail(s, sv.name, lines), markup=False, highlight=False)


def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
) -> None:
    """Wipe all pipeline data (topics, lake, tables, checkpoints, source DB); keep installs."""
    from pinpipe.sandbox import runner
    from pinpipe.sandbox.services import all_services

    s = settings()
    if any(runner.running_pid(s, sv.name) for sv in all_services()):
        raise PinpipeError("the stack is running: run `make down` first")
    if not yes and not typer.confirm(f"Delete everything under {s.state_dir}?"):
        raise typer.Exit(1)
    if s.state_dir.exists():
        shutil.rmtree(s.state_dir)
    console.print(f"wiped {s.state_dir}")


def provision() -> None:
    """Create what the pipeline needs for the current profile (idempotent): the sandbox's
    bucket, topics and streams, then the cloud stack (`pinpipe deploy`)."""
    from pinpipe.aws.provision import provision as provision_all

    s = settings()
    url = provision_all(s, step=lambda name: console.print(f"provisioning {name}"))
    console.print(f"API invoke URL: {url}")


def connector() -> None:
    """Create or update the S3 sink connector and wait until it is RUNNING."""
    from pinpipe.aws.connector import ensure_connector

    s = settings()
    ensure_connector(s)
    console.print(f"connector {s.connector_name} is RUNNING")


def compose(
    check: Annotated[bool, typer.Option(help="fail if docker-compose.yml is out of date")] = False,
) -> None:
    """Write docker-compose.yml from the same service definitions native mode uses."""
    from pinpipe.sandbox.compose import COMPOSE_FILE, render

    text = render()
    if check:
        if not COMPOSE_FILE.exists() or COMPOSE_FILE.read_text() != text:
            raise PinpipeError(f"{COMPOSE_FILE.name} is out of date: run `pinpipe compose`")
        console.print(f"{COMPOSE_FILE.name} is up to date")
        return
    COMPOSE_FILE.write_text(text)
    console.print(f"wrote {COMPOSE_FILE}")
