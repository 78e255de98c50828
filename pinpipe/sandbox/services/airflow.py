"""Apache Airflow 3: API server and UI, scheduler, DAG processor.

Durability: Airflow's metadata database is SQLite in ``state/airflow/airflow.db``; a DAG run
interrupted by a kill is found by the scheduler when it comes back.

Secrets: the admin password is generated at the first start (unless ``airflow.password`` is
set) and kept with mode 0600 in ``state/airflow/admin-password``; ``pinpipe status`` shows it.
The API's signing keys are generated the same way.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from secrets import token_urlsafe

import requests

from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import health
from pinpipe.sandbox.health import Health
from pinpipe.sandbox.services.base import Launch, Service


def home(s: Settings) -> Path:
    return s.state_dir / "airflow"


def _private_file(path: Path, make: Callable[[], str]) -> str:
    """The content of a 0600 file, created with ``make()`` if it does not exist yet."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def admin_password(s: Settings) -> str:
    """The Airflow admin's password: the configured one, else the one generated for this state."""
    configured = s.airflow.password.get_secret_value()
    if configured:
        return configured
    return _private_file(home(s) / "admin-password", lambda: token_urlsafe(18))


def _secrets(s: Settings) -> dict[str, str]:
    """Keys every Airflow process must share, made once per state folder."""
    text = _private_file(
        home(s) / "secrets.json",
        lambda: json.dumps({"secret_key": token_urlsafe(32), "jwt_secret": token_urlsafe(64)}),
    )
    return dict(json.loads(text))


def env(s: Settings) -> dict[str, str]:
    """Configuration shared by every Airflow process (and by ``airflow`` CLI calls)."""
    h = home(s)
    secrets = _secrets(s)
    return {
        "AIRFLOW_HOME": str(h),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{s.airflow.username}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(h / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{s.endpoints.airflow}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{h / 'airflow.db'}",
        "AIRFLOW__API__HOST": s.bind_host,
        "AIRFLOW__API__PORT": str(s.ports.airflow),
        "AIRFLOW__API__BASE_URL": s.endpoints.airflow,
        "AIRFLOW__API__SECRET_KEY": secrets["secret_key"],
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets["jwt_secret"],
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # New DAG files are found within seconds (the default waits up to five minutes).
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(h / "logs"),
        "PINPIPE_STATE_DIR": str(s.state_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def _bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def _prepare(s: Settings) -> None:
    h = home(s)
    h.mkdir(parents=True, exist_ok=True)
    passwords = h / "passwords.json"
    passwords.touch(mode=0o600)
    passwords.chmod(0o600)
    passwords.write_text(json.dumps({s.airflow.username: admin_password(s)}))
    # Migrating takes ~15 s even when there is nothing to do: once per Airflow version.
    migrated = h / "migrated-for"
    version = importlib.metadata.version("apache-airflow")
    if (h / "airflow.db").exists() and migrated.exists() and migrated.read_text() == version:
        return
    done = subprocess.run(
        [_bin(), "db", "migrate"], env={**os.environ, **env(s)}, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SandboxError(
            f"`airflow db migrate` failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    migrated.write_text(version)


def _launch(*command: str) -> Callable[[Settings], Launch]:
    def launch(s: Settings) -> Launch:
        return Launch([_bin(), *command], env(s))

    return launch


def _component_health(component: str) -> Callable[[Settings], Health]:
    def check(s: Settings) -> Health:
        url = f"{s.endpoints.airflow}/api/v2/monitor/health"
        try:
            status = requests.get(url, timeout=2).json()[component]["status"]
        except (requests.RequestException, ValueError, KeyError) as e:
            return Health(False, f"GET {url}: {type(e).__name__}")
        return Health(status == "healthy", f"{component} is {status}")

    return check


API_SERVER = Service(
    name="airflow-api-server",
    description="Airflow API server and UI",
    ports=("airflow",),
    depends_on=(),
    prepare=_prepare,
    launch=_launch("api-server"),
    health=lambda s: health.http_ok(f"{s.endpoints.airflow}/api/v2/monitor/health"),
    url=lambda s: s.endpoints.airflow,
)

SCHEDULER = Service(
    name="airflow-scheduler",
    description="Airflow scheduler",
    ports=(),
    depends_on=("airflow-api-server",),
    # The log server would bind 0.0.0.0:8793; task logs are local files anyway.
    launch=_launch("scheduler", "--skip-serve-logs"),
    health=_component_health("scheduler"),
    url=lambda s: "",
)

DAG_PROCESSOR = Service(
    name="airflow-dag-processor",
    description="Airflow DAG processor",
    ports=(),
    depends_on=("airflow-api-server",),
    launch=_launch("dag-processor"),
    health=_component_health("dag_processor"),
    url=lambda s: "",
)
