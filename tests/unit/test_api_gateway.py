from __future__ import annotations

import pytest

from pinpipe.aws.api_gateway import invoke_url, openapi_document
from pinpipe.config import load_settings

pytestmark = pytest.mark.unit

ROLE = "arn:aws:iam::000000000000:role/r"


def test_the_api_proxies_everything_else_to_the_rest_proxy() -> None:
    doc = openapi_document(load_settings(), ROLE)
    proxy = doc["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    integration = proxy["x-amazon-apigateway-integration"]
    assert integration["type"] == "http_proxy"
    assert integration["uri"] == "http://${stageVariables.backendHost}/{proxy}"


@pytest.mark.parametrize(
    ("path", "method", "action"),
    [
        ("/streams", "get", "ListStreams"),
        ("/streams/{stream-name}", "get", "DescribeStream"),
        ("/streams/{stream-name}", "post", "CreateStream"),
        ("/streams/{stream-name}", "delete", "DeleteStream"),
        ("/streams/{stream-name}/record", "put", "PutRecord"),
        ("/streams/{stream-name}/records", "put", "PutRecords"),
    ],
)
def test_kinesis_routes_call_the_kinesis_action_with_the_role(
    path: str, method: str, action: str
) -> None:
    s = load_settings()
    integration = openapi_document(s, ROLE)["paths"][path][method][
        "x-amazon-apigateway-integration"
    ]
    assert integration["uri"] == f"arn:aws:apigateway:{s.region}:kinesis:action/{action}"
    assert integration["credentials"] == ROLE
    assert integration["type"] == "aws" and integration["httpMethod"] == "POST"


def test_put_record_stores_the_json_text_of_data() -> None:
    doc = openapi_document(load_settings(), ROLE)
    template = doc["paths"]["/streams/{stream-name}/record"]["put"][
        "x-amazon-apigateway-integration"
    ]["requestTemplates"]["application/json"]
    assert "$util.base64Encode($input.json('$.Data'))" in template


def test_invoke_url_is_the_local_gateway_or_the_aws_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    local = load_settings()
    assert (
        invoke_url(local, "abc")
        == f"{local.endpoints.apigateway}/_aws/execute-api/abc/{local.api_stage}"
    )
    monkeypatch.setenv("PINPIPE_PROFILE", "aws")
    aws = load_settings()
    assert (
        invoke_url(aws, "abc")
        == f"https://abc.execute-api.{aws.region}.amazonaws.com/{aws.api_stage}"
    )
