"""What decides a new synthesis, and how the REST proxy authenticates to MSK."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from pinpipe.aws import deploy
from pinpipe.config import load_settings
from pinpipe.services.rest_proxy.kafka_auth import client_config

pytestmark = pytest.mark.unit


def test_one_template_serves_every_uid_and_a_setting_change_makes_a_new_one() -> None:
    s = load_settings()
    assert deploy.fingerprint(s) == deploy.fingerprint(s.model_copy(update={"uid": "other1"}))
    assert deploy.fingerprint(s) != deploy.fingerprint(s.model_copy(update={"api_stage": "v2"}))
    aws = load_settings(profile="aws")
    assert deploy.fingerprint(aws) != deploy.fingerprint(s)


def test_the_stack_parameters_carry_the_uid_and_its_api_id(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    assembly = deploy.Assembly(
        directory=tmp_path,
        template={"Parameters": {"Uid": {}, "RestApiId": {}, "BackendHost": {}}},
        assets={},
    )
    values = {p["ParameterKey"]: p["ParameterValue"] for p in deploy.parameters(s, assembly)}
    assert values["Uid"] == s.uid
    assert values["BackendHost"] == s.endpoints.rest_proxy
    assert len(values["RestApiId"]) == 10
    # The id is chosen once per uid.
    assert deploy.parameters(s, assembly) == deploy.parameters(s, assembly)


def test_the_rest_proxy_signs_in_to_msk_with_iam_over_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = client_config("broker:9092")
    assert "security.protocol" not in plain
    msk = client_config("b-1.msk:9098", msk_iam_region="eu-west-1")
    assert msk["security.protocol"] == "SASL_SSL"
    assert msk["sasl.mechanism"] == "OAUTHBEARER"
    # The token is a signed request for kafka-cluster:Connect, made offline from the keys.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    token, expiry = msk["oauth_cb"]("")
    signed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    assert signed.startswith("https://kafka.eu-west-1.amazonaws.com/")
    assert "Action=kafka-cluster%3AConnect" in signed
    assert expiry > time.time()


def test_the_rest_proxy_host_installs_the_locked_versions() -> None:
    from pinpipe.aws.infra.kafka import HOST_PACKAGES, host_requirements

    pins = host_requirements()
    assert [p.split("==")[0] for p in pins] == list(HOST_PACKAGES)
    assert all("==" in p and p.split("==")[1] for p in pins)
