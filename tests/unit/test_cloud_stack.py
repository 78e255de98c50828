"""The CDK app's templates, synthesized once for the module (the CDK runs on Node: ~20 s): the
aws profile with each MSK flavour, and the sandbox's local profile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pinpipe.aws.connector import connector_config
from pinpipe.aws.infra import outputs
from pinpipe.config import Settings, load_settings

pytestmark = pytest.mark.unit

GUARDED_SERVICES = ("kinesis:", "s3:", "kafka:", "kafka-cluster:")


def _settings(profile: str, **deploy: Any) -> Settings:
    s = load_settings(profile=profile)
    if deploy:
        s = s.model_copy(update={"deploy": s.deploy.model_copy(update=deploy)})
    return s


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    import aws_cdk as cdk
    from aws_cdk.assertions import Annotations, Match, Template
    from cdk_nag import AwsSolutionsChecks

    from pinpipe.aws.infra.app import default_inputs
    from pinpipe.aws.infra.stack import PipelineStack

    work = tmp_path_factory.mktemp("cdk")
    app = cdk.App(outdir=str(work / "out"))
    profiles = {
        "aws": _settings("aws"),
        "aws-provisioned": _settings("aws", msk_flavour="provisioned"),
        "local": _settings("local"),
    }
    stacks = {}
    for name, s in profiles.items():
        synthesizer: cdk.IStackSynthesizer = (
            cdk.BootstraplessSynthesizer()
            if name == "local"
            else cdk.CliCredentialsStackSynthesizer()
        )
        stacks[name] = PipelineStack(
            app,
            name,
            s=s,
            inputs=default_inputs(s, work / name),
            stack_name=f"pinpipe-{name}",
            env=cdk.Environment(region=s.region),
            synthesizer=synthesizer,
        )
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    templates = {name: Template.from_stack(stack).to_json() for name, stack in stacks.items()}
    for name, stack in stacks.items():
        annotations = Annotations.from_stack(stack)
        findings = [
            *annotations.find_error("*", Match.string_like_regexp("AwsSolutions-.*")),
            *annotations.find_warning("*", Match.string_like_regexp("AwsSolutions-.*")),
        ]
        templates[f"nag:{name}"] = {"findings": [f"{f.id}: {f.entry.data}" for f in findings]}
    yield templates


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    found = _resources(template, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return dict(next(iter(found.values()))["Properties"])


def _statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            statements += props["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                statements += policy["PolicyDocument"]["Statement"]
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_aws_stack_has_every_part_of_the_cloud(templates: dict[str, dict[str, Any]]) -> None:
    t = templates["aws"]
    for kind, count in {
        "AWS::S3::Bucket": 3,  # the lake, MWAA's, and the access logs
        "AWS::Kinesis::Stream": 3,
        "AWS::ApiGateway::RestApi": 1,
        "AWS::ApiGateway::Stage": 1,
        "AWS::ApiGateway::ApiKey": 1,
        "AWS::ApiGateway::UsagePlan": 1,
        "AWS::ApiGateway::VpcLink": 1,
        "AWS::EC2::VPC": 1,
        "AWS::MSK::ServerlessCluster": 1,
        "AWS::EC2::Instance": 1,
        "AWS::ElasticLoadBalancingV2::LoadBalancer": 1,
        "AWS::KafkaConnect::CustomPlugin": 1,
        "AWS::KafkaConnect::WorkerConfiguration": 1,
        "AWS::KafkaConnect::Connector": 1,
        "AWS::MWAA::Environment": 1,
    }.items():
        assert len(_resources(t, kind)) == count, kind
    assert set(t["Outputs"]) >= {
        outputs.OUTPUT_API_ID,
        outputs.OUTPUT_API_KEY_ID,
        outputs.OUTPUT_LAKE_BUCKET,
        outputs.OUTPUT_BOOTSTRAP,
        outputs.OUTPUT_MWAA,
    }


def test_every_api_operation_needs_an_api_key_and_the_plan_throttles(
    templates: dict[str, dict[str, Any]],
) -> None:
    s = _settings("aws")
    body = _one(templates["aws"], "AWS::ApiGateway::RestApi")["Body"]
    assert body["x-amazon-apigateway-api-key-source"] == "HEADER"
    operations = [op for methods in body["paths"].values() for op in methods.values()]
    assert len(operations) == 7
    assert all(op.get("security") == [{"api_key": []}] for op in operations)
    plan = _one(templates["aws"], "AWS::ApiGateway::UsagePlan")
    assert plan["Throttle"] == {
        "RateLimit": s.deploy.throttle_rate_per_s,
        "BurstLimit": s.deploy.throttle_burst,
    }
    assert plan["Quota"] == {"Limit": s.deploy.quota_per_day, "Period": "DAY"}
    stage = _one(templates["aws"], "AWS::ApiGateway::Stage")
    assert "DestinationArn" in stage["AccessLogSetting"]
    proxy = body["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert proxy["x-amazon-apigateway-integration"]["connectionType"] == "VPC_LINK"


@pytest.mark.parametrize("profile", ["aws", "aws-provisioned", "local"])
def test_cdk_nag_awssolutions_finds_nothing_left_unjustified(
    templates: dict[str, dict[str, Any]], profile: str
) -> None:
    assert templates[f"nag:{profile}"]["findings"] == []


@pytest.mark.parametrize("profile", ["aws", "aws-provisioned", "local"])
def test_no_iam_statement_grants_kinesis_s3_or_kafka_on_everything(
    templates: dict[str, dict[str, Any]], profile: str
) -> None:
    statements = _statements(templates[profile])
    assert statements
    for st in statements:
        actions = _as_list(st.get("Action", []))
        resources = _as_list(st.get("Resource", []))
        guarded = [a for a in actions if a.startswith(GUARDED_SERVICES) or a == "*"]
        assert not (guarded and "*" in resources), st


def test_the_buckets_block_public_access_and_are_encrypted(
    templates: dict[str, dict[str, Any]],
) -> None:
    buckets = _resources(templates["aws"], "AWS::S3::Bucket")
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    lake = next(b for b in buckets.values() if "BucketName" in b["Properties"])
    assert lake["DeletionPolicy"] == "Retain"


def test_msk_takes_iam_auth_over_tls_only(templates: dict[str, dict[str, Any]]) -> None:
    serverless = _one(templates["aws"], "AWS::MSK::ServerlessCluster")
    assert serverless["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}}}
    provisioned = _one(templates["aws-provisioned"], "AWS::MSK::Cluster")
    assert provisioned["ClientAuthentication"]["Sasl"] == {"Iam": {"Enabled": True}}
    assert provisioned["ClientAuthentication"]["Unauthenticated"] == {"Enabled": False}
    transit = provisioned["EncryptionInfo"]["EncryptionInTransit"]
    assert transit == {"ClientBroker": "TLS", "InCluster": True}
    connector = _one(templates["aws"], "AWS::KafkaConnect::Connector")
    assert connector["KafkaClusterClientAuthentication"] == {"AuthenticationType": "IAM"}
    assert connector["KafkaClusterEncryptionInTransit"] == {"EncryptionType": "TLS"}


def test_the_connector_has_the_sandboxs_configuration_without_keys(
    templates: dict[str, dict[str, Any]],
) -> None:
    deployed = _one(templates["aws"], "AWS::KafkaConnect::Connector")["ConnectorConfiguration"]
    expected = connector_config(_settings("aws"))
    assert set(deployed) == set(expected)
    uid_free = {k for k, v in expected.items() if _settings("aws").uid not in v}
    assert {k: deployed[k] for k in uid_free} == {k: expected[k] for k in uid_free}
    assert not any("secret" in k or "access.key" in k for k in deployed)


def test_mwaa_runs_the_newest_airflow_with_constrained_requirements(
    templates: dict[str, dict[str, Any]],
) -> None:
    from pinpipe.aws.mwaa.bundle import dag_files, requirements_txt

    env = _one(templates["aws"], "AWS::MWAA::Environment")
    assert env["AirflowVersion"] == "3.0.6"
    assert env["RequirementsS3Path"] == "requirements.txt"
    assert env["PluginsS3Path"] == "plugins.zip"
    assert "SecretsManagerBackend" in env["AirflowConfigurationOptions"]["secrets.backend"]
    lines = requirements_txt("3.0.6", "pinpipe-0.1.0-py3-none-any.whl").splitlines()
    assert lines[0] == (
        '--constraint "https://raw.githubusercontent.com/apache/airflow/'
        'constraints-3.0.6/constraints-3.12.txt"'
    )
    assert lines[-1] == "/usr/local/airflow/plugins/pinpipe-0.1.0-py3-none-any.whl"
    # The other DAGs start or check the sandbox's own processes.
    assert [p.name for p in dag_files()] == ["pinpipe_batch.py"]
    # The DAG's own tasks write the run summaries into the lake.
    writes = [
        json.dumps(st["Resource"])
        for st in _statements(templates["aws"])
        if "s3:PutObject" in _as_list(st["Action"])
    ]
    assert any("runs/batch/*" in w for w in writes)


def test_the_sandbox_stack_holds_only_what_localstack_hosts(
    templates: dict[str, dict[str, Any]],
) -> None:
    t = templates["local"]
    kinds = sorted({r["Type"] for r in t["Resources"].values()})
    assert kinds == [
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Stage",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
    ]
    body = _one(t, "AWS::ApiGateway::RestApi")["Body"]
    assert "x-amazon-apigateway-api-key-source" not in body
    assert set(t["Parameters"]) == {
        outputs.PARAM_UID,
        outputs.PARAM_REST_API_ID,
        outputs.PARAM_BACKEND_HOST,
    }
    stage = _one(t, "AWS::ApiGateway::Stage")
    assert stage["Variables"] == {"backendHost": {"Ref": outputs.PARAM_BACKEND_HOST}}


def test_the_aws_template_passes_cfn_lint(templates: dict[str, dict[str, Any]]) -> None:
    from cfnlint.api import ManualArgs, lint

    region = _settings("aws").region
    matches = lint(json.dumps(templates["aws"]), config=ManualArgs(regions=[region]))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert not errors, "\n".join(str(m) for m in errors)
