"""Health probes: each answers "is this service ready?" with a short reason when it is not."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""


def tcp(host: str, port: int, timeout: float = 1.0) -> Health:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return Health(True)
    except OSError as e:
        return Health(False, f"{host}:{port} not accepting connections ({e.strerror or e})")


def http_ok(url: str, timeout: float = 2.0) -> Health:
    try:
        r = requests.get(url, timeout=timeout)
    except requests.RequestException as e:
        return Health(False, f"GET {url}: {type(e).__name__}")
    return Health(r.ok, "" if r.ok else f"GET {url}: HTTP {r.status_code}")


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False
