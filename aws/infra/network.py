"""The VPC that MSK, the REST proxy host, MSK Connect and MWAA live in."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from pinpipe.aws.infra.nag import suppress
from pinpipe.config import Settings


class Network(Construct):
    """Two availability zones; private subnets reach out through NAT, and S3 through a gateway
    endpoint (no NAT charge for the lake's traffic)."""

    def __init__(self, scope: Construct, id: str, *, s: Settings, access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        self.access_logs = access_logs
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(s.deploy.vpc_cidr),
            max_azs=2,
            nat_gateways=s.deploy.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        self.vpc.add_flow_log(
            "FlowLog", destination=ec2.FlowLogDestination.to_s3(access_logs, "vpc-flow-logs/")
        )
        self.private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def private_subnet_ids(self) -> list[str]:
        return self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids


def access_log_bucket(scope: Construct, id: str) -> s3.Bucket:
    """Where the buckets, the load balancer and the VPC write their access and flow logs."""
    bucket = s3.Bucket(
        scope,
        id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        removal_policy=RemovalPolicy.DESTROY,
    )
    suppress(
        bucket,
        {"AwsSolutions-S1": "this is the access-log bucket; logging it to itself would loop"},
    )
    return bucket
