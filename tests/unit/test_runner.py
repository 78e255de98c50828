from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from pinpipe.config import load_settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import processes, runner
from pinpipe.sandbox.services import all_services, service_named
from pinpipe.sandbox.stack import _waves

pytestmark = pytest.mark.unit


def test_a_port_in_use_names_the_service_and_the_setting(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        s = load_settings(state_dir=tmp_path, ports={"rest_proxy": port})
        with pytest.raises(SandboxError) as e:
            runner.check_ports(s, [service_named("rest-proxy")])
    message = str(e.value)
    assert f"port {port}" in message and "rest-proxy" in message
    assert "ports.rest_proxy" in message and "PINPIPE_PORTS__REST_PROXY" in message


def test_services_start_after_what_they_depend_on() -> None:
    started: set[str] = set()
    for wave in _waves(all_services()):
        for sv in wave:
            assert set(sv.depends_on) <= started, sv.name
        started |= {sv.name for sv in wave}
    assert started == {sv.name for sv in all_services()}


def test_an_unknown_service_lists_the_known_ones() -> None:
    with pytest.raises(SandboxError, match="known: kafka, lake, localstack"):
        service_named("zookeeper")


def test_a_stale_pid_file_means_not_running(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "kafka.pid").write_text("999999999")
    assert runner.running_pid(s, "kafka") is None
    assert not (tmp_path / "run" / "kafka.pid").exists()


@pytest.fixture
def unrelated() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


def test_a_pid_file_naming_an_unrelated_process_is_not_trusted(
    tmp_path: Path, unrelated: subprocess.Popen[bytes]
) -> None:
    s = load_settings(state_dir=tmp_path)
    started = psutil.Process(unrelated.pid).create_time()
    (tmp_path / "run").mkdir()
    # The pid was reused by another process since the service was started.
    entry = {"pid": unrelated.pid, "create_time": started - 3600}
    (tmp_path / "run" / "kafka.pid").write_text(json.dumps(entry))
    assert runner.running_pid(s, "kafka") is None
    assert runner.stop(s, "kafka") is False
    assert unrelated.poll() is None, "stop signalled a process that is not the service"


def test_stop_ends_every_process_of_a_service_even_orphans(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    # A main process that starts a child and dies, as LocalStack leaves kinesis-mock behind.
    script = "import subprocess, sys; subprocess.Popen(['sleep', '60']); sys.exit(0)"
    env = {**os.environ, **processes.marker(s, "localstack")}
    main = subprocess.Popen([sys.executable, "-c", script], start_new_session=True, env=env)
    processes.record(s, "localstack", main.pid)
    main.wait()
    orphans = processes.members(s, "localstack")
    assert [p.name() for p in orphans] == ["sleep"]
    assert runner.running_pid(s, "localstack") is None
    assert runner.clean_leftovers(s, [service_named("localstack")]) == ["localstack"]
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in orphans)
