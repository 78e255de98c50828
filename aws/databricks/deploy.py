"""``pinpipe deploy`` in Databricks: upload the wheel ``make dist`` built to
``databricks.artifacts_path``, then create each job, or reset it to its definition when one of
that name exists, so deploying again changes only what changed.

The workspace and its credentials come from the Databricks SDK's own sources (DATABRICKS_HOST
and DATABRICKS_TOKEN, a profile in ~/.databrickscfg, or OAuth); ``databricks.host`` may name
the workspace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pinpipe.aws.databricks import jobs
from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

Progress = Callable[[str], None]


@dataclass(frozen=True)
class AppliedJob:
    name: str
    job_id: int
    action: str  # created, updated

    def __str__(self) -> str:
        return f"{self.action} job {self.name} (id {self.job_id})"


def workspace(s: Settings) -> Any:
    """A client of the profile's workspace, or an error that says how to name one."""
    from databricks.sdk import WorkspaceClient

    try:
        return WorkspaceClient(host=s.databricks.host or None)
    except ValueError as e:  # the SDK found no workspace or credentials
        raise ProvisionError(
            "no Databricks workspace to deploy to: set DATABRICKS_HOST and DATABRICKS_TOKEN, or a "
            "profile in ~/.databrickscfg (DATABRICKS_CONFIG_PROFILE), or databricks.host in "
            f"pinpipe.toml with OAuth ({e})"
        ) from e


def upload_wheel(w: Any, s: Settings, wheel: Path) -> str:
    """Put the wheel where the jobs' tasks install it from; returns that path."""
    from databricks.sdk.service.workspace import ImportFormat

    target = jobs.wheel_uri(s, wheel.name)
    with wheel.open("rb") as content:
        if target.startswith("/Volumes/"):
            w.files.upload(target, content, overwrite=True)
        else:
            w.workspace.mkdirs(s.databricks.artifacts_path)
            # AUTO keeps a file a file (the default would import it as a notebook).
            w.workspace.upload(target, content, format=ImportFormat.AUTO, overwrite=True)
    return target


def apply_job(w: Any, definition: dict[str, Any]) -> AppliedJob:
    from databricks.sdk.service.jobs import JobSettings

    wanted = JobSettings.from_dict(definition)
    name = definition["name"]
    found = list(w.jobs.list(name=name))
    if len(found) > 1:
        ids = ", ".join(str(j.job_id) for j in found)
        raise ProvisionError(f"{len(found)} Databricks jobs are named {name} ({ids}): keep one")
    if found:
        w.jobs.reset(job_id=found[0].job_id, new_settings=wanted)
        return AppliedJob(name, found[0].job_id, "updated")
    fields = {f.name: getattr(wanted, f.name) for f in dataclasses.fields(wanted)}
    created = w.jobs.create(**{k: v for k, v in fields.items() if v is not None})
    return AppliedJob(name, created.job_id, "created")


def deploy(
    s: Settings, wheel: Path, w: Any = None, progress: Progress = lambda _: None
) -> list[AppliedJob]:
    """Upload the wheel and apply the batch and streaming jobs."""
    from databricks.sdk.errors.base import DatabricksError

    definitions = jobs.all_jobs(s, wheel.name)  # a configuration error shows before any upload
    w = w or workspace(s)
    try:
        progress(f"uploading {wheel.name} to {s.databricks.artifacts_path}")
        upload_wheel(w, s, wheel)
        applied = []
        for definition in definitions:
            applied.append(apply_job(w, definition))
            progress(str(applied[-1]))
    except DatabricksError as e:
        raise ProvisionError(f"Databricks refused the deployment: {e}") from e
    return applied
