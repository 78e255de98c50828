from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pinpipe.config import load_settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import runner
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
    with pytest.raises(SandboxError, match="known: kafka, localstack"):
        service_named("zookeeper")


def test_a_stale_pid_file_means_not_running(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "kafka.pid").write_text("999999999")
    assert runner.running_pid(s, "kafka") is None
    assert not (tmp_path / "run" / "kafka.pid").exists()
