"""The VPC that MSK, the REST proxy host, MSK Connect and MWAA live in."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from pinpipe.config import Settings


class Network(Construct):
    """Two availability zones; private subnets reach out through NAT, and S3 through a gateway
    endpoint (no NAT charge for the lake's traffic)."""

    def __init__(self, scope: Construct, id: str, *, s: Settings) -> None:
        super().__init__(scope, id)
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
        self.private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def private_subnet_ids(self) -> list[str]:
        return self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids
