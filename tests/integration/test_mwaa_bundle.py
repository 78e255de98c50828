"""The MWAA bundle ``make dist`` builds loads under the Airflow MWAA runs: its
``requirements.txt`` (the constraints of that Airflow version, the providers, the wheel from
``plugins.zip``) installs into a fresh environment, and every DAG in it imports with no error
(Airflow's DAG-loader test, against MWAA's version rather than the sandbox's)."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pinpipe.aws.mwaa.bundle import PLUGINS_ON_MWAA
from pinpipe.config import load_settings
from tests.artifacts import install, make_dist, new_venv, run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HERE = Path(__file__).resolve().parent.parent / "mwaa"
# MWAA's constraints file is served from GitHub; its pins for what the DAGs use, resolved here.
MWAA_LOCK = HERE / "mwaa-airflow.lock"
MWAA_PYTHON = "3.12"

LOAD_DAGS = """
import json, sys
try:
    from airflow.models.dagbag import DagBag
except ImportError:
    from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {d: {t.task_id: type(t).__name__ for t in bag.dags[d].tasks} for d in bag.dag_ids},
}))
"""


def mwaa_python() -> str:
    """MWAA runs Python 3.12: one of this machine's if it has one, else this Python (Airflow
    3.0.6 supports both)."""
    pyenv = sorted(glob.glob(str(Path.home() / f".pyenv/versions/{MWAA_PYTHON}*/bin/python3")))
    for candidate in [shutil.which(f"python{MWAA_PYTHON}"), *pyenv]:
        if candidate and subprocess.run([candidate, "-V"], capture_output=True).returncode == 0:
            return candidate
    return sys.executable


def test_every_bundled_dag_imports_under_mwaas_airflow(tmp_path: Path) -> None:
    bundle = make_dist("aws") / "mwaa"
    # MWAA unpacks plugins.zip into its plugins folder, where requirements.txt finds the wheel.
    plugins = tmp_path / "plugins"
    with zipfile.ZipFile(bundle / "plugins.zip") as z:
        z.extractall(plugins)
    lines = (bundle / "requirements.txt").read_text().splitlines()
    assert lines[0].startswith("--constraint ")
    local = [f"--constraint {MWAA_LOCK}"] + [
        line.replace(PLUGINS_ON_MWAA, str(plugins)) for line in lines[1:] if line
    ]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(local) + "\n")

    airflow_version = load_settings(profile="aws").deploy.mwaa_airflow_version
    bin_dir = new_venv(tmp_path / "mwaa", mwaa_python())
    # MWAA has Airflow and its UI's provider already; the bundle's requirements go on top.
    preinstalled = [f"apache-airflow=={airflow_version}", "apache-airflow-providers-fab"]
    install(bin_dir, *preinstalled, "-r", str(requirements))

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINPIPE_", "AIRFLOW"))}
    env |= {"AIRFLOW_HOME": str(tmp_path / "airflow"), "PINPIPE_PROFILE": "aws"}
    version = run([str(bin_dir / "python"), "-c", "import airflow; print(airflow.__version__)"])
    assert version.strip() == airflow_version
    out = run(
        [str(bin_dir / "python"), "-c", LOAD_DAGS, str(bundle / "dags")], env=env, cwd=tmp_path
    )
    loaded = json.loads(out.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    assert set(loaded["dags"]) == {"pinpipe_batch"}
    assert loaded["dags"]["pinpipe_batch"]["batch_job"] == "DatabricksRunNowOperator"
