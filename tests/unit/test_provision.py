from __future__ import annotations

import pytest

from pinpipe.aws.provision import apigateway_role_policy
from pinpipe.config import load_settings

pytestmark = pytest.mark.unit


def test_the_api_role_acts_on_the_pipelines_own_streams_only() -> None:
    s = load_settings()
    policy = apigateway_role_policy(s, "123456789012")
    statements = policy["Statement"]
    assert isinstance(statements, list)
    resources = [r for st in statements for r in st["Resource"]]
    assert "*" not in resources
    put = next(st for st in statements if "kinesis:PutRecord" in st["Action"])
    assert sorted(put["Resource"]) == sorted(
        f"arn:aws:kinesis:{s.region}:123456789012:stream/{name}" for name in s.streams.values()
    )
