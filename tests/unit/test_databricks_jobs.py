"""The Databricks jobs ``make dist`` writes, and how ``pinpipe deploy`` applies them (against a
stand-in for the workspace client)."""

from __future__ import annotations

import importlib
import json
import zipfile
from configparser import ConfigParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pinpipe.aws import dist as artifacts
from pinpipe.aws.databricks import deploy, jobs
from pinpipe.config import Settings, load_settings
from pinpipe.contract import TABLES
from pinpipe.errors import ConfigError, ProvisionError

pytestmark = pytest.mark.unit

SECRETS = {
    "DATABRICKS_TOKEN": "dapi-unit-test-token-6f1e",
    "AWS_SECRET_ACCESS_KEY": "unit-test-aws-secret-93ab",
    "PINPIPE_AIRFLOW__PASSWORD": "unit-test-airflow-password-77c2",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> artifacts.Dist:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SECRETS.items():
            mp.setenv(name, value)
        return artifacts.build(load_settings(profile="aws"), tmp_path_factory.mktemp("dist"))


def _jobs(built: artifacts.Dist) -> dict[str, dict[str, Any]]:
    return {p.stem.rsplit("-", 1)[0]: json.loads(p.read_text()) for p in built.databricks_jobs}


def _console_scripts(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt")]
        parser = ConfigParser()
        parser.read_string(z.read(name).decode())
    return dict(parser["console_scripts"])


def test_every_task_runs_an_entry_point_of_the_wheel_make_dist_built(
    built: artifacts.Dist,
) -> None:
    s = load_settings(profile="aws")
    scripts = _console_scripts(built.wheel)
    for job in _jobs(built).values():
        for task in job["tasks"]:
            assert task["libraries"] == [
                {"whl": f"{s.databricks.artifacts_path}/{built.wheel.name}"}
            ]
            wheel_task = task["python_wheel_task"]
            assert built.wheel.name.startswith(wheel_task["package_name"] + "-")
            module, function = scripts[wheel_task["entry_point"]].split(":")
            assert callable(getattr(importlib.import_module(module), function))


def test_the_batch_job_cleans_the_three_tables_side_by_side_then_computes_gold(
    built: artifacts.Dist,
) -> None:
    job = _jobs(built)["pinpipe-batch"]
    cleans = {f"clean_{t}" for t in TABLES}
    by_key = {t["task_key"]: t for t in job["tasks"]}
    assert set(by_key) == {*cleans, "analytics"}
    assert all(by_key[c]["depends_on"] == [] for c in cleans)
    assert {d["task_key"] for d in by_key["analytics"]["depends_on"]} == cleans
    assert by_key["clean_geo"]["python_wheel_task"]["parameters"][:3] == ["clean", "--table", "geo"]
    assert job["max_concurrent_runs"] == 1 and job["queue"] == {"enabled": True}
    assert [p["name"] for p in job["parameters"]] == [
        jobs.UID_PARAMETER,
        jobs.LANDED_BEFORE_PARAMETER,
    ]
    # Each clean reads what landed before the time the run was due (none given: everything).
    clean_args = by_key["clean_pin"]["python_wheel_task"]["parameters"]
    assert clean_args[clean_args.index("--landed-before") + 1] == jobs.LANDED_BEFORE_REFERENCE


def test_the_streaming_job_is_one_continuous_task(built: artifacts.Dist) -> None:
    job = _jobs(built)["pinpipe-streaming"]
    assert job["continuous"] == {"pause_status": "UNPAUSED"}
    (task,) = job["tasks"]
    assert task["python_wheel_task"]["entry_point"] == jobs.STREAM_ENTRY


def _aws(**databricks: str) -> Settings:
    return load_settings(profile="aws", databricks=databricks)


def test_lake_access_is_unity_catalog_or_an_instance_profile() -> None:
    unity = jobs.new_cluster(_aws(lake_access="unity-catalog"))
    assert unity["data_security_mode"] == "SINGLE_USER" and "aws_attributes" not in unity
    arn = "arn:aws:iam::123456789012:instance-profile/pinpipe-lake"
    cluster = jobs.new_cluster(_aws(lake_access="instance-profile", instance_profile_arn=arn))
    assert cluster["aws_attributes"] == {"instance_profile_arn": arn}
    with pytest.raises(ConfigError, match=r"databricks\.instance_profile_arn"):
        jobs.new_cluster(_aws(lake_access="instance-profile"))
    assert cluster["spark_env_vars"]["PINPIPE_PROFILE"] == "aws"


def test_an_existing_cluster_replaces_the_job_cluster() -> None:
    job = jobs.batch_job(_aws(existing_cluster_id="0101-abc"), "pinpipe-0.1.0-py3-none-any.whl")
    assert job["job_clusters"] == []
    assert {t["existing_cluster_id"] for t in job["tasks"]} == {"0101-abc"}


def test_no_secret_value_reaches_any_file_make_dist_writes(built: artifacts.Dist) -> None:
    contents = []
    for path in built.wheel.parent.rglob("*"):
        if path.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(path) as z:
                contents += [z.read(n) for n in z.namelist()]
        elif path.is_file():
            contents.append(path.read_bytes())
    for secret in SECRETS.values():
        assert not any(secret.encode() in c for c in contents), secret
    assert not any(b"dapi" in c for c in contents if c.startswith(b"{"))


# --- deploy, against a stand-in for databricks.sdk.WorkspaceClient ---------------------------


class FakeWorkspace:
    def __init__(self, existing: dict[str, list[int]] | None = None) -> None:
        self.existing = existing or {}
        self.calls: list[tuple[str, Any]] = []
        self.jobs = SimpleNamespace(list=self._list, reset=self._reset, create=self._create)
        self.workspace = SimpleNamespace(
            mkdirs=lambda path: self.calls.append(("mkdirs", path)),
            upload=lambda path, content, **kw: self.calls.append(("workspace", path, kw)),
        )
        self.files = SimpleNamespace(
            upload=lambda path, content, **kw: self.calls.append(("files", path, kw))
        )

    def _list(self, name: str) -> list[Any]:
        return [SimpleNamespace(job_id=i) for i in self.existing.get(name, [])]

    def _reset(self, job_id: int, new_settings: Any) -> None:
        self.calls.append(("reset", job_id, new_settings.name))

    def _create(self, **fields: Any) -> Any:
        self.calls.append(("create", fields["name"], fields))
        return SimpleNamespace(job_id=42)


def test_deploy_uploads_the_wheel_then_creates_new_jobs_and_resets_existing_ones(
    built: artifacts.Dist,
) -> None:
    s = load_settings(profile="aws")
    w = FakeWorkspace({jobs.batch_job_name(s): [7]})
    applied = deploy.deploy(s, built.wheel, w)
    assert [(a.action, a.job_id) for a in applied] == [("updated", 7), ("created", 42)]
    kinds = [c[0] for c in w.calls]
    assert kinds == ["mkdirs", "workspace", "reset", "create"]
    _, path, options = w.calls[1]
    assert path == f"{s.databricks.artifacts_path}/{built.wheel.name}"
    assert options["overwrite"] and options["format"].value == "AUTO"  # a file, not a notebook
    created = w.calls[3][2]
    assert created["continuous"].pause_status.value == "UNPAUSED"


def test_a_volume_gets_the_wheel_through_the_files_api(built: artifacts.Dist) -> None:
    s = _aws(artifacts_path="/Volumes/main/pinpipe/artifacts")
    w = FakeWorkspace()
    deploy.deploy(s, built.wheel, w)
    assert w.calls[0][:2] == ("files", f"/Volumes/main/pinpipe/artifacts/{built.wheel.name}")


def test_two_jobs_of_one_name_stop_the_deployment(built: artifacts.Dist) -> None:
    s = load_settings(profile="aws")
    w = FakeWorkspace({jobs.batch_job_name(s): [7, 8]})
    with pytest.raises(ProvisionError, match="keep one"):
        deploy.deploy(s, built.wheel, w)
