from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.aws import identity
from pinpipe.config import load_settings

pytestmark = pytest.mark.unit


def test_a_pipelines_api_id_is_chosen_once_per_state_folder(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="aaa")
    first = identity.rest_api_id(s)
    assert len(first) == 10 and first.isalnum() and first == first.lower()
    assert identity.rest_api_id(load_settings(state_dir=tmp_path, uid="aaa")) == first
    assert identity.rest_api_id(load_settings(state_dir=tmp_path, uid="bbb")) != first
    # A reset (a new state folder) is what changes it.
    assert identity.rest_api_id(load_settings(state_dir=tmp_path / "new", uid="aaa")) != first


def test_every_provisioned_pipeline_is_remembered_the_configured_one_first(
    tmp_path: Path,
) -> None:
    identity.remember(load_settings(state_dir=tmp_path, uid="zzz"), "zzzzzzzzzz")
    identity.rest_api_id(load_settings(state_dir=tmp_path, uid="bbb"))
    s = load_settings(state_dir=tmp_path, uid="mmm")
    assert identity.provisioned_uids(s) == ["mmm", "bbb", "zzz"]
    assert identity.rest_api_id(load_settings(state_dir=tmp_path, uid="zzz")) == "zzzzzzzzzz"
