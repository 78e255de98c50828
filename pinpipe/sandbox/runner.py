"""Native mode: every service as a plain local process, started in dependency order.

Each service runs as ``python -m pinpipe service run <name>`` in its own session (process
group), with its output appended to ``state/logs/<name>.log`` and its pid in
``state/run/<name>.pid``. Stopping signals the whole group, so no child is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from pinpipe.config import Settings
from pinpipe.errors import SandboxError
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


def _pid_file(s: Settings, name: str) -> Path:
    return run_dir(s) / f"{name}.pid"


def running_pid(s: Settings, name: str) -> int | None:
    """The pid of a service's process if it is alive, else None (and a stale pid file goes)."""
    path = _pid_file(s, name)
    try:
        pid = int(path.read_text().strip())
        proc = psutil.Process(pid)
        if proc.status() != psutil.STATUS_ZOMBIE:
            return pid
    except (FileNotFoundError, ValueError, psutil.NoSuchProcess):
        pass
    path.unlink(missing_ok=True)
    return None


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
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinpipe", "service", "run", service.name],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    _pid_file(s, service.name).write_text(str(proc.pid))
    return proc.pid


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
        last = service.health(s)
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
    pid = running_pid(s, name)
    if pid is None:
        return False
    try:
        group = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        group = []
    _signal_group(pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(group, timeout=STOP_TIMEOUT_S)
    if alive:
        _signal_group(pid, signal.SIGKILL)
        for proc in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        psutil.wait_procs(alive, timeout=5)
    _pid_file(s, name).unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


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
                health=service.health(s) if pid else Health(False, "not running"),
                url=service.url(s),
                log=log_file(s, service.name),
            )
        )
    return out


def stack_rss_bytes(s: Settings) -> int:
    """Resident memory of every process of the stack, children included."""
    total = 0
    for service in all_services():
        pid = running_pid(s, service.name)
        if pid is None:
            continue
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total
