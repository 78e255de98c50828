"""Native mode: every service as a plain local process, started in dependency order.

Each service runs as ``python -m pinpipe service run <name>`` in its own session (process
group), with its output appended to ``state/logs/<name>.log``, its pid and start time in
``state/run/<name>.pid`` and this sandbox's marker in its environment (see ``processes``).
Stopping signals the main process, then every process of the service that is left, so no
child is left behind; a pid file naming a process that is not the service is never trusted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from pinpipe.config import Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import processes
from pinpipe.sandbox.health import Health, port_in_use
from pinpipe.sandbox.services import Service, all_services

STOP_TIMEOUT_S = 15.0  # then SIGKILL: Airflow's scheduler can hang on SIGTERM
LOG_TAIL_LINES = 30


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    description: str
    running: bool
    pid: int | None
    health: Health
    url: str
    log: Path


def run_dir(s: Settings) -> Path:
    return s.state_dir / "run"


def log_file(s: Settings, name: str) -> Path:
    return s.logs_dir / f"{name}.log"


def running_pid(s: Settings, name: str) -> int | None:
    """The pid of a service's main process if it is alive and really that service, else None."""
    proc = processes.main_process(s, name)
    return proc.pid if proc else None


def clean_leftovers(s: Settings, services: Iterable[Service]) -> list[str]:
    """Stop what a crash left of services that are not running; returns their names."""
    cleaned = []
    for service in services:
        if running_pid(s, service.name) is not None:
            continue
        procs = processes.members(s, service.name)
        if procs:
            processes.terminate(procs, timeout=STOP_TIMEOUT_S)
            cleaned.append(service.name)
        processes.forget(s, service.name)
    return cleaned


def log_tail(s: Settings, name: str, lines: int = LOG_TAIL_LINES) -> str:
    path = log_file(s, name)
    if not path.exists():
        return "(no log yet)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def check_ports(s: Settings, services: Iterable[Service]) -> None:
    """Fail early, naming the service and the setting to change, if a port is taken."""
    for service in services:
        if running_pid(s, service.name):
            continue
        for key in service.ports:
            port = getattr(s.ports, key)
            if port_in_use(s.bind_host, port):
                raise SandboxError(
                    f"port {port} needed by {service.name} is already in use on {s.bind_host}.\n"
                    f"  Stop whatever uses it, or choose another port: set ports.{key} in "
                    f"pinpipe.toml or PINPIPE_PORTS__{key.upper()}=<port>."
                )


def start(s: Settings, service: Service) -> int:
    pid = running_pid(s, service.name)
    if pid:
        return pid
    s.logs_dir.mkdir(parents=True, exist_ok=True)
    run_dir(s).mkdir(parents=True, exist_ok=True)
    log = log_file(s, service.name).open("ab")
    log.write(f"\n==== starting {service.name} at {time.strftime('%F %T')} ====\n".encode())
    log.flush()
    # What a crash left of an earlier run (it may hold ports or files) goes first.
    clean_leftovers(s, [service])
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinpipe", "service", "run", service.name],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # The uid goes along so that a service started for another pipeline (the streaming
        # job) works for that one, also when `up` restarts it after a crash.
        env={
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PINPIPE_UID": s.uid,
            **processes.marker(s, service.name),
        },
    )
    log.close()
    processes.record(s, service.name, proc.pid)
    return proc.pid


def check_health(s: Settings, service: Service) -> Health:
    if service.health is None:
        running = running_pid(s, service.name) is not None
        return Health(running, "" if running else "not running")
    return service.health(s)


def wait_healthy(
    s: Settings, service: Service, timeout: float, on_wait: Callable[[Health], None] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    last = Health(False, "not checked")
    while time.monotonic() < deadline:
        if running_pid(s, service.name) is None:
            raise SandboxError(
                f"{service.name} exited during start-up. "
                f"Last lines of {log_file(s, service.name)}:\n"
                f"{log_tail(s, service.name)}\n{service.hint}".rstrip()
            )
        last = check_health(s, service)
        if last.ok:
            return
        if on_wait:
            on_wait(last)
        time.sleep(0.5)
    raise SandboxError(
        f"{service.name} was not healthy after {timeout:.0f}s ({last.detail}). "
        f"Last lines of {log_file(s, service.name)}:\n"
        f"{log_tail(s, service.name)}\n{service.hint}".rstrip()
    )


def stop(s: Settings, name: str) -> bool:
    """Stop a service and every process it started; True if something was running."""
    main = processes.main_process(s, name)
    if main is not None:
        # The main process first, so it can stop its children in order (LocalStack lets
        # kinesis-mock save its data); then whatever is left.
        processes.terminate([main], timeout=STOP_TIMEOUT_S)
    rest = processes.members(s, name)
    processes.terminate(rest, timeout=STOP_TIMEOUT_S)
    processes.forget(s, name)
    return main is not None or bool(rest)


def status(s: Settings, services: Iterable[Service] | None = None) -> list[ServiceStatus]:
    out = []
    for service in services or all_services():
        pid = running_pid(s, service.name)
        out.append(
            ServiceStatus(
                name=service.name,
                description=service.description,
                running=pid is not None,
                pid=pid,
                health=check_health(s, service) if pid else Health(False, "not running"),
                url=service.url(s),
                log=log_file(s, service.name),
            )
        )
    return out


def stack_rss_bytes(s: Settings) -> int:
    """Resident memory of every process of the stack, children included."""
    total = 0
    for service in all_services():
        for proc in processes.members(s, service.name):
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
    return total
