"""MSK Connect: the S3 sink's jars as a custom plugin, its worker configuration, and the connector
with the configuration the sandbox registers with its own Kafka Connect."""

from __future__ import annotations

import base64
from pathlib import Path

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kafkaconnect as kafkaconnect
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from pinpipe.aws import connector
from pinpipe.aws.infra.ingest import pipeline_log_group
from pinpipe.aws.infra.kafka import Kafka
from pinpipe.aws.infra.nag import suppress
from pinpipe.aws.infra.network import Network
from pinpipe.config import Settings

KAFKA_CONNECT_VERSION = "3.7.x"
WORKER_PROPERTIES = (
    "key.converter=org.apache.kafka.connect.converters.ByteArrayConverter\n"
    "value.converter=org.apache.kafka.connect.converters.ByteArrayConverter\n"
)
# Where MSK Connect keeps the connector's offsets, configs and status.
INTERNAL_TOPICS = "__amazon_msk_connect_*"


class SinkConnector(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        s: Settings,
        network: Network,
        kafka: Kafka,
        lake: s3.IBucket,
        plugin_dir: Path,
    ) -> None:
        super().__init__(scope, id)
        plugin_zip = s3_assets.Asset(self, "PluginJars", path=str(plugin_dir))
        plugin = kafkaconnect.CfnCustomPlugin(
            self,
            "Plugin",
            name=f"pinpipe-{s.uid}-s3-sink",
            content_type="ZIP",
            location=kafkaconnect.CfnCustomPlugin.CustomPluginLocationProperty(
                s3_location=kafkaconnect.CfnCustomPlugin.S3LocationProperty(
                    bucket_arn=plugin_zip.bucket.bucket_arn, file_key=plugin_zip.s3_object_key
                )
            ),
        )
        worker = kafkaconnect.CfnWorkerConfiguration(
            self,
            "Worker",
            name=f"pinpipe-{s.uid}-worker",
            properties_file_content=base64.b64encode(WORKER_PROPERTIES.encode()).decode(),
        )
        role = iam.Role(
            self,
            "Role",
            role_name=f"pinpipe-{s.uid}-s3-sink",
            assumed_by=iam.ServicePrincipal("kafkaconnect.amazonaws.com"),
            description="The S3 sink: read the pipeline's topics, write the lake's topics/ prefix",
        )
        kafka.grant_connect(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                resources=[kafka.arn("topic", t) for t in s.topics.values()],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "kafka-cluster:CreateTopic",
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:ReadData",
                    "kafka-cluster:WriteData",
                ],
                resources=[kafka.arn("topic", INTERNAL_TOPICS)],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                resources=[
                    kafka.arn("group", f"connect-{s.connector_name}"),
                    kafka.arn("group", INTERNAL_TOPICS),
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[lake.bucket_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                resources=[lake.arn_for_objects("topics/*")],
            )
        )
        suppress(
            role,
            {
                "AwsSolutions-IAM5": "the sink writes objects it names as it goes under topics/ "
                "only; MSK Connect's internal topics and groups are named by the service "
                "(__amazon_msk_connect_*)"
            },
        )
        log_group = pipeline_log_group(self, "Log", s, "s3-sink")
        config = connector.connector_config(s)
        config.pop("aws.access.key.id", None)
        config.pop("aws.secret.access.key", None)
        self.connector = kafkaconnect.CfnConnector(
            self,
            "Connector",
            connector_name=s.connector_name,
            kafka_connect_version=KAFKA_CONNECT_VERSION,
            connector_configuration=config,
            capacity=kafkaconnect.CfnConnector.CapacityProperty(
                provisioned_capacity=kafkaconnect.CfnConnector.ProvisionedCapacityProperty(
                    mcu_count=1, worker_count=1
                )
            ),
            kafka_cluster=kafkaconnect.CfnConnector.KafkaClusterProperty(
                apache_kafka_cluster=kafkaconnect.CfnConnector.ApacheKafkaClusterProperty(
                    bootstrap_servers=kafka.bootstrap,
                    vpc=kafkaconnect.CfnConnector.VpcProperty(
                        security_groups=[kafka.client_group.security_group_id],
                        subnets=network.private_subnet_ids,
                    ),
                )
            ),
            kafka_cluster_client_authentication=kafkaconnect.CfnConnector.KafkaClusterClientAuthenticationProperty(
                authentication_type="IAM"
            ),
            kafka_cluster_encryption_in_transit=kafkaconnect.CfnConnector.KafkaClusterEncryptionInTransitProperty(
                encryption_type="TLS"
            ),
            plugins=[
                kafkaconnect.CfnConnector.PluginProperty(
                    custom_plugin=kafkaconnect.CfnConnector.CustomPluginProperty(
                        custom_plugin_arn=plugin.attr_custom_plugin_arn, revision=1
                    )
                )
            ],
            worker_configuration=kafkaconnect.CfnConnector.WorkerConfigurationProperty(
                worker_configuration_arn=worker.attr_worker_configuration_arn, revision=1
            ),
            service_execution_role_arn=role.role_arn,
            log_delivery=kafkaconnect.CfnConnector.LogDeliveryProperty(
                worker_log_delivery=kafkaconnect.CfnConnector.WorkerLogDeliveryProperty(
                    cloud_watch_logs=kafkaconnect.CfnConnector.CloudWatchLogsLogDeliveryProperty(
                        enabled=True, log_group=log_group.log_group_name
                    )
                )
            ),
        )
