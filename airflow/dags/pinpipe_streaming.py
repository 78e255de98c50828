"""Starts the streaming job beside the sandbox if it is not running, then checks it is up."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="pinpipe_streaming",
    description="Start (if needed) and check the Kinesis -> Delta streaming job",
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["pinpipe", "streaming"],
)
def pinpipe_streaming() -> None:
    @task(task_id="start_streaming_job")
    def start_streaming_job() -> int:
        from pinpipe.config import load_settings
        from pinpipe.sandbox import runner
        from pinpipe.sandbox.services import STREAMING

        return runner.start(load_settings(), STREAMING)

    @task(task_id="check_streaming_job", retries=3, retry_delay=pendulum.duration(seconds=20))
    def check_streaming_job(pid: int) -> str:
        from pinpipe.config import load_settings
        from pinpipe.errors import JobError
        from pinpipe.sandbox import runner

        s = load_settings()
        if runner.running_pid(s, "streaming") is None:
            raise JobError(
                f"the streaming job (pid {pid}) is not running:\n{runner.log_tail(s, 'streaming')}"
            )
        return f"running, pid {pid}"

    check_streaming_job(start_streaming_job())


pinpipe_streaming()
