"""A small client of the Airflow REST API (v2): log in, trigger a DAG, wait for the run."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from pinpipe.config import Settings
from pinpipe.errors import PinpipeError
from pinpipe.sandbox.services.airflow import admin_password

FINISHED = {"success", "failed"}


class AirflowError(PinpipeError):
    """Airflow could not be reached, or a run did not succeed."""


@dataclass
class AirflowClient:
    base_url: str
    token: str

    @classmethod
    def login(cls, s: Settings) -> AirflowClient:
        url = f"{s.endpoints.airflow}/auth/token"
        credentials = {
            "username": s.airflow.username,
            "password": admin_password(s),
        }
        try:
            r = requests.post(url, json=credentials, timeout=30)
        except requests.RequestException as e:
            raise AirflowError(f"Airflow is not reachable at {url}: start it with `make up`") from e
        if r.status_code not in (200, 201):
            raise AirflowError(
                f"logging in to Airflow failed (HTTP {r.status_code}): {r.text[:300]}"
            )
        return cls(s.endpoints.airflow, r.json()["access_token"])

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        r = requests.request(
            method,
            f"{self.base_url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
            **kwargs,
        )
        if not r.ok:
            raise AirflowError(f"{method} {path}: HTTP {r.status_code}: {r.text[:500]}")
        return r.json()

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self._call("GET", "/dags", params={"limit": 1000})["dags"]}

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while dag_id not in self.dag_ids():
            if time.monotonic() > deadline:
                raise AirflowError(f"Airflow has not loaded the DAG {dag_id} after {timeout:.0f}s")
            time.sleep(2)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Start a run now and unpause the DAG. When a scheduled run is due, the run takes its
        logical date, so the scheduler does not start that run as well (a manual run would
        otherwise queue behind it: one active run at a time)."""
        due = self._due_logical_date(dag_id)
        run = self._call(
            "POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": due, "conf": conf or {}}
        )
        self._call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        return str(run["dag_run_id"])

    def _due_logical_date(self, dag_id: str) -> str | None:
        """The logical date of the scheduled run that is due and not made yet, if any."""
        dag = self._call("GET", f"/dags/{dag_id}")
        logical, run_after = dag.get("next_dagrun_logical_date"), dag.get("next_dagrun_run_after")
        if not logical or not run_after:
            return None
        if datetime.fromisoformat(run_after) > datetime.now(UTC):
            return None
        same_date = {"logical_date_gte": logical, "logical_date_lte": logical, "limit": 1}
        runs = self._call("GET", f"/dags/{dag_id}/dagRuns", params=same_date)
        return None if runs.get("dag_runs") else str(logical)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs as Airflow's API gives them (``dag_run_id``, ``run_type``, ``run_after``,
        ``state``, ...)."""
        runs = self._call("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 1000})["dag_runs"]
        return list(runs)

    def run_types(self, dag_id: str) -> list[str]:
        """How each run of the DAG came about: manual, scheduled, backfill, asset_triggered."""
        return [str(run["run_type"]) for run in self.runs(dag_id)]

    def total_runs(self) -> int:
        """DAG runs Airflow knows of, every DAG together."""
        return int(self._call("GET", "/dags/~/dagRuns", params={"limit": 1})["total_entries"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        tis = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti["state"] for ti in tis["task_instances"]}

    def wait(
        self,
        dag_id: str,
        run_id: str,
        timeout: float,
        on_poll: Callable[[dict[str, str | None]], None] = lambda _: None,
    ) -> str:
        """Poll until the run finishes; returns its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run_state(dag_id, run_id)
            on_poll(self.task_states(dag_id, run_id))
            if state in FINISHED:
                return state
            time.sleep(1)
        raise AirflowError(f"run {run_id} of {dag_id} did not finish within {timeout:.0f}s")
