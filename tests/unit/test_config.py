from __future__ import annotations

from pathlib import Path

import pytest

from pinpipe.aws_access import aws_access
from pinpipe.config import load_settings
from pinpipe.errors import ConfigError

pytestmark = pytest.mark.unit


def test_explicit_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_PORTS__KAFKA", "19092")
    monkeypatch.setenv("PINPIPE_PORTS__CONNECT", "18083")
    s = load_settings(ports={"kafka": 29092})
    assert s.ports.kafka == 29092
    assert s.ports.connect == 18083
    assert s.endpoints.kafka_bootstrap == "127.0.0.1:29092"


def test_local_profile_points_s3_at_the_lake_and_the_rest_at_localstack() -> None:
    s = load_settings()
    assert s.profile == "local"
    assert s.endpoints.s3 == f"http://127.0.0.1:{s.ports.lake}"
    for service in ("kinesis", "apigateway", "iam", "sts"):
        assert getattr(s.endpoints, service) == f"http://127.0.0.1:{s.ports.localstack}"
    assert s.endpoints.kafka_bootstrap == f"127.0.0.1:{s.ports.kafka}"
    assert aws_access(s, "s3").boto3_kwargs()["endpoint_url"] == s.endpoints.s3


def test_names_derive_from_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_UID", "12ab34cd56ef")
    s = load_settings()
    assert s.bucket == "user-12ab34cd56ef-bucket"
    assert s.topics == {
        "pin": "12ab34cd56ef.pin",
        "geo": "12ab34cd56ef.geo",
        "user": "12ab34cd56ef.user",
    }
    assert s.streams["user"] == "streaming-12ab34cd56ef-user"


def test_a_port_change_moves_the_endpoints_that_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_PORTS__LOCALSTACK", "14566")
    s = load_settings()
    assert s.ports.localstack == 14566
    assert s.endpoints.kinesis == "http://127.0.0.1:14566"


def test_aws_profile_uses_sdk_defaults_and_the_credentials_chain(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PINPIPE_PROFILE", "aws")
    s = load_settings()
    kwargs = aws_access(s, "kinesis").boto3_kwargs()
    assert "endpoint_url" not in kwargs and "aws_access_key_id" not in kwargs
    assert kwargs["region_name"] == s.region


def test_an_invalid_value_names_the_key_and_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_PORTS__KAFKA", "ninety")
    with pytest.raises(ConfigError, match=r"ports\.kafka \(env PINPIPE_PORTS__KAFKA\)"):
        load_settings()


def test_an_unknown_profile_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_PROFILE", "azure")
    with pytest.raises(ConfigError, match="known: aws, local"):
        load_settings()


def test_uid_must_be_usable_in_resource_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINPIPE_UID", "Bad_UID")
    with pytest.raises(ConfigError, match="uid"):
        load_settings()


def test_settings_are_immutable() -> None:
    s = load_settings()
    with pytest.raises(ValueError):
        s.uid = "other"


def test_a_non_loopback_bind_host_needs_an_explicit_opt_in() -> None:
    with pytest.raises(ConfigError, match=r"bind_host .*allow_external_bind"):
        load_settings(bind_host="0.0.0.0")
    assert load_settings(bind_host="0.0.0.0", allow_external_bind=True).bind_host == "0.0.0.0"
    assert load_settings(bind_host="::1").bind_host == "::1"


def test_the_airflow_password_is_generated_once_and_private(tmp_path: Path) -> None:
    from pinpipe.sandbox.services.airflow import admin_password

    s = load_settings(state_dir=tmp_path)
    first = admin_password(s)
    assert len(first) >= 20 and first == admin_password(s)
    assert (tmp_path / "airflow" / "admin-password").stat().st_mode & 0o777 == 0o600
    assert admin_password(load_settings(state_dir=tmp_path, airflow={"password": "x"})) == "x"


def test_the_spark_servers_heap_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pinpipe.sandbox.services.spark import server_conf

    monkeypatch.setenv("PINPIPE_BATCH__SERVER_MEMORY", "3g")
    s = load_settings()
    monkeypatch.setattr("pinpipe.spark.session.spark_jars", lambda _: [])
    assert server_conf(s)["spark.driver.memory"] == "3g"
    monkeypatch.setenv("PINPIPE_BATCH__SERVER_MEMORY", "lots")
    with pytest.raises(ConfigError, match=r"batch\.server_memory"):
        load_settings()
