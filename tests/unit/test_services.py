"""What each service is started with, where durability and exposure depend on it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pinpipe.config import load_settings
from pinpipe.sandbox.services import lake, localstack

pytestmark = pytest.mark.unit


@pytest.fixture
def launch_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(localstack, "LOCALSTACK_PYTHON", tmp_path / "python")
    (tmp_path / "python").touch()
    return localstack.SERVICE.launch(load_settings(state_dir=tmp_path)).env


def test_localstack_keeps_kinesis_in_the_state_folder_and_saves_every_second(
    tmp_path: Path, launch_env: dict[str, str]
) -> None:
    assert launch_env["FILESYSTEM_ROOT"] == str(tmp_path / "localstack")
    assert launch_env["PERSISTENCE"] == "1"
    interval = launch_env["KINESIS_MOCK_PERSIST_INTERVAL"]
    assert interval.endswith("s") and float(interval[:-1]) <= 1.0
    assert "s3" not in launch_env["SERVICES"].split(",")


def test_localstack_and_kinesis_mock_listen_on_the_bind_host(launch_env: dict[str, str]) -> None:
    assert launch_env["GATEWAY_SERVER"] == "hypercorn"  # the default server ignores the host
    assert launch_env["GATEWAY_LISTEN"].startswith("127.0.0.1:")
    preloads = launch_env["NODE_OPTIONS"].split("--require ")[1:]
    assert {Path(p.strip()).name for p in preloads} == {
        "loopback.js",
        "atomic-persist.js",
        "outlive-reader.js",
    }
    assert all(Path(p.strip()).is_file() for p in preloads)
    assert launch_env["PINPIPE_BIND_HOST"] == "127.0.0.1"


def test_the_lake_keeps_its_objects_in_the_state_folder_and_keys_out_of_argv(
    tmp_path: Path,
) -> None:
    s = load_settings(state_dir=tmp_path, build_dir=tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "versitygw").touch()
    launch = lake.SERVICE.launch(s)
    assert launch.argv[-1] == str(tmp_path / "lake")
    assert f"127.0.0.1:{s.ports.lake}" in launch.argv
    secret = s.credentials.secret_access_key.get_secret_value()
    assert secret not in launch.argv and launch.env["ROOT_SECRET_KEY"] == secret


class FakeLocalStack(BaseHTTPRequestHandler):
    """Says every service runs, but fails Kinesis calls while ``kinesis_starting``."""

    kinesis_starting = True

    def do_GET(self) -> None:
        states = {name: "running" for name in localstack.SERVICES}
        self._answer(200, {"services": states})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if FakeLocalStack.kinesis_starting:
            self._answer(500, {"__type": "InternalError", "message": "connection refused"})
        else:
            self._answer(200, {"StreamNames": [], "HasMoreStreams": False})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_localstack_is_healthy_only_once_a_kinesis_call_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLocalStack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PINPIPE_ENDPOINTS__KINESIS", f"http://127.0.0.1:{server.server_port}")
        s = load_settings()
        FakeLocalStack.kinesis_starting = True
        health = localstack.SERVICE.health(s)
        assert not health.ok and "Kinesis not answering yet" in health.detail
        FakeLocalStack.kinesis_starting = False
        assert localstack.SERVICE.health(s).ok
    finally:
        server.shutdown()
