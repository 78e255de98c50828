"""Kafka in AWS: an MSK cluster (serverless or provisioned, IAM auth over TLS only), and the REST
proxy next to it on an EC2 instance behind a network load balancer that API Gateway reaches
through a VPC link. The instance runs the same code as the sandbox's REST proxy, speaking MSK
IAM auth, and creates the pipeline's topics when it starts."""

from __future__ import annotations

import shutil
from pathlib import Path

from aws_cdk import Fn, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_msk as msk
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from pinpipe.aws.infra.ingest import pipeline_log_group
from pinpipe.aws.infra.nag import suppress
from pinpipe.aws.infra.network import Network
from pinpipe.config import PROJECT_ROOT, Settings

MSK_IAM_PORT = 9098
REST_PROXY_PORT = 8082
# What the REST proxy host installs next to its code (the versions the sandbox is tested with).
HOST_PACKAGES = ("aiohttp", "confluent-kafka", "aws-msk-iam-sasl-signer-python")


class Kafka(Construct):
    """The MSK cluster, its IAM-auth bootstrap string, and the security group clients join."""

    def __init__(self, scope: Construct, id: str, *, s: Settings, network: Network) -> None:
        super().__init__(scope, id)
        vpc = network.vpc
        self.client_group = ec2.SecurityGroup(
            self, "Clients", vpc=vpc, description="may reach MSK", allow_all_outbound=True
        )
        self.broker_group = ec2.SecurityGroup(
            self, "Brokers", vpc=vpc, description="MSK brokers", allow_all_outbound=False
        )
        self.broker_group.add_ingress_rule(
            self.client_group, ec2.Port.tcp(MSK_IAM_PORT), "Kafka clients, IAM auth over TLS"
        )
        iam_only = {"sasl": {"iam": {"enabled": True}}}
        subnets = network.private_subnet_ids
        name = f"pinpipe-{s.uid}"
        if s.deploy.msk_flavour == "serverless":
            serverless = msk.CfnServerlessCluster(
                self,
                "Cluster",
                cluster_name=name,
                client_authentication=iam_only,
                vpc_configs=[
                    msk.CfnServerlessCluster.VpcConfigProperty(
                        subnet_ids=subnets, security_groups=[self.broker_group.security_group_id]
                    )
                ],
            )
            self.cluster_arn = serverless.attr_arn
        else:
            broker_log = pipeline_log_group(self, "BrokerLog", s, "msk-brokers")
            provisioned = msk.CfnCluster(
                self,
                "Cluster",
                cluster_name=name,
                logging_info=msk.CfnCluster.LoggingInfoProperty(
                    broker_logs=msk.CfnCluster.BrokerLogsProperty(
                        cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                            enabled=True, log_group=broker_log.log_group_name
                        )
                    )
                ),
                kafka_version=s.deploy.msk_kafka_version,
                number_of_broker_nodes=s.deploy.msk_brokers_per_az * 2,
                client_authentication={**iam_only, "unauthenticated": {"enabled": False}},
                encryption_info=msk.CfnCluster.EncryptionInfoProperty(
                    encryption_in_transit=msk.CfnCluster.EncryptionInTransitProperty(
                        client_broker="TLS", in_cluster=True
                    )
                ),
                broker_node_group_info=msk.CfnCluster.BrokerNodeGroupInfoProperty(
                    client_subnets=subnets,
                    instance_type=s.deploy.msk_broker_type,
                    security_groups=[self.broker_group.security_group_id],
                    storage_info=msk.CfnCluster.StorageInfoProperty(
                        ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(
                            volume_size=s.deploy.msk_volume_gib
                        )
                    ),
                ),
            )
            self.cluster_arn = provisioned.attr_arn
        brokers = cr.AwsCustomResource(
            self,
            "BootstrapBrokers",
            on_update=cr.AwsSdkCall(
                service="Kafka",
                action="getBootstrapBrokers",
                parameters={"ClusterArn": self.cluster_arn},
                physical_resource_id=cr.PhysicalResourceId.of(self.cluster_arn),
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[self.cluster_arn]),
            install_latest_aws_sdk=False,
        )
        self.bootstrap = brokers.get_response_field("BootstrapBrokerStringSaslIam")

    def grant_connect(self, role: iam.IRole) -> None:
        """Let ``role`` connect to the cluster and describe it (topics are granted apart)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                resources=[self.cluster_arn],
            )
        )

    def arn(self, kind: str, name: str) -> str:
        """The ARN of one of the cluster's topics or groups (``name`` may end with ``*``)."""
        parts = Fn.split(":cluster/", self.cluster_arn, 2)
        return Fn.join("", [Fn.select(0, parts), f":{kind}/", Fn.select(1, parts), "/", name])


def stage_rest_proxy_code(out: Path) -> Path:
    """The REST proxy's package, laid out so ``python -m pinpipe.services.rest_proxy`` runs."""
    if out.exists():
        shutil.rmtree(out)
    package = out / "pinpipe" / "services" / "rest_proxy"
    package.mkdir(parents=True)
    for parent in (out / "pinpipe", out / "pinpipe" / "services"):
        (parent / "__init__.py").write_text("")
    for source in sorted((PROJECT_ROOT / "services" / "rest_proxy").glob("*.py")):
        shutil.copy2(source, package / source.name)
    return out


