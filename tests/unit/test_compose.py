from __future__ import annotations

import subprocess

import pytest

from pinpipe.config import PROJECT_ROOT
from pinpipe.sandbox.compose import COMPOSE_FILE, document, render
from pinpipe.sandbox.services import all_services

pytestmark = pytest.mark.unit

DOCKER_COMPOSE = PROJECT_ROOT / ".venv-tools" / "bin" / "docker-compose"


def test_docker_compose_file_is_generated_from_the_service_definitions() -> None:
    assert COMPOSE_FILE.read_text() == render(), "run `make compose` and commit docker-compose.yml"


def test_every_native_service_is_a_container_with_the_same_command_and_health_check() -> None:
    services = document()["services"]
    for sv in all_services():
        entry = services[sv.name]
        assert entry["command"] == ["pinpipe", "service", "run", sv.name]
        assert entry["healthcheck"]["test"][-1] == sv.name
        assert set(entry.get("depends_on", {})) >= set(sv.depends_on)
    assert services["connect"]["depends_on"]["provision"]["condition"] == (
        "service_completed_successfully"
    )


def test_docker_compose_accepts_the_file() -> None:
    done = subprocess.run(
        [str(DOCKER_COMPOSE), "-f", str(COMPOSE_FILE), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
