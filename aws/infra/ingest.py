"""The streaming entry: the three Kinesis streams, the role API Gateway writes to them with, and
the REST API built from the same OpenAPI document the sandbox has always used."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, Tags
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_logs as logs
from constructs import Construct

from pinpipe.aws import api_gateway, identity
from pinpipe.aws.infra.nag import suppress
from pinpipe.config import Settings

# What API Gateway may do on the pipeline's own streams (the routes of the OpenAPI document).
STREAM_ACTIONS = [
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:CreateStream",
    "kinesis:DeleteStream",
]


def stream_arn(scope: Construct, name: str) -> str:
    return Stack.of(scope).format_arn(service="kinesis", resource="stream", resource_name=name)


class Streams(Construct):
    """The streams, created here when the profile deploys them; otherwise the sandbox's own,
    referred to by name."""

    def __init__(self, scope: Construct, id: str, *, s: Settings, create: bool) -> None:
        super().__init__(scope, id)
        self.arns: dict[str, str] = {}
        for table, name in s.streams.items():
            if create:
                stream = kinesis.Stream(
                    self,
                    table,
                    stream_name=name,
                    shard_count=s.stream_shards,
                    encryption=kinesis.StreamEncryption.MANAGED,
                    retention_period=Duration.hours(24),
                    removal_policy=RemovalPolicy.DESTROY,
                )
                self.arns[table] = stream.stream_arn
            else:
                self.arns[table] = stream_arn(self, name)


class Api(Construct):
    """The REST API, its stage (with the backend's address as a stage variable), and, when the
    profile asks for it, an API key with a throttled usage plan and access logs."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        s: Settings,
        streams: Streams,
        backend_host: str,
        rest_api_id: str,
        vpc_link_id: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.role = iam.Role(
            self,
            "KinesisRole",
            role_name=f"pinpipe-{s.uid}-apigateway-kinesis",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            description="API Gateway writes to the pipeline's own streams",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=STREAM_ACTIONS, resources=list(streams.arns.values()))
        )
        # Listing cannot be narrowed to named streams; it reveals names in this account only.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["kinesis:ListStreams"], resources=[stream_arn(self, "*")])
        )
        suppress(
            self.role,
            {"AwsSolutions-IAM5": "ListStreams takes no stream name: stream/* is the narrowest"},
        )
        document = api_gateway.openapi_document(
            s,
            self.role.role_arn,
            api_key_required=s.deploy.api_key_required,
            vpc_link=vpc_link_id is not None,
        )
        variables = {"backendHost": backend_host}
        if vpc_link_id is not None:
            variables["vpcLinkId"] = vpc_link_id
        stage = apigw.StageOptions(stage_name=s.api_stage, variables=variables)
        if s.deploy.access_logs:
            log_group = pipeline_log_group(self, "AccessLog", s, "api-access")
            stage = apigw.StageOptions(
                stage_name=s.api_stage,
                variables=variables,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                access_log_destination=apigw.LogGroupLogDestination(log_group),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            )
        self.api = apigw.SpecRestApi(
            self,
            "RestApi",
            rest_api_name=s.api_name,
            api_definition=apigw.ApiDefinition.from_inline(document),
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=s.deploy.access_logs,
            deploy_options=stage,
        )
        reasons = {
            "AwsSolutions-APIG2": "the OpenAPI body validates every record body "
            "(x-amazon-apigateway-request-validator on PutRecord and PutRecords)",
            "AwsSolutions-APIG3": "callers are throttled by the usage plan; a WAF web ACL is a "
            "monthly cost left to the operator",
        }
        if s.deploy.access_logs:
            reasons["AwsSolutions-IAM4"] = (
                "AmazonAPIGatewayPushToCloudWatchLogs is the policy API Gateway documents for "
                "writing its logs"
            )
        else:
            reasons["AwsSolutions-APIG1"] = "the sandbox has no CloudWatch Logs; aws logs access"
            reasons["AwsSolutions-APIG6"] = "the sandbox has no CloudWatch Logs; aws logs errors"
        suppress(self.api, reasons)
        # LocalStack creates the API with this id, so its URL outlives a LocalStack restart; in
        # AWS it is only a tag (see pinpipe.aws.identity).
        Tags.of(self.api).add(identity.CUSTOM_ID_TAG, rest_api_id)
        self.api_key_id: str | None = None
        if s.deploy.api_key_required:
            plan = self.api.add_usage_plan(
                "UsagePlan",
                name=f"pinpipe-{s.uid}",
                throttle=apigw.ThrottleSettings(
                    rate_limit=s.deploy.throttle_rate_per_s, burst_limit=s.deploy.throttle_burst
                ),
                quota=apigw.QuotaSettings(limit=s.deploy.quota_per_day, period=apigw.Period.DAY),
            )
            plan.add_api_stage(stage=self.api.deployment_stage)
            key = self.api.add_api_key("ApiKey", api_key_name=f"pinpipe-{s.uid}")
            plan.add_api_key(key)
            self.api_key_id = key.key_id


def pipeline_log_group(scope: Construct, id: str, s: Settings, name: str) -> logs.LogGroup:
    """A CloudWatch log group ``/pinpipe/<uid>/<name>``, kept as the profile says, removed with
    the stack."""
    return logs.LogGroup(
        scope,
        id,
        log_group_name=f"/pinpipe/{s.uid}/{name}",
        retention=retention(s.deploy.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )


def retention(days: int) -> logs.RetentionDays:
    """The shortest retention CloudWatch Logs offers that keeps ``days``."""
    offered = [
        (1, logs.RetentionDays.ONE_DAY),
        (3, logs.RetentionDays.THREE_DAYS),
        (7, logs.RetentionDays.ONE_WEEK),
        (14, logs.RetentionDays.TWO_WEEKS),
        (30, logs.RetentionDays.ONE_MONTH),
        (90, logs.RetentionDays.THREE_MONTHS),
        (180, logs.RetentionDays.SIX_MONTHS),
        (365, logs.RetentionDays.ONE_YEAR),
    ]
    return next((r for d, r in offered if d >= days), offered[-1][1])
