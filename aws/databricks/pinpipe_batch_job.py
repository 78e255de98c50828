"""Entry point Databricks runs for each batch step (spark_python_task); upload it next to the
pinpipe wheel (the path in ``databricks.artifacts_path``). Arguments are those of
``python -m pinpipe.spark.batch.job``."""

import sys

from pinpipe.spark.batch.job import main

if __name__ == "__main__":
    main(sys.argv[1:])
