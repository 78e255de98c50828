"""``make dist``: everything the cloud runs, built from this checkout into ``dist/``.

- ``pinpipe-<version>-py3-none-any.whl``: the package with its profiles and templates; Spark,
  Delta and Airflow are extras, so it installs onto a Databricks runtime and into MWAA without
  replacing theirs. Its entry points ``pinpipe_batch`` and ``pinpipe_stream`` are what the
  Databricks jobs run.
- ``databricks/<job>.json``: the batch and streaming jobs (``pinpipe.aws.databricks.jobs``).
- ``mwaa/``: the DAGs, ``requirements.txt`` and ``plugins.zip`` (``pinpipe.aws.mwaa.bundle``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pinpipe.aws.databricks import jobs
from pinpipe.aws.mwaa import bundle
from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import PinpipeError

DIST_DIR = PROJECT_ROOT / "dist"
# What the wheel is built from; copied first, so nothing stale in the checkout gets in.
SOURCES = ("pyproject.toml", "README.md", "pinpipe", "aws", "services", "spark")
REPRODUCIBLE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip holds
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "cdk.out")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Dist:
    wheel: Path
    databricks_jobs: list[Path]
    mwaa: Path


def _uv() -> Path:
    uv = PROJECT_ROOT / "build" / "uv" / "bin" / "uv"
    if not uv.exists():
        raise PinpipeError(f"{uv} is missing: run `make setup`")
    return uv


def build_wheel(out: Path) -> Path:
    """Build the wheel from a clean copy of its sources, with this environment's setuptools
    (no download, so it also works offline)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("pinpipe-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="pinpipe-dist-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in SOURCES:
            path = PROJECT_ROOT / name
            if path.is_dir():
                shutil.copytree(path, source / name, ignore=IGNORED)
            else:
                shutil.copy2(path, source / name)
        command = [
            str(_uv()), "build", "--wheel", "--no-build-isolation", "--quiet",
            "--python", sys.executable, "--out-dir", str(out), str(source),
        ]  # fmt: skip
        # Timestamps fixed: the same sources make the same wheel, byte for byte.
        env = {**os.environ, "SOURCE_DATE_EPOCH": REPRODUCIBLE_EPOCH}
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise PinpipeError(f"building the wheel failed:\n{done.stderr.strip()}")
    wheels = sorted(out.glob("pinpipe-*.whl"))
    if len(wheels) != 1:
        raise PinpipeError(f"expected one wheel in {out}, found {[w.name for w in wheels]}")
    return wheels[0]


def build(s: Settings, out: Path = DIST_DIR, progress: Progress = lambda _: None) -> Dist:
    progress("building the pinpipe wheel")
    wheel = build_wheel(out)
    progress("writing the Databricks jobs and the MWAA bundle")
    job_dir = out / "databricks"
    if job_dir.exists():
        shutil.rmtree(job_dir)
    job_dir.mkdir()
    job_files = []
    for job in jobs.all_jobs(s, wheel.name):
        path = job_dir / f"{job['name']}.json"
        path.write_text(json.dumps(job, indent=2) + "\n")
        job_files.append(path)
    mwaa = bundle.write(wheel, s.deploy.mwaa_airflow_version, out / "mwaa")
    return Dist(wheel, job_files, mwaa)
