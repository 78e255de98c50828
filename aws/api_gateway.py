"""The pipeline's REST API, as one OpenAPI document imported into API Gateway.

Routes (pipeline-spec section 2):
- ``ANY /{proxy+}``: HTTP proxy to the Kafka REST proxy, whose address is the stage variable
  ``backendHost`` (so ``POST /topics/<uid>.pin`` reaches Kafka);
- the standard Kinesis proxy resources: ``GET /streams``,
  ``GET|POST|DELETE /streams/{stream-name}``, ``PUT /streams/{stream-name}/record`` and
  ``PUT /streams/{stream-name}/records``.

Kinesis errors keep an error status: a Kinesis 4xx becomes 400 (404 for an unknown stream, 409
for a stream in use, 429 for throttling and limits), a Kinesis 5xx becomes 502 (503 when Kinesis
says 503), each with the body ``{"error": "<exception name>", "message": "<Kinesis message>"}``.
The gateway itself refuses a record body that is not valid (400) and a body that is not JSON by
its Content-Type (415) before Kinesis is called.

The same document is applied to LocalStack and to AWS.
"""

from __future__ import annotations

from typing import Any

from pinpipe.aws_access import aws_access, aws_client
from pinpipe.config import Settings

JSON = "application/json"

# PutRecord stores the JSON text of the body's Data as the record data.
PUT_RECORD_TEMPLATE = """{
  "StreamName": "$input.params('stream-name')",
  "Data": "$util.base64Encode($input.json('$.Data'))",
  "PartitionKey": "$input.path('$.PartitionKey')"
}"""

# PutRecords takes {"Records": [{"Data": {...}, "PartitionKey": "..."}, ...]}.
PUT_RECORDS_TEMPLATE = """#set($records = $input.path('$.Records'))
{
  "StreamName": "$input.params('stream-name')",
  "Records": [
#foreach($r in $records)
    {
      "Data": "$util.base64Encode($input.json("$.Records[$foreach.index].Data"))",
      "PartitionKey": "$r.PartitionKey"
    }#if($foreach.hasNext),#end
#end
  ]
}"""

STREAM_NAME_TEMPLATE = """{"StreamName": "$input.params('stream-name')"}"""

CREATE_STREAM_TEMPLATE = """{
  "ShardCount": #if($input.path('$.ShardCount') == "")1#else$input.path('$.ShardCount')#end,
  "StreamName": "$input.params('stream-name')"
}"""


# Kinesis exception name -> the client status it stands for; other Kinesis 4xx stay 400.
ERROR_STATUS: dict[str, int] = {
    "ResourceNotFoundException": 404,
    "ResourceInUseException": 409,
    "ProvisionedThroughputExceededException": 429,
    "LimitExceededException": 429,
    "KMSThrottlingException": 429,
}

# For AWS (non-Lambda) integrations the pattern is matched against Kinesis's HTTP status. The
# patterns must not overlap: which of several matching responses wins is not defined.
CLIENT_ERROR_PATTERN = r"4\d{2}"
UNAVAILABLE_PATTERN = "503"
SERVER_ERROR_PATTERN = r"50[0-24-9]|5[1-9]\d"

VALIDATOR = "body-and-params"
DRAFT4 = "http://json-schema.org/draft-04/schema#"


def _status_overrides() -> str:
    branches = [
        f"#{'if' if i == 0 else 'elseif'}($error == '{name}')\n"
        f"#set($context.responseOverride.status = {status})\n"
        for i, (name, status) in enumerate(ERROR_STATUS.items())
    ]
    return "".join(branches) + "#end\n"


def error_template(fallback: str, overrides: bool) -> str:
    """Response template: Kinesis's ``__type`` (namespace dropped) and message as JSON.

    ``$util.escapeJavaScript`` escapes ``'`` as ``\\'``, which JSON does not allow: undone.
    """
    return (
        "#set($error = $input.path('$.__type'))\n"
        f"#if(!$error || $error == '')#set($error = '{fallback}')#end\n"
        "#set($error = $error.replaceAll('^.*#', ''))\n"
        "#set($message = $input.path('$.message'))\n"
        "#if(!$message || $message == '')#set($message = $input.path('$.Message'))#end\n"
        "#if(!$message || $message == '')#set($message = $error)#end\n"
        + (_status_overrides() if overrides else "")
        + '{"error": "$util.escapeJavaScript($error)", '
        '"message": "$util.escapeJavaScript($message).replaceAll("\\\\\'", "\'")"}'
    )


def _integration_responses() -> dict[str, Any]:
    def error(status: str, fallback: str, overrides: bool = False) -> dict[str, Any]:
        return {
            "statusCode": status,
            "responseTemplates": {JSON: error_template(fallback, overrides)},
        }

    return {
        CLIENT_ERROR_PATTERN: error("400", "BadRequest", overrides=True),
        UNAVAILABLE_PATTERN: error("503", "ServiceUnavailable"),
        SERVER_ERROR_PATTERN: error("502", "InternalFailure"),
        "default": {"statusCode": "200"},
    }


