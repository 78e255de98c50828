"""MWAA: the Airflow environment, its execution role, and its bucket holding the bundle
``make dist`` builds (``pinpipe.aws.mwaa.bundle``): the DAGs, ``requirements.txt`` with the
``--constraint`` line MWAA requires, and ``plugins.zip`` with the pinpipe wheel."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_mwaa as mwaa
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from pinpipe.aws.dist import DIST_DIR
from pinpipe.aws.infra.nag import suppress
from pinpipe.aws.infra.network import Network
from pinpipe.config import Settings
from pinpipe.errors import PinpipeError

SECRETS_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"


def secret_prefix(name: str) -> str:
    """``airflow/connections/databricks_default`` -> ``airflow/connections``."""
    return name.rsplit("/", 1)[0] if "/" in name else name


class Orchestration(Construct):
    def __init__(
        self, scope: Construct, id: str, *, s: Settings, network: Network, lake: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        name = f"pinpipe-{s.uid}"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            versioned=True,  # MWAA requires it
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            server_access_logs_bucket=network.access_logs,
            server_access_logs_prefix="airflow-bucket/",
            removal_policy=RemovalPolicy.DESTROY,
        )
        bundle = DIST_DIR / "mwaa"
        if not (bundle / "plugins.zip").is_file():
            raise PinpipeError(f"no MWAA bundle in {bundle}: run `make dist`")
        # The bucket's layout is the bundle's: dags/, requirements.txt, plugins.zip.
        files = s3deploy.BucketDeployment(
            self,
            "Bundle",
            sources=[s3deploy.Source.asset(str(bundle))],
            destination_bucket=self.bucket,
        )
        role = iam.Role(
            self,
            "ExecutionRole",
            role_name=f"{name}-mwaa",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("airflow.amazonaws.com"),
                iam.ServicePrincipal("airflow-env.amazonaws.com"),
            ),
            description="MWAA: read its bucket, log, use its queues, read the pipeline's secrets",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject*", "s3:GetBucket*", "s3:List*"],
                resources=[self.bucket.bucket_arn, self.bucket.arn_for_objects("*")],
            )
        )
        region, account = stack.region, stack.account
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["airflow:PublishMetrics"],
                resources=[f"arn:aws:airflow:{region}:{account}:environment/{name}"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                    "logs:PutLogEvents",
                    "logs:GetLogEvents",
                    "logs:GetLogRecord",
                    "logs:GetLogGroupFields",
                    "logs:GetQueryResults",
                ],
                resources=[f"arn:aws:logs:{region}:{account}:log-group:airflow-{name}-*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:DescribeLogGroups", "cloudwatch:PutMetricData"], resources=["*"]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                resources=[f"arn:aws:sqs:{region}:*:airflow-celery-*"],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey*", "kms:Encrypt"],
                not_resources=[f"arn:aws:kms:*:{account}:key/*"],
                conditions={"StringLike": {"kms:ViaService": [f"sqs.{region}.amazonaws.com"]}},
            )
        )
        prefix = secret_prefix(s.deploy.databricks_secret)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=[f"arn:aws:secretsmanager:{region}:{account}:secret:{prefix}/*"],
            )
        )
        # The batch DAG's own tasks: whether anything landed (a listing of topics/), the row
        # counts of the Delta tables, and the run's summary under runs/batch/.
        lake.grant_read(role, "delta/*")
        lake.grant_put(role, "runs/batch/*")
        suppress(
            role,
            {
                "AwsSolutions-IAM5": "the execution role MWAA documents: its own bucket, its "
                "log groups (airflow-<env>-*), its Celery queues, KMS through SQS only, metrics, "
                "and the secrets under the pipeline's prefix; in the lake, reading the Delta "
                "tables and writing the run summaries"
            },
        )
        group = ec2.SecurityGroup(self, "Group", vpc=network.vpc, description="MWAA")
        group.add_ingress_rule(group, ec2.Port.all_traffic(), "MWAA's own components")
        subnets = network.private_subnet_ids
        self.environment = mwaa.CfnEnvironment(
            self,
            "Environment",
            name=name,
            airflow_version=s.deploy.mwaa_airflow_version,
            environment_class=s.deploy.mwaa_environment_class,
            max_workers=s.deploy.mwaa_max_workers,
            execution_role_arn=role.role_arn,
            source_bucket_arn=self.bucket.bucket_arn,
            dag_s3_path="dags",
            requirements_s3_path="requirements.txt",
            plugins_s3_path="plugins.zip",
            webserver_access_mode="PUBLIC_ONLY",
            network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
                security_group_ids=[group.security_group_id], subnet_ids=[subnets[0], subnets[1]]
            ),
            airflow_configuration_options={
                "secrets.backend": SECRETS_BACKEND,
                "secrets.backend_kwargs": (
                    f'{{"connections_prefix": "{prefix}", "variables_prefix": "airflow/variables"}}'
                ),
                "core.load_examples": "False",
            },
            logging_configuration=mwaa.CfnEnvironment.LoggingConfigurationProperty(
                dag_processing_logs=_log("INFO"),
                scheduler_logs=_log("INFO"),
                task_logs=_log("INFO"),
                webserver_logs=_log("WARNING"),
                worker_logs=_log("WARNING"),
            ),
        )
        self.environment.node.add_dependency(files)


def _log(level: str) -> mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty:
    return mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(enabled=True, log_level=level)
