"""One CloudFormation stack per pipeline user, holding the parts the profile deploys.

The uid, the REST API's id and (in the sandbox) the REST proxy's address are stack parameters,
so one synthesized template serves every pipeline of a profile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    CfnOutput,
    CfnParameter,
    Environment,
    IStackSynthesizer,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_s3 as s3
from constructs import Construct

from pinpipe.aws.infra.connect import SinkConnector
from pinpipe.aws.infra.ingest import Api, Streams
from pinpipe.aws.infra.kafka import Kafka, RestProxyHost
from pinpipe.aws.infra.nag import suppress
from pinpipe.aws.infra.network import Network, access_log_bucket
from pinpipe.aws.infra.orchestration import Orchestration
from pinpipe.aws.infra.outputs import (
    OUTPUT_API_ID,
    OUTPUT_API_KEY_ID,
    OUTPUT_BOOTSTRAP,
    OUTPUT_LAKE_BUCKET,
    OUTPUT_MWAA,
    OUTPUT_MWAA_BUCKET,
    PARAM_BACKEND_HOST,
    PARAM_REST_API_ID,
    PARAM_UID,
)
from pinpipe.config import Settings


@dataclass(frozen=True)
class BuildInputs:
    """What the stack is built from besides the settings: folders it stages assets in."""

    plugin_dir: Path
    work_dir: Path


# The construct ids of the handler functions the CDK adds to a stack by itself.
CDK_HANDLERS = ("Custom::CDKBucketDeployment", "AWS679f53fac002430cb0da5b7982bd2287")


class PipelineStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        s: Settings,
        inputs: BuildInputs,
        stack_name: str,
        env: Environment,
        synthesizer: IStackSynthesizer,
        uid_default: str | None = None,
    ) -> None:
        super().__init__(
            scope,
            id,
            stack_name=stack_name,
            env=env,
            synthesizer=synthesizer,
            description="pinpipe: the cloud side of a Pinterest-style data pipeline",
        )
        parts = set(s.deploy.parts)
        uid = CfnParameter(
            self,
            PARAM_UID,
            description="the pipeline user every name derives from",
            allowed_pattern="[a-z0-9]+",
            default=uid_default,
        ).value_as_string
        rest_api_id = CfnParameter(
            self,
            PARAM_REST_API_ID,
            default="",
            description="the REST API id the sandbox's API Gateway creates the API with",
        ).value_as_string
        # Every uid-derived name below is this stack's parameter.
        s = s.model_copy(update={"uid": uid})
        for part in parts:
            self.add_metadata(f"pinpipe:part:{part}", True)
        access_logs = access_log_bucket(self, "AccessLogs") if parts & {"lake", "kafka"} else None
        lake: s3.IBucket
        if "lake" in parts:
            lake = s3.Bucket(
                self,
                "Lake",
                bucket_name=s.bucket,
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                server_access_logs_bucket=access_logs,
                server_access_logs_prefix="lake/",
                # `pinpipe destroy` keeps the data unless asked (--delete-data).
                removal_policy=RemovalPolicy.RETAIN,
            )
            CfnOutput(self, OUTPUT_LAKE_BUCKET, value=lake.bucket_name)
        else:
            lake = s3.Bucket.from_bucket_name(self, "Lake", s.bucket)
        streams = Streams(self, "Streams", s=s, create="streams" in parts)
        if "kafka" in parts:
            assert access_logs is not None
            network = Network(self, "Network", s=s, access_logs=access_logs)
            kafka = Kafka(self, "Kafka", s=s, network=network)
            CfnOutput(self, OUTPUT_BOOTSTRAP, value=kafka.bootstrap)
            host = RestProxyHost(
                self,
                "RestProxy",
                s=s,
                network=network,
                kafka=kafka,
                code_dir=inputs.work_dir / "rest-proxy-code",
            )
            api = Api(
                self,
                "Ingest",
                s=s,
                streams=streams,
                backend_host=host.backend_host,
                rest_api_id=rest_api_id,
                vpc_link_id=host.vpc_link.vpc_link_id,
            )
            if "connect" in parts:
                SinkConnector(
                    self,
                    "S3Sink",
                    s=s,
                    network=network,
                    kafka=kafka,
                    lake=lake,
                    plugin_dir=inputs.plugin_dir,
                )
            if "orchestration" in parts:
                airflow = Orchestration(self, "Airflow", s=s, network=network, lake=lake)
                CfnOutput(self, OUTPUT_MWAA, value=airflow.environment.ref)
                CfnOutput(self, OUTPUT_MWAA_BUCKET, value=airflow.bucket.bucket_name)
        else:
            backend = CfnParameter(
                self,
                PARAM_BACKEND_HOST,
                description="host:port of the Kafka REST proxy API Gateway forwards to",
            ).value_as_string
            api = Api(
                self, "Ingest", s=s, streams=streams, backend_host=backend, rest_api_id=rest_api_id
            )
        CfnOutput(self, OUTPUT_API_ID, value=api.api.rest_api_id)
        if api.api_key_id:
            CfnOutput(self, OUTPUT_API_KEY_ID, value=api.api_key_id)
        # Lambda functions the CDK itself adds: BucketDeployment's and AwsCustomResource's.
        for child in self.node.children:
            if child.node.id.startswith(CDK_HANDLERS):
                suppress(
                    child,
                    {
                        "AwsSolutions-IAM4": "AWSLambdaBasicExecutionRole (logs only), as the "
                        "CDK sets it on its own handler functions",
                        "AwsSolutions-IAM5": "the CDK's BucketDeployment copies from the asset "
                        "bucket into MWAA's bucket; its grants are the CDK's",
                        "AwsSolutions-L1": "a handler function of the CDK; aws-cdk-lib picks its "
                        "runtime",
                    },
                )
