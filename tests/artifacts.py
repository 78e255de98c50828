"""What the artifact tests share: ``make dist``, and fresh virtual environments outside the
checkout to install its wheel into, as a Databricks cluster or MWAA would."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pinpipe.aws.dist import DIST_DIR
from pinpipe.config import PROJECT_ROOT

UV = PROJECT_ROOT / "build" / "uv" / "bin" / "uv"


def make_dist(profile: str = "aws") -> Path:
    """Build the artifacts the way a user does: ``make dist``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINPIPE_")}
    done = subprocess.run(
        ["make", "-s", "dist", f"PROFILE={profile}"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"make dist:\n{done.stdout}\n{done.stderr}"
    return DIST_DIR


def the_wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("pinpipe-*.whl")
    return wheel


def new_venv(where: Path, python: str) -> Path:
    """A new, empty virtual environment; returns its bin folder."""
    run([str(UV), "venv", "-q", "--python", python, str(where)])
    return where / "bin"


def install(bin_dir: Path, *requirements: str) -> None:
    run([str(UV), "pip", "install", "-q", "--python", str(bin_dir / "python"), *requirements])


def run(command: list[str], **kwargs: object) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"
    return str(done.stdout)
