"""What a service of the local stack is, and helpers the service modules share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox.health import Health

COMPOSE_DIR = PROJECT_ROOT / "compose"
JVM_OPTS = ["-Xms128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true"]


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    """How to prepare and launch one process, which ports it binds, what it depends on, how to
    tell it is healthy. ``health`` None means: healthy while its process runs."""

    name: str
    description: str
    ports: tuple[str, ...]  # keys of Settings.ports this service binds
    depends_on: tuple[str, ...]
    launch: Callable[[Settings], Launch]
    health: Callable[[Settings], Health] | None
    url: Callable[[Settings], str]
    prepare: Callable[[Settings], None] | None = None
    hint: str = ""
    optional: bool = False  # not started by `up` (started on demand), stopped by `down`


def host_port(endpoint: str) -> tuple[str, int]:
    hostport = endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port)


def java(classpath_dir: Path, main: str, args: list[str], heap: str) -> list[str]:
    if not classpath_dir.is_dir():
        raise SandboxError(f"{classpath_dir} is missing: run `make setup` first")
    return [
        "java",
        f"-Xmx{heap}",
        *JVM_OPTS,
        f"-Dlog4j2.configurationFile={COMPOSE_DIR / 'log4j2.properties'}",
        "-cp",
        f"{classpath_dir}/*",
        main,
        *args,
    ]


def render(template: Path, target: Path, **values: object) -> None:
    """Fill ``{placeholders}`` of a configuration template into the state folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    target.write_text(text)
