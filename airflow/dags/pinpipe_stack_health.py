"""Checks every service of the sandbox from inside Airflow; trigger it from the UI when in doubt."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

SERVICES = ("kafka", "lake", "localstack", "rest-proxy", "connect", "airflow-api-server")


@dag(
    dag_id="pinpipe_stack_health",
    description="Health of each service of the local stack",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["pinpipe", "sandbox"],
)
def pinpipe_stack_health() -> None:
    for name in SERVICES:

        @task(task_id=f"check_{name.replace('-', '_')}")
        def check(service: str = name) -> str:
            from pinpipe.config import load_settings
            from pinpipe.errors import SandboxError
            from pinpipe.sandbox import runner
            from pinpipe.sandbox.services import service_named

            result = runner.check_health(load_settings(), service_named(service))
            if not result.ok:
                raise SandboxError(f"{service} is not healthy: {result.detail}")
            return "healthy"

        check()


pinpipe_stack_health()