def _method_responses() -> dict[str, Any]:
    error = {"content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
    described = {
        "400": "Kinesis or the gateway refused the request",
        "404": "no such stream",
        "409": "the stream is being created, updated or deleted",
        "415": "the body is not application/json",
        "429": "throttled by Kinesis, or a Kinesis limit was reached",
        "502": "Kinesis failed",
        "503": "Kinesis is unavailable",
    }
    return {
        "200": {"description": "the Kinesis response"},
        **{status: {"description": text, **error} for status, text in described.items()},
    }


def _record_entry() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Data", "PartitionKey"],
        "properties": {
            "Data": {"type": "object"},
            "PartitionKey": {"type": "string", "minLength": 1, "maxLength": 256},
        },
    }


def schemas() -> dict[str, Any]:
    """Request models (JSON Schema draft 4, as API Gateway wants) and the error body."""
    records = {
        "type": "object",
        "required": ["Records"],
        "properties": {
            "Records": {
                "type": "array",
                "minItems": 1,
                "maxItems": 500,
                "items": {"$ref": "#/components/schemas/PutRecordsEntry"},
            }
        },
    }
    error = {
        "type": "object",
        "required": ["message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    }
    models = {
        "PutRecord": _record_entry(),
        "PutRecordsEntry": _record_entry(),
        "PutRecords": records,
        "Error": error,
    }
    return {name: {"$schema": DRAFT4, **schema} for name, schema in models.items()}


def _kinesis_operation(
    s: Settings, action: str, template: str, role_arn: str, model: str | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "parameters": [
            {"name": "stream-name", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
        if "stream-name" in template
        else [],
        "responses": _method_responses(),
        "x-amazon-apigateway-integration": {
            "type": "aws",
            "httpMethod": "POST",
            "uri": f"arn:aws:apigateway:{s.region}:kinesis:action/{action}",
            "credentials": role_arn,
            # With no template for the request's Content-Type, answer 415 instead of passing
            # the body through.
            "passthroughBehavior": "never",
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
            },
            "requestTemplates": {JSON: template},
            "responses": _integration_responses(),
        },
    }
    if model:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{model}"}}},
        }
        operation["x-amazon-apigateway-request-validator"] = VALIDATOR
    return operation


API_KEY_SCHEME = "api_key"


def openapi_document(
    s: Settings, role_arn: str, *, api_key_required: bool = False, vpc_link: bool = False
) -> dict[str, Any]:
    """The whole API. With ``api_key_required`` every operation needs the ``x-api-key`` header
    (and a usage plan the key belongs to); with ``vpc_link`` the proxy route reaches the REST
    proxy through the VPC link named by the stage variable ``vpcLinkId``."""
    proxy = {
        "parameters": [
            {"name": "proxy", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {},
        "x-amazon-apigateway-integration": {
            "type": "http_proxy",
            "httpMethod": "ANY",
            "uri": "http://${stageVariables.backendHost}/{proxy}",
            "passthroughBehavior": "when_no_match",
            "requestParameters": {"integration.request.path.proxy": "method.request.path.proxy"},
            **(
                {"connectionType": "VPC_LINK", "connectionId": "${stageVariables.vpcLinkId}"}
                if vpc_link
                else {}
            ),
        },
    }

    def op(action: str, template: str, model: str | None = None) -> dict[str, Any]:
        return _kinesis_operation(s, action, template, role_arn, model)

    paths: dict[str, Any] = {
        "/{proxy+}": {"x-amazon-apigateway-any-method": proxy},
        "/streams": {"get": op("ListStreams", "{}")},
        "/streams/{stream-name}": {
            "get": op("DescribeStream", STREAM_NAME_TEMPLATE),
            "post": op("CreateStream", CREATE_STREAM_TEMPLATE),
            "delete": op("DeleteStream", STREAM_NAME_TEMPLATE),
        },
        "/streams/{stream-name}/record": {"put": op("PutRecord", PUT_RECORD_TEMPLATE, "PutRecord")},
        "/streams/{stream-name}/records": {
            "put": op("PutRecords", PUT_RECORDS_TEMPLATE, "PutRecords")
        },
    }
    components: dict[str, Any] = {"schemas": schemas()}
    keyed: dict[str, Any] = {}
    if api_key_required:
        for operations in paths.values():
            for operation in operations.values():
                operation["security"] = [{API_KEY_SCHEME: []}]
        components["securitySchemes"] = {
            API_KEY_SCHEME: {"type": "apiKey", "name": "x-api-key", "in": "header"}
        }
        keyed = {"x-amazon-apigateway-api-key-source": "HEADER"}
    return {
        "openapi": "3.0.1",
        "info": {"title": s.api_name, "version": "1.0"},
        **keyed,
        "x-amazon-apigateway-request-validators": {
            VALIDATOR: {"validateRequestBody": True, "validateRequestParameters": True}
        },
        "paths": paths,
        "components": components,
    }


def find_api_id(s: Settings) -> str | None:
    client = aws_client(s, "apigateway")
    for page in client.get_paginator("get_rest_apis").paginate():
        for api in page["items"]:
            if api["name"] == s.api_name:
                return str(api["id"])
    return None


def invoke_url(s: Settings, api_id: str) -> str:
    """The base URL clients call, stage included: LocalStack's path on a configured endpoint
    (the one the API was deployed through), else the AWS one."""
    endpoint = aws_access(s, "apigateway").endpoint_url
    if endpoint:
        return f"{endpoint}/_aws/execute-api/{api_id}/{s.api_stage}"
    return f"https://{api_id}.execute-api.{s.region}.amazonaws.com/{s.api_stage}"
