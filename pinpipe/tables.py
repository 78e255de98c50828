"""Reads the pipeline's Delta tables without Spark (delta-rs), for the CLI, the DAG's run
summary and tests."""

from __future__ import annotations

from typing import Any

from pinpipe.aws_access import aws_access
from pinpipe.config import Settings
from pinpipe.errors import PinpipeError
from pinpipe.spark import lake


class TableError(PinpipeError):
    """A table is unknown or has not been written yet."""


def storage_options(s: Settings) -> dict[str, str]:
    return aws_access(s, "s3").delta_storage_options()


def table_uri(s: Settings, name: str) -> str:
    try:
        return lake.table_path(s, name, scheme="s3")
    except KeyError as e:
        raise TableError(str(e.args[0])) from e


def read(s: Settings, name: str) -> Any:
    """The table as a pyarrow Table."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri = table_uri(s, name)
    try:
        dataset = DeltaTable(uri, storage_options=storage_options(s)).to_pyarrow_dataset()
        # Arrow's reader threads can outlive the interpreter and abort it at exit; these tables
        # are small, so read them on this thread.
        return dataset.to_table(use_threads=False)
    except TableNotFoundError as e:
        raise TableError(f"{name} has not been written yet ({uri}): run the pipeline first") from e


def rows(s: Settings, name: str) -> list[dict[str, Any]]:
    return list(read(s, name).to_pylist())
