"""Identities that must not change while the sandbox's state lives: which pipelines (uids) were
provisioned, and the id of each one's REST API, hence its invoke URL.

LocalStack keeps API Gateway in memory and gives a REST API a random id when it is created, so
after a restart every client holding the invoke URL would break. The id is therefore chosen
here, once per uid, kept in ``state/pipelines.json``, and passed as the ``_custom_id_`` tag that
LocalStack honours (AWS keeps the API itself, so there the tag is only a tag). ``make reset``,
which wipes the state folder, is the only thing that changes it.
"""

from __future__ import annotations

import json
import secrets
import string
from pathlib import Path
from typing import Any

from pinpipe.config import Settings

CUSTOM_ID_TAG = "_custom_id_"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def registry(s: Settings) -> Path:
    return s.state_dir / "pipelines.json"


def _load(s: Settings) -> dict[str, dict[str, Any]]:
    path = registry(s)
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _save(s: Settings, pipelines: dict[str, dict[str, Any]]) -> None:
    path = registry(s)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(pipelines, indent=2, sort_keys=True))
    tmp.replace(path)


def rest_api_id(s: Settings) -> str:
    """The REST API id of the settings' uid, chosen at its first provisioning."""
    pipelines = _load(s)
    entry = pipelines.setdefault(s.uid, {})
    if "rest_api_id" not in entry:
        entry["rest_api_id"] = "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))
        _save(s, pipelines)
    return str(entry["rest_api_id"])


def remember(s: Settings, api_id: str) -> None:
    """Record the id of the uid's REST API as it exists, so it is re-created with that id."""
    pipelines = _load(s)
    if pipelines.get(s.uid, {}).get("rest_api_id") != api_id:
        pipelines.setdefault(s.uid, {})["rest_api_id"] = api_id
        _save(s, pipelines)


def forget(s: Settings) -> None:
    """Drop the uid's record, so the next ``up`` does not provision it again."""
    pipelines = _load(s)
    if pipelines.pop(s.uid, None) is not None:
        _save(s, pipelines)


def provisioned_uids(s: Settings) -> list[str]:
    """Every uid provisioned in this state folder, the settings' own first."""
    return [s.uid, *sorted(uid for uid in _load(s) if uid != s.uid)]
