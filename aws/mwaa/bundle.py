"""The MWAA bundle: the DAGs that make sense in AWS, the ``requirements.txt`` MWAA installs at
start (with the ``--constraint`` line of its Airflow version), and ``plugins.zip`` carrying the
``pinpipe`` wheel the DAGs import. MWAA unpacks ``plugins.zip`` into its plugins folder, and
``requirements.txt`` installs the wheel from there.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from pinpipe.config import PROJECT_ROOT

DAGS_DIR = PROJECT_ROOT / "airflow" / "dags"
# The stack-health DAG checks the sandbox's own processes, and the streaming DAG starts the
# streaming job beside them; in AWS, Databricks keeps the streaming job running.
SANDBOX_ONLY_DAGS = ("pinpipe_stack_health.py", "pinpipe_streaming.py")
MWAA_PYTHON = "3.12"
PLUGINS_ON_MWAA = "/usr/local/airflow/plugins"
PROVIDERS = ("apache-airflow-providers-amazon", "apache-airflow-providers-databricks")


def constraint_url(airflow_version: str) -> str:
    return (
        "https://raw.githubusercontent.com/apache/airflow/"
        f"constraints-{airflow_version}/constraints-{MWAA_PYTHON}.txt"
    )


def requirements_txt(airflow_version: str, wheel_name: str) -> str:
    """MWAA installs this at start, under the constraints of its Airflow version."""
    return "\n".join(
        [
            f'--constraint "{constraint_url(airflow_version)}"',
            *PROVIDERS,
            f"{PLUGINS_ON_MWAA}/{wheel_name}",
            "",
        ]
    )


def dag_files() -> list[Path]:
    """The DAG files MWAA gets."""
    return sorted(p for p in DAGS_DIR.glob("*.py") if p.name not in SANDBOX_ONLY_DAGS)


def write(wheel: Path, airflow_version: str, out: Path) -> Path:
    """Write the bundle into ``out`` (emptied first): ``dags/``, ``requirements.txt`` and
    ``plugins.zip``."""
    if out.exists():
        shutil.rmtree(out)
    (out / "dags").mkdir(parents=True)
    for dag in dag_files():
        shutil.copy2(dag, out / "dags" / dag.name)
    (out / "requirements.txt").write_text(requirements_txt(airflow_version, wheel.name))
    # A fixed date: the same wheel makes the same plugins.zip, so a deployment sees no change.
    entry = zipfile.ZipInfo(wheel.name, date_time=(1980, 1, 1, 0, 0, 0))
    with zipfile.ZipFile(out / "plugins.zip", "w", zipfile.ZIP_DEFLATED) as plugins:
        plugins.writestr(entry, wheel.read_bytes(), zipfile.ZIP_DEFLATED)
    return out
