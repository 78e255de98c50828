"""`pinpipe deploy` and `pinpipe destroy` against LocalStack's CloudFormation: the same code path
and the same CDK app as an AWS deployment, with the sandbox's (local) profile."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from confluent_kafka.admin import AdminClient

from pinpipe import source
from pinpipe.aws import api_gateway, deploy, identity, provision
from pinpipe.aws.infra.outputs import OUTPUT_API_ID
from pinpipe.aws_access import aws_client
from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.services import emulator
from tests.sandbox import Sandbox
from tests.stores import stream_records

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PINPIPE = str(PROJECT_ROOT / ".venv" / "bin" / "pinpipe")


@pytest.fixture()
def fresh_uid(sandbox: Sandbox) -> Iterator[Settings]:
    """Settings for a uid with nothing deployed; its stack and registry record removed after."""
    s = sandbox.settings.model_copy(update={"uid": "cfn" + uuid.uuid4().hex[:9]})
    yield s
    provision.teardown(s, delete_data=True)


def _stack_status(s: Settings) -> str | None:
    cf = aws_client(s, "cloudformation")
    stacks = cf.list_stacks()["StackSummaries"]
    live = [x for x in stacks if x["StackName"] == deploy.stack_name(s)]
    return str(live[0]["StackStatus"]) if live else None


def test_deploy_creates_the_api_then_changes_nothing_then_destroy_removes_it(
    fresh_uid: Settings,
) -> None:
    s = fresh_uid
    planned = deploy.deploy(s, diff_only=True)
    assert not planned.applied
    assert {c.resource_type for c in planned.changes} == {
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
    }
    assert all(c.action == "Add" for c in planned.changes)
    assert _stack_status(s) in (None, "DELETE_COMPLETE")  # a diff leaves nothing behind

    first = deploy.deploy(s)
    assert first.applied
    api_id = first.outputs[OUTPUT_API_ID]
    assert api_id == identity.rest_api_id(s)  # the id chosen for the uid, as LocalStack honours
    role = aws_client(s, "iam").get_role(RoleName=f"pinpipe-{s.uid}-apigateway-kinesis")
    assert role["Role"]["RoleName"].startswith(f"pinpipe-{s.uid}-")
    # The API answers: a stream not created yet is a 404 from Kinesis through the gateway.
    url = api_gateway.invoke_url(s, api_id)
    r = requests.get(f"{url}/streams/{s.streams['pin']}", timeout=30)
    assert r.status_code == 404, r.text
    assert r.json()["error"] == "ResourceNotFoundException"

    second = deploy.deploy(s)
    assert not second.applied and second.changes == []
    assert second.outputs[OUTPUT_API_ID] == api_id


def test_destroy_with_the_local_profile_leaves_no_stack_stream_topic_or_api(
    sandbox: Sandbox, fresh_uid: Settings
) -> None:
    s = fresh_uid
    url = provision.provision(s)  # the sandbox's streams and topics, then the stack
    assert url.endswith(f"/{identity.rest_api_id(s)}/{s.api_stage}")
    kinesis = aws_client(s, "kinesis")
    assert set(s.streams.values()) <= set(kinesis.list_streams()["StreamNames"])
    assert s.uid in json.loads(identity.registry(s).read_text())

    done = subprocess.run(
        [PINPIPE, "destroy", "--profile", "local", "--yes"],
        env={**sandbox.env, "PINPIPE_UID": s.uid},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert _stack_status(s) in (None, "DELETE_COMPLETE")
    assert api_gateway.find_api_id(s) is None
    assert not set(s.streams.values()) & set(kinesis.list_streams()["StreamNames"])
    admin = AdminClient({"bootstrap.servers": s.endpoints.kafka_bootstrap})
    assert not set(s.topics.values()) & set(admin.list_topics(timeout=10).topics)
    assert s.uid not in json.loads(identity.registry(s).read_text())
    assert provision.teardown(s) == []  # nothing left to remove


def test_synth_only_writes_the_aws_templates_offline_without_credentials(
    tmp_path: Path,
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PINPIPE_STATE_DIR": str(tmp_path / "state"),
        # Nowhere to reach: a synthesis that tried the network or the credentials would fail.
        "AWS_EC2_METADATA_DISABLED": "true",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    out = tmp_path / "cdk.out"
    done = subprocess.run(
        [PINPIPE, "deploy", "--profile", "aws", "--synth-only", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    template = json.loads((out / f"{deploy.STACK_ID}.template.json").read_text())
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::MSK::ServerlessCluster", "AWS::MWAA::Environment"} <= kinds
    assets = json.loads((out / f"{deploy.STACK_ID}.assets.json").read_text())["files"]
    assert any(a["displayName"].endswith("PluginJars") for a in assets.values())


def test_deploy_without_credentials_says_what_to_run(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "PINPIPE_STATE_DIR": str(tmp_path / "state"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run(
        [PINPIPE, "deploy", "--profile", "aws", "--diff"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no AWS credentials found: run `aws configure`" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_deploy_to_an_account_not_bootstrapped_says_what_to_run(sandbox: Sandbox) -> None:
    """The aws profile against an AWS API that has never been CDK-bootstrapped (LocalStack)."""
    localstack = f"http://127.0.0.1:{sandbox.settings.ports.localstack}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": sandbox.env.get("HOME", "/tmp"),
        "PINPIPE_STATE_DIR": str(sandbox.settings.state_dir),
        "AWS_ENDPOINT_URL": localstack,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }
    done = subprocess.run(
        [PINPIPE, "deploy", "--profile", "aws"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    message = " ".join(done.stderr.split())
    assert "is not CDK-bootstrapped in eu-west-1: run `npx aws-cdk@2 bootstrap aws://" in message
    assert "Traceback" not in done.stderr


def test_a_keyed_api_refuses_calls_without_the_key_and_the_emulator_sends_it(
    fresh_uid: Settings, tmp_path: Path
) -> None:
    """As under the aws profile: every operation needs the key the stack created."""
    s = fresh_uid.model_copy(
        update={"deploy": fresh_uid.deploy.model_copy(update={"api_key_required": True})}
    )
    url = provision.provision(s)
    assert requests.get(f"{url}/streams", timeout=30).status_code == 403
    key = provision.api_key(s)
    assert requests.get(f"{url}/streams", headers={"x-api-key": key}, timeout=30).ok

    db = f"sqlite:///{tmp_path / 'source.db'}"
    source.generate(s, rows=5, db_url=db)
    report = emulator.run(s, emulator.RunOptions(path="stream", count=5, db_url=db))
    assert report.ok and report.counters.delivered_records == 15
    kinesis = aws_client(s, "kinesis")
    assert sum(len(list(stream_records(kinesis, name))) for name in s.streams.values()) == 15
