"""The stack's Spark: a Spark Connect server (local mode, with Delta and the lake's S3 settings).

The batch steps connect to it instead of each starting a JVM of their own; its UI shows every
job. Python code that Spark runs for a client (the batch job's ``foreachBatch`` function) runs
in Python workers of the server, with this project's interpreter, so the same modules are
importable there.

Durability: the server holds no state of its own; tables and checkpoints are in the lake, so a
killed server loses at most the write in flight, which the next run redoes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pinpipe.config import Settings
from pinpipe.sandbox import health
from pinpipe.sandbox.services.base import COMPOSE_DIR, Launch, Service, host_port

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def server_conf(s: Settings) -> dict[str, str]:
    from pinpipe.spark.session import INTERPRETED_CONF, spark_conf

    conf = {**spark_conf(s), **INTERPRETED_CONF}
    java_options = conf["spark.driver.extraJavaOptions"]
    java_options += f" -Dlog4j2.configurationFile={COMPOSE_DIR / 'log4j2.properties'}"
    return {
        **conf,
        "spark.driver.extraJavaOptions": java_options,
        "spark.connect.grpc.binding.address": s.bind_host,
        "spark.connect.grpc.binding.port": str(s.ports.spark_connect),
        "spark.driver.host": s.bind_host,
        "spark.driver.bindAddress": s.bind_host,
        "spark.ui.enabled": "true",
        "spark.ui.port": str(s.ports.spark_ui),
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": s.batch.server_memory,
    }


def _launch(s: Settings) -> Launch:
    argv = [str(spark_home() / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    argv += ["--name", "pinpipe Spark Connect server"]
    for key, value in server_conf(s).items():
        argv += ["--conf", f"{key}={value}"]
    env = {
        "SPARK_HOME": str(spark_home()),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": s.bind_host,
        "SPARK_LOG_DIR": str(s.state_dir / "spark" / "logs"),
    }
    return Launch([*argv, "spark-internal"], env=env)


def _health(s: Settings) -> health.Health:
    host, port = host_port(s.endpoints.spark_connect)
    return health.tcp(host, port)


SERVICE = Service(
    name="spark",
    description="Spark Connect server (Spark 4, Delta)",
    ports=("spark_connect", "spark_ui"),
    depends_on=("lake",),
    launch=_launch,
    health=_health,
    url=lambda s: f"http://{s.bind_host}:{s.ports.spark_ui}",
    hint="batch steps connect to sc://; the UI lists every job",
)
