"""Benchmark of recovery: how long from `pinpipe up` after a `kill -9` of every process of the
stack until it is healthy again and every record is reconciled, against a clean `pinpipe up`
(after `pinpipe down`) measured in the same run.

It runs its own stack, in a temporary state folder on shifted ports, so the sandbox you work in
is not touched.

    python -m bench.recovery   # BENCH_RECOVERY_EVENTS=300 (events sent before each restart)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from pinpipe import landing
from pinpipe.config import PROJECT_ROOT, Settings, load_settings
from pinpipe.sandbox import processes
from pinpipe.sandbox.services import STREAMING, all_services

PORT_SHIFT = 10000  # the shifted ports stay below the ephemeral range (32768+)


def _env(s: Settings) -> dict[str, str]:
    """The environment that gives `pinpipe` commands the settings ``s``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    env["PINPIPE_STATE_DIR"] = str(s.state_dir)
    for name, port in s.ports.model_dump().items():
        env[f"PINPIPE_PORTS__{name.upper()}"] = str(port)
    return env


def _pinpipe(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pinpipe", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode != 0:
        raise SystemExit(f"pinpipe {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def _reconciled(s: Settings) -> float:
    """Seconds until every record in Kafka is in the lake."""
    t = time.monotonic()
    landing.wait_until_landed(s, timeout=600)
    return time.monotonic() - t


def _kill_everything(s: Settings) -> int:
    procs = [p for sv in [*all_services(), STREAMING] for p in processes.members(s, sv.name)]
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)
    return len(procs)


def main() -> None:
    events = int(os.environ.get("BENCH_RECOVERY_EVENTS", "300"))
    with tempfile.TemporaryDirectory(prefix="pinpipe-bench-") as tmp:
        state = Path(tmp)
        ports = {k: p + PORT_SHIFT for k, p in load_settings().ports.model_dump().items()}
        s = load_settings(state_dir=state, ports=ports)
        env = _env(s)
        source = f"sqlite:///{state / 'source.db'}"
        try:
            t = time.monotonic()
            _pinpipe(env, "up")
            first_up = time.monotonic() - t
            _pinpipe(env, "source", "generate", "--rows", str(3 * events), "--db", source)

            def send(*resume: str) -> None:
                _pinpipe(
                    env,
                    "emulate",
                    "batch",
                    "--all",
                    *resume,
                    "--count",
                    str(events),
                    "--batch-size",
                    "20",
                    "--db",
                    source,
                )

            send()
            _reconciled(s)
            _pinpipe(env, "down")
            t = time.monotonic()
            _pinpipe(env, "up")
            clean_up = time.monotonic() - t
            clean_total = clean_up + _reconciled(s)

            send("--resume")
            killed = _kill_everything(s)
            t = time.monotonic()
            _pinpipe(env, "up")
            crash_up = time.monotonic() - t
            crash_total = crash_up + _reconciled(s)
        finally:
            _pinpipe(env, "down")

    print(f"recovery ({events} events sent before each restart; {killed} processes killed)")
    print(f"  {'':38} {'up s':>7} {'+ reconciled s':>15}")
    print(f"  {'first up (empty state)':38} {first_up:>7.1f}")
    print(f"  {'clean up (after down), baseline':38} {clean_up:>7.1f} {clean_total:>15.1f}")
    print(f"  {'up after kill -9 of the whole stack':38} {crash_up:>7.1f} {crash_total:>15.1f}")
    print(f"  recovery / clean restart: {crash_total / clean_total:.2f}x")


if __name__ == "__main__":
    main()
