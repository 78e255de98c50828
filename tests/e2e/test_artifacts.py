"""What ``make dist`` builds is what the cloud runs: its wheel, installed into a fresh environment
outside the checkout with only Spark and Delta added (as a Databricks cluster has them), runs
the Databricks jobs' tasks, entry point and arguments as the job definitions give them, and
turns the sandbox's landed and streamed data into the reference tables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pinpipe import tables
from pinpipe.aws.databricks import jobs
from pinpipe.config import PROJECT_ROOT
from pinpipe.spark import lake
from tests.artifacts import install, make_dist, new_venv, the_wheel
from tests.e2e.expected import expected_gold, expected_silver
from tests.e2e.pipelines import Pipeline, streaming_rows, wait_until_landed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class Cluster:
    """A fresh environment with the wheel and its ``spark`` extra, and nothing of the checkout."""

    def __init__(self, root: Path, dist: Path) -> None:
        self.dist = dist
        self.home = root / "work"
        self.home.mkdir()
        self.bin = new_venv(root / "venv", sys.executable)
        lock = str(PROJECT_ROOT / "requirements.lock")  # the versions the sandbox is tested with
        install(self.bin, f"{the_wheel(dist)}[spark]", "--constraint", lock)

    def env(self, pipeline: Pipeline) -> dict[str, str]:
        path = [p for p in os.environ["PATH"].split(os.pathsep) if ".venv" not in p]
        # The checkout's Python, which Spark would otherwise start its Python workers with.
        checkout = {"VIRTUAL_ENV", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON"}
        return {
            **{k: v for k, v in pipeline.env.items() if k not in checkout},
            "PATH": os.pathsep.join([str(self.bin), *path]),
            # A cluster's Spark is its own: no Connect server.
            "PINPIPE_ENDPOINTS__SPARK_CONNECT": "",
            # Delta's and S3A's jars, which a Databricks runtime has on its classpath.
            "PINPIPE_BUILD_DIR": str(PROJECT_ROOT / "build"),
        }

    def job(self, name: str) -> dict[str, Any]:
        (path,) = (self.dist / "databricks").glob(f"{name}-*.json")
        return dict(json.loads(path.read_text()))

    def run_task(
        self, pipeline: Pipeline, job: dict[str, Any], task: dict[str, Any], *extra: str
    ) -> str:
        """Run one job task the way Databricks does: the wheel's entry point, with the task's
        parameters, where the job's parameters are put in as their defaults (uid: the test's
        pipeline user)."""
        wheel_task = task["python_wheel_task"]
        assert wheel_task["package_name"] == "pinpipe"
        values = {p["name"]: p["default"] for p in job["parameters"]}
        values[jobs.UID_PARAMETER] = pipeline.settings.uid
        args = []
        for arg in wheel_task["parameters"]:
            for name, value in values.items():
                arg = arg.replace(jobs.parameter_reference(name), value)
            assert "{{" not in arg, f"{task['task_key']}: no value for {arg}"
            args.append(arg)
        command = [str(self.bin / wheel_task["entry_point"]), *args, *extra]
        done = subprocess.run(
            command,
            env=self.env(pipeline),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert done.returncode == 0, f"{task['task_key']}:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    return Cluster(tmp_path_factory.mktemp("cluster"), make_dist())


def in_dependency_order(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    while len(ordered) < len(tasks):
        ready = [
            t
            for t in tasks
            if t["task_key"] not in done and {d["task_key"] for d in t["depends_on"]} <= done
        ]
        assert ready, "the job's tasks depend on each other in a cycle"
        ordered += ready
        done |= {t["task_key"] for t in ready}
    return ordered


def test_the_package_comes_from_the_installed_wheel(cluster: Cluster) -> None:
    where = subprocess.run(
        [str(cluster.bin / "python"), "-c", "import pinpipe; print(pinpipe.__file__)"],
        cwd=cluster.home,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where.strip()).is_relative_to(cluster.bin.parent)
    assert not Path(where.strip()).is_relative_to(PROJECT_ROOT)


def send(pipeline: Pipeline, folder: Path, path: str, rows: int, seed: int) -> str:
    """Generate a source and send all of it down one path; returns the source's URL."""
    source = f"sqlite:///{folder / 'source.db'}"
    pipeline.ok("source", "generate", "--rows", str(rows), "--seed", str(seed), "--db", source)
    pipeline.ok("emulate", path, "--all", "--batch-size", "100", "--db", source)
    return source


def test_the_batch_jobs_tasks_run_from_the_wheel_give_the_reference_gold_tables(
    cluster: Cluster, pipeline: Pipeline, tmp_path: Path
) -> None:
    source = send(pipeline, tmp_path, "batch", rows=400, seed=23)
    wait_until_landed(pipeline)

    job = cluster.job("pinpipe-batch")
    for task in in_dependency_order(job["tasks"]):
        cluster.run_task(pipeline, job, task)

    want = expected_gold(source)
    for name in lake.GOLD:
        got = sorted(tuple(row.values()) for row in tables.rows(pipeline.settings, name))
        assert got == want[name], name


def test_the_streaming_jobs_task_run_from_the_wheel_gives_the_reference_tables(
    cluster: Cluster, pipeline: Pipeline, tmp_path: Path
) -> None:
    source = send(pipeline, tmp_path, "stream", rows=120, seed=29)

    job = cluster.job("pinpipe-streaming")
    (task,) = job["tasks"]
    # The job runs continuously on Databricks; here it stops once it has read everything.
    out = cluster.run_task(pipeline, job, task, "--available-now")
    assert "processed" in out
    assert streaming_rows(pipeline) == expected_silver(source)
