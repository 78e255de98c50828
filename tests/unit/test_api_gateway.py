from __future__ import annotations

import re
from typing import Any

import pytest

from pinpipe.aws.api_gateway import (
    ERROR_STATUS,
    PUT_RECORD_TEMPLATE,
    PUT_RECORDS_TEMPLATE,
    SERVER_ERROR_PATTERN,
    invoke_url,
    openapi_document,
)
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


KINESIS_ROUTES = [
    ("/streams", "get"),
    ("/streams/{stream-name}", "get"),
    ("/streams/{stream-name}", "post"),
    ("/streams/{stream-name}", "delete"),
    ("/streams/{stream-name}/record", "put"),
    ("/streams/{stream-name}/records", "put"),
]


def _operation(path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = openapi_document(load_settings(), ROLE)["paths"][path][method]
    return operation


@pytest.mark.parametrize(("path", "method"), KINESIS_ROUTES)
def test_kinesis_errors_keep_an_error_status(path: str, method: str) -> None:
    operation = _operation(path, method)
    responses = operation["x-amazon-apigateway-integration"]["responses"]
    assert {p: r["statusCode"] for p, r in responses.items()} == {
        r"4\d{2}": "400",
        "503": "503",
        r"50[0-24-9]|5[1-9]\d": "502",
        "default": "200",
    }
    assert "responseTemplates" not in responses["default"]  # success passes through
    # Every status the integration responses or their overrides give is a method response.
    given = {r["statusCode"] for r in responses.values()} | {str(s) for s in ERROR_STATUS.values()}
    assert given | {"415"} <= set(operation["responses"])
    assert operation["x-amazon-apigateway-integration"]["passthroughBehavior"] == "never"


@pytest.mark.parametrize("status", ["400", "404", "429", "499"])
def test_kinesis_4xx_selects_the_client_error_response(status: str) -> None:
    patterns = _operation("/streams/{stream-name}/record", "put")[
        "x-amazon-apigateway-integration"
    ]["responses"]
    matching = [p for p in patterns if p != "default" and re.fullmatch(p, status)]
    assert matching == [r"4\d{2}"]


@pytest.mark.parametrize(
    ("status", "pattern"),
    [
        ("500", SERVER_ERROR_PATTERN),
        ("503", "503"),
        ("504", SERVER_ERROR_PATTERN),
        ("599", SERVER_ERROR_PATTERN),
    ],
)
def test_each_kinesis_5xx_selects_exactly_one_response(status: str, pattern: str) -> None:
    patterns = _operation("/streams/{stream-name}/record", "put")[
        "x-amazon-apigateway-integration"
    ]["responses"]
    # API Gateway matches the whole status; LocalStack only its start: both must agree.
    assert [p for p in patterns if p != "default" and re.fullmatch(p, status)] == [pattern]
    assert [p for p in patterns if p != "default" and re.match(p, status)] == [pattern]


def test_the_client_error_template_names_the_error_and_overrides_the_status() -> None:
    responses = _operation("/streams/{stream-name}/record", "put")[
        "x-amazon-apigateway-integration"
    ]["responses"]
    template = responses[r"4\d{2}"]["responseTemplates"]["application/json"]
    assert "$input.path('$.__type')" in template and "$input.path('$.message')" in template
    assert "replaceAll('^.*#', '')" in template  # the namespace some services prefix
    for name, status in ERROR_STATUS.items():
        assert f"($error == '{name}')\n#set($context.responseOverride.status = {status})" in (
            template
        )
    assert ERROR_STATUS["ResourceNotFoundException"] == 404
    assert ERROR_STATUS["ProvisionedThroughputExceededException"] == 429
    assert ERROR_STATUS["LimitExceededException"] == 429
    # The 5xx templates change no status.
    assert "responseOverride" not in responses["503"]["responseTemplates"]["application/json"]
    body_line = template.splitlines()[-1]
    assert body_line.startswith('{"error": "$util.escapeJavaScript($error)"')


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/streams/{stream-name}/record", "PutRecord"),
        ("/streams/{stream-name}/records", "PutRecords"),
    ],
)
def test_record_bodies_are_validated_by_the_gateway(path: str, model: str) -> None:
    doc = openapi_document(load_settings(), ROLE)
    operation = doc["paths"][path]["put"]
    validator = operation["x-amazon-apigateway-request-validator"]
    assert doc["x-amazon-apigateway-request-validators"][validator]["validateRequestBody"]
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref == f"#/components/schemas/{model}"
    assert model in doc["components"]["schemas"]
    # The request templates are unchanged.
    assert operation["x-amazon-apigateway-integration"]["requestTemplates"] == {
        "application/json": PUT_RECORD_TEMPLATE if model == "PutRecord" else PUT_RECORDS_TEMPLATE
    }


def test_only_the_record_routes_have_a_body_model() -> None:
    for path, method in KINESIS_ROUTES:
        operation = _operation(path, method)
        has_model = "requestBody" in operation
        assert has_model == path.endswith(("/record", "/records")), (path, method)
        assert ("x-amazon-apigateway-request-validator" in operation) == has_model


def _validates(schema_name: str, body: Any) -> bool:
    """Draft-4 validation with the document's schemas, local references resolved."""
    import jsonschema

    schemas = openapi_document(load_settings(), ROLE)["components"]["schemas"]
    resolver = {"components": {"schemas": schemas}}
    schema = {**schemas[schema_name], **resolver}
    try:
        jsonschema.Draft4Validator(schema).validate(body)
    except jsonschema.ValidationError:
        return False
    return True


RECORD = {"Data": {"ind": 1}, "PartitionKey": "1"}


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"StreamName": "s", **RECORD}, True),
        ({"Data": {"ind": 1}}, False),
        ({**RECORD, "PartitionKey": ""}, False),
        ({**RECORD, "PartitionKey": 1}, False),
        ({**RECORD, "PartitionKey": "k" * 257}, False),
        ({**RECORD, "Data": "text"}, False),
        ({"PartitionKey": "1"}, False),
        ([RECORD], False),
    ],
)
def test_put_record_model(body: Any, valid: bool) -> None:
    assert _validates("PutRecord", body) is valid


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"StreamName": "s", "Records": [RECORD, RECORD]}, True),
        ({"Records": []}, False),
        ({}, False),
        ({"Records": [RECORD, {"Data": {"ind": 2}}]}, False),
        ({"Records": [RECORD, {**RECORD, "Data": 2}]}, False),
        ({"Records": [RECORD] * 501}, False),
        ({"Records": RECORD}, False),
    ],
)
def test_put_records_model(body: Any, valid: bool) -> None:
    assert _validates("PutRecords", body) is valid