def host_requirements() -> list[str]:
    """``name==version`` of each host package, as pinned in the project's lock file."""
    pins = {}
    for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines():
        name, _, version = line.partition("==")
        if version and not line.startswith(" "):
            pins[name.strip().lower()] = version.strip()
    return [f"{name}=={pins[name]}" for name in HOST_PACKAGES]


class RestProxyHost(Construct):
    """One EC2 instance in a private subnet running the REST proxy, a private network load
    balancer in front of it, and the VPC link API Gateway uses to reach the balancer."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        s: Settings,
        network: Network,
        kafka: Kafka,
        code_dir: Path,
    ) -> None:
        super().__init__(scope, id)
        vpc = network.vpc
        region = Stack.of(self).region
        code = s3_assets.Asset(self, "Code", path=str(stage_rest_proxy_code(code_dir)))
        role = iam.Role(
            self,
            "Role",
            role_name=f"pinpipe-{s.uid}-rest-proxy",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="The REST proxy host: write the pipeline's topics, read its own code",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[f"arn:aws:s3:::{code.s3_bucket_name}/{code.s3_object_key}"],
            )
        )
        kafka.grant_connect(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "kafka-cluster:CreateTopic",
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:DescribeTopicDynamicConfiguration",
                    "kafka-cluster:WriteData",
                ],
                resources=[kafka.arn("topic", topic) for topic in s.topics.values()],
            )
        )
        # The producer is idempotent, which MSK authorizes on the cluster.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:WriteDataIdempotently"], resources=[kafka.cluster_arn]
            )
        )
        group = ec2.SecurityGroup(self, "Host", vpc=vpc, description="REST proxy host")
        group.add_ingress_rule(
            ec2.Peer.ipv4(s.deploy.vpc_cidr), ec2.Port.tcp(REST_PROXY_PORT), "from the NLB"
        )
        user_data = ec2.UserData.for_linux()
        topics = ",".join(s.topics.values())
        user_data.add_commands(
            "set -euxo pipefail",
            "dnf install -y python3.11 python3.11-pip unzip",
            "mkdir -p /opt/pinpipe && cd /opt/pinpipe",
            f"aws s3 cp s3://{code.s3_bucket_name}/{code.s3_object_key} code.zip",
            "unzip -o code.zip -d code",
            "python3.11 -m venv venv",
            "venv/bin/pip install " + " ".join(f"'{r}'" for r in host_requirements()),
            "cat > /etc/systemd/system/pinpipe-rest-proxy.service <<'UNIT'",
            "[Unit]",
            "Description=pinpipe Kafka REST proxy",
            "After=network-online.target",
            "[Service]",
            "WorkingDirectory=/opt/pinpipe/code",
            "ExecStart=/opt/pinpipe/venv/bin/python -m pinpipe.services.rest_proxy"
            f" --host 0.0.0.0 --port {REST_PROXY_PORT} --bootstrap {kafka.bootstrap}"
            f" --msk-iam-region {region} --create-topics {topics}"
            f" --partitions {s.topic_partitions}",
            "Restart=always",
            "RestartSec=5",
            "[Install]",
            "WantedBy=multi-user.target",
            "UNIT",
            "systemctl daemon-reload",
            "systemctl enable --now pinpipe-rest-proxy",
        )
        instance = ec2.Instance(
            self,
            "Instance",
            vpc=vpc,
            vpc_subnets=network.private,
            instance_type=ec2.InstanceType(s.deploy.rest_proxy_instance_type),
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            security_group=group,
            role=role,
            user_data=user_data,
            require_imdsv2=True,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(8, encrypted=True),
                )
            ],
        )
        instance.add_security_group(kafka.client_group)
        suppress(
            instance,
            {
                "AwsSolutions-EC29": "termination protection would stop `pinpipe destroy`; "
                "CloudFormation replaces the instance on change and systemd restarts the proxy"
            },
        )
        nlb = elbv2.NetworkLoadBalancer(
            self, "Nlb", vpc=vpc, internet_facing=False, vpc_subnets=network.private
        )
        nlb.log_access_logs(network.access_logs, prefix="rest-proxy-nlb")
        listener = nlb.add_listener("Proxy", port=REST_PROXY_PORT)
        listener.add_targets(
            "Host",
            port=REST_PROXY_PORT,
            targets=[targets.InstanceTarget(instance, REST_PROXY_PORT)],
            health_check=elbv2.HealthCheck(protocol=elbv2.Protocol.TCP),
        )
        self.vpc_link = apigw.VpcLink(
            self, "VpcLink", targets=[nlb], vpc_link_name=f"pinpipe-{s.uid}"
        )
        self.backend_host = f"{nlb.load_balancer_dns_name}:{REST_PROXY_PORT}"
