"""Which processes belong to a service of this sandbox, told apart from every other process.

A service's main process is started as the leader of a new session, and recorded in
``state/run/<name>.pid`` with its start time. The record is trusted only while the process
with that pid has that start time and still leads its session: after a reboot or a crash the
pid may name an unrelated process, which is then left alone.

A service's processes are its main process, its descendants, the processes still in its session
after the main process died (kinesis-mock after LocalStack, Spark's JVM after its driver), and
any process carrying the service's marker in its environment (``PINPIPE_SANDBOX`` = the state
folder, ``PINPIPE_SERVICE`` = the service), which covers one that started a session of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

import psutil

from pinpipe.config import Settings

SANDBOX_VAR = "PINPIPE_SANDBOX"
SERVICE_VAR = "PINPIPE_SERVICE"
# psutil reports start times in clock ticks (10 ms) since boot.
START_TIME_TOLERANCE_S = 0.05


@dataclass(frozen=True)
class Record:
    pid: int
    create_time: float
    uid: str = ""  # the pipeline the process works for


def marker(s: Settings, name: str) -> dict[str, str]:
    """Environment variables that mark a process as this sandbox's ``name`` service."""
    return {SANDBOX_VAR: str(s.state_dir.resolve()), SERVICE_VAR: name}


def pid_file(s: Settings, name: str) -> Path:
    return s.state_dir / "run" / f"{name}.pid"


def record(s: Settings, name: str, pid: int) -> None:
    path = pid_file(s, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"pid": pid, "create_time": psutil.Process(pid).create_time(), "uid": s.uid}
    path.write_text(json.dumps(entry))


def forget(s: Settings, name: str) -> None:
    pid_file(s, name).unlink(missing_ok=True)


def read_record(s: Settings, name: str) -> Record | None:
    """The recorded main process; a file that is not a record (e.g. a bare pid) is dropped."""
    path = pid_file(s, name)
    try:
        entry = json.loads(path.read_text())
        return Record(int(entry["pid"]), float(entry["create_time"]), str(entry.get("uid", "")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)
        return None


def _same_start(proc: psutil.Process, rec: Record) -> bool:
    return abs(proc.create_time() - rec.create_time) < START_TIME_TOLERANCE_S


def main_process(s: Settings, name: str) -> psutil.Process | None:
    """The service's main process, if the record names it and it is alive."""
    rec = read_record(s, name)
    if rec is None:
        return None
    try:
        proc = psutil.Process(rec.pid)
        if _same_start(proc, rec) and os.getsid(rec.pid) == rec.pid:
            return proc if proc.status() != psutil.STATUS_ZOMBIE else None
    except (psutil.NoSuchProcess, psutil.ZombieProcess, ProcessLookupError):
        pass
    return None


def _session_is_ours(rec: Record) -> bool:
    """True unless the session id now belongs to a different, newer process."""
    try:
        return _same_start(psutil.Process(rec.pid), rec)
    except psutil.NoSuchProcess:
        return True


def _is_marked(proc: psutil.Process, s: Settings, name: str) -> bool:
    try:
        env = proc.environ()
    except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    return env.get(SANDBOX_VAR) == str(s.state_dir.resolve()) and env.get(SERVICE_VAR) == name


def _in_session(proc: psutil.Process, rec: Record) -> bool:
    try:
        return os.getsid(proc.pid) == rec.pid and proc.create_time() >= rec.create_time - 1
    except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
        return False


def members(s: Settings, name: str) -> list[psutil.Process]:
    """Every live process of the service."""
    rec = read_record(s, name)
    by_session = rec is not None and _session_is_ours(rec)
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        if (by_session and rec and _in_session(proc, rec)) or _is_marked(proc, s, name):
            found[proc.pid] = proc
    main = main_process(s, name)
    if main is not None:
        with contextlib.suppress(psutil.NoSuchProcess):
            for proc in [main, *main.children(recursive=True)]:
                found[proc.pid] = proc
    return list(found.values())


def terminate(procs: list[psutil.Process], timeout: float) -> None:
    """SIGTERM, then SIGKILL whatever is still alive after ``timeout`` seconds."""
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
