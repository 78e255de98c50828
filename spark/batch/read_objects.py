"""Which landed objects the batch job has merged into a silver table: a small file per table
in the lake (``checkpoints/batch/<table>/read-objects.json``), as Auto Loader keeps one per
stream.

A run lists the topic's objects, reads those not recorded yet, writes silver and quarantine,
and only then records them. A run that crashes in between reads them again in the next one,
which the merges make harmless: rows equal to the table's are not rewritten. A run of the DAG
reads only what had landed when it was due, so what a run reads depends on the run, not on when
it happened to start: objects that land later are left to the next run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pinpipe import lake_files
from pinpipe.config import Settings
from pinpipe.spark import lake

LANDED_SUFFIX = ".json"
RECORD_NAME = "read-objects.json"


@dataclass(frozen=True)
class NewObjects:
    uris: list[str]  # to read, in name order
    names: set[str]  # every object read once these are: the record to write after them
    first: bool  # nothing was read before: the tables are to be rebuilt from these
    later: int  # not read yet, but landed at or after the run's bound: left to the next run


def _record_uri(s: Settings, table: str) -> str:
    return f"{lake.batch_checkpoint_path(s, table)}/{RECORD_NAME}"


def read_record(s: Settings, table: str) -> set[str] | None:
    """Names (relative to the topic's folder) of the objects read so far; None before the first
    run, and after ``forget``."""
    text = lake_files.read_text(s, _record_uri(s, table))
    return None if text is None else set(json.loads(text)["objects"])


def new_objects(s: Settings, table: str, landed_before: datetime | None = None) -> NewObjects:
    """The table's landed objects not read yet (only those landed before ``landed_before``, if
    given)."""
    landed = lake_files.list_files_with_times(s, lake.landed_topic(s, table), LANDED_SUFFIX)
    done = read_record(s, table)
    unread = sorted(name for name in landed if done is None or name not in done)
    new = [n for n in unread if landed_before is None or landed[n].modified < landed_before]
    return NewObjects(
        uris=[landed[n].uri for n in new],
        names=set(new) | (done or set()),
        first=done is None,
        later=len(unread) - len(new),
    )


def record(s: Settings, table: str, names: set[str]) -> None:
    text = json.dumps({"objects": sorted(names)}, indent=0)
    lake_files.write_text(s, _record_uri(s, table), text)


def forget(s: Settings, table: str) -> None:
    """The next run reads every landed object again and rebuilds the table from them."""
    lake_files.delete_tree(s, lake.batch_checkpoint_path(s, table))
