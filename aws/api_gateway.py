"""The pipeline's REST API, as one OpenAPI document imported into API Gateway.

Routes (pipeline-spec section 2):
- ``ANY /{proxy+}``: HTTP proxy to the Kafka REST proxy, whose address is the stage variable
  ``backendHost`` (so ``POST /topics/<uid>.pin`` reaches Kafka);
- the standard Kinesis proxy resources: ``GET /streams``,
  ``GET|POST|DELETE /streams/{stream-name}``, ``PUT /streams/{stream-name}/record`` and
  ``PUT /streams/{stream-name}/records``.

The same document is applied to LocalStack and to AWS.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from pinpipe.config import Settings
from pinpipe.errors import ProvisionError

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


def _kinesis_operation(s: Settings, action: str, template: str, role_arn: str) -> dict[str, Any]:
    return {
        "parameters": [
            {"name": "stream-name", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
        if "stream-name" in template
        else [],
        "responses": {"200": {"description": "the Kinesis response"}},
        "x-amazon-apigateway-integration": {
            "type": "aws",
            "httpMethod": "POST",
            "uri": f"arn:aws:apigateway:{s.region}:kinesis:action/{action}",
            "credentials": role_arn,
            "passthroughBehavior": "never",
            "requestParameters": {
                "integration.request.header.Content-Type": "'application/x-amz-json-1.1'"
            },
            "requestTemplates": {JSON: template},
            "responses": {"default": {"statusCode": "200"}},
        },
    }


def openapi_document(s: Settings, role_arn: str) -> dict[str, Any]:
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
        },
    }

    def op(action: str, template: str) -> dict[str, Any]:
        return _kinesis_operation(s, action, template, role_arn)

    return {
        "openapi": "3.0.1",
        "info": {"title": s.api_name, "version": "1.0"},
        "paths": {
            "/{proxy+}": {"x-amazon-apigateway-any-method": proxy},
            "/streams": {"get": op("ListStreams", "{}")},
            "/streams/{stream-name}": {
                "get": op("DescribeStream", STREAM_NAME_TEMPLATE),
                "post": op("CreateStream", CREATE_STREAM_TEMPLATE),
                "delete": op("DeleteStream", STREAM_NAME_TEMPLATE),
            },
            "/streams/{stream-name}/record": {"put": op("PutRecord", PUT_RECORD_TEMPLATE)},
            "/streams/{stream-name}/records": {"put": op("PutRecords", PUT_RECORDS_TEMPLATE)},
        },
    }


def find_api_id(s: Settings) -> str | None:
    client = boto3.client("apigateway", **s.aws_client_kwargs("apigateway"))
    for page in client.get_paginator("get_rest_apis").paginate():
        for api in page["items"]:
            if api["name"] == s.api_name:
                return str(api["id"])
    return None


def deploy_api(s: Settings, role_arn: str, backend_host: str) -> str:
    """Create or update the REST API and deploy it to the stage; returns the API id."""
    client = boto3.client("apigateway", **s.aws_client_kwargs("apigateway"))
    body = json.dumps(openapi_document(s, role_arn)).encode()
    try:
        api_id = find_api_id(s)
        if api_id is None:
            api_id = client.import_rest_api(body=body, failOnWarnings=False)["id"]
        else:
            client.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
        client.create_deployment(
            restApiId=api_id,
            stageName=s.api_stage,
            variables={"backendHost": backend_host},
        )
    except client.exceptions.ClientError as e:
        raise ProvisionError(f"deploying the REST API {s.api_name} failed: {e}") from e
    return api_id


def invoke_url(s: Settings, api_id: str) -> str:
    """The base URL clients call, stage included."""
    if s.endpoints.apigateway:
        return f"{s.endpoints.apigateway}/_aws/execute-api/{api_id}/{s.api_stage}"
    return f"https://{api_id}.execute-api.{s.region}.amazonaws.com/{s.api_stage}"
