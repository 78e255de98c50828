"""Deploy the CDK app (``pinpipe.aws.infra``) with CloudFormation, the same way into LocalStack
and AWS: synthesize (cached by everything the template is built from), upload the file assets,
then create and execute a change set, so a deployment with nothing to change is a no-op.

The CDK CLI can deploy the same app (``aws/cdk.json``); this path needs no Node CLI, no CDK
bootstrap for the sandbox's asset-free stack, and answers a second ``up`` in well under a second.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from pinpipe.aws import dist, identity
from pinpipe.aws.infra import outputs as infra_stack
from pinpipe.aws_access import aws_access, aws_client
from pinpipe.config import PROJECT_ROOT, Settings
from pinpipe.errors import ProvisionError

Progress = Callable[[str], None]

# CloudFormation takes a template body up to this size; a larger one goes by S3 URL.
MAX_TEMPLATE_BODY = 51_200
BOOTSTRAP_QUALIFIER = "hnb659fds"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "no changes")
# The construct id of the synthesized stack; the CloudFormation stack name comes from the uid.
STACK_ID = "pinpipe"


@dataclass(frozen=True)
class Assembly:
    """One synthesized template and the file assets it refers to."""

    directory: Path
    template: dict[str, Any]
    assets: dict[str, Any]

    @property
    def template_body(self) -> str:
        return json.dumps(self.template)


@dataclass(frozen=True)
class Change:
    action: str  # Add, Modify, Remove
    logical_id: str
    resource_type: str
    replacement: str = ""

    def __str__(self) -> str:
        sign = {"Add": "+", "Remove": "-"}.get(self.action, "~")
        again = " (replaced)" if self.replacement == "True" else ""
        return f"{sign} {self.resource_type} {self.logical_id}{again}"


@dataclass(frozen=True)
class DeployResult:
    stack: str
    changes: list[Change]
    outputs: dict[str, str] = field(default_factory=dict)
    applied: bool = False
    seconds: float = 0.0


def stack_name(s: Settings) -> str:
    return infra_stack.stack_name(s.uid)


# -- synthesis ---------------------------------------------------------------------------------


def _definition_files(s: Settings) -> list[Path]:
    """Every file the template is built from, besides the settings."""
    files = sorted((PROJECT_ROOT / "aws" / "infra").glob("*.py"))
    files += [PROJECT_ROOT / "aws" / name for name in ("api_gateway.py", "connector.py")]
    files += [PROJECT_ROOT / "pinpipe" / "contract.py", PROJECT_ROOT / "requirements.lock"]
    parts = set(s.deploy.parts)
    if "kafka" in parts:
        files += sorted((PROJECT_ROOT / "services" / "rest_proxy").glob("*.py"))
    if "orchestration" in parts:
        files += sorted(p for p in (dist.DIST_DIR / "mwaa").rglob("*") if p.is_file())
    if "connect" in parts:
        plugin = s.build_dir / "connect-plugins" / "pinpipe-s3-sink"
        files += sorted(plugin.glob("*.jar"))
    return files


def fingerprint(s: Settings) -> str:
    """Changes whenever the synthesized template would: the definition's files, the settings
    (the uid aside: it is a stack parameter), and the CDK's version."""
    digest = hashlib.sha256()
    for path in _definition_files(s):
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    settings = s.model_dump(mode="json", exclude={"uid", "state_dir", "build_dir"})
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(importlib.metadata.version("aws-cdk-lib").encode())
    return digest.hexdigest()[:20]


def synth(s: Settings, progress: Progress = lambda _: None) -> Assembly:
    """The app's template for the settings' profile: from the cache when nothing it is built
    from changed, else synthesized (about 15 s: the CDK runs on Node). With MWAA in it, the
    bundle it uploads is built first (``make dist``)."""
    if "orchestration" in s.deploy.parts:
        dist.build(s, progress=progress)
    cache_root = s.build_dir / "cdk"
    target = cache_root / f"{s.profile}-{fingerprint(s)}"
    if (target / "done").exists():
        return _load(target)
    progress("synthesizing the cloud definition (aws/infra)")
    from pinpipe.aws.infra.app import build, default_inputs

    plugin = s.build_dir / "connect-plugins" / "pinpipe-s3-sink"
    if "connect" in s.deploy.parts and not any(plugin.glob("*.jar")):
        raise ProvisionError(f"the S3 sink's jars are missing from {plugin}: run `make setup`")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="synth-", dir=target.parent))
    try:
        app = build(s, staging / "out", default_inputs(s, staging / "work"), stack_id=STACK_ID)
        app.synth()
        if target.exists():
            shutil.rmtree(target)
        (staging / "out").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    (target / "done").write_text(fingerprint(s))
    for old in cache_root.glob(f"{s.profile}-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return _load(target)


def _load(directory: Path) -> Assembly:
    template = json.loads((directory / f"{STACK_ID}.template.json").read_text())
    assets_file = directory / f"{STACK_ID}.assets.json"
    assets = json.loads(assets_file.read_text()) if assets_file.exists() else {}
    return Assembly(directory=directory, template=template, assets=assets)


# -- access checks -----------------------------------------------------------------------------


def caller_account(s: Settings) -> str:
    """The account the credentials belong to; one line saying what to do when they are absent."""
    try:
        account = str(aws_client(s, "sts").get_caller_identity()["Account"])
    except NoCredentialsError as e:
        raise ProvisionError(
            "no AWS credentials found: run `aws configure` (or `aws sso login`), or set "
            "AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ) from e
    except NoRegionError as e:
        raise ProvisionError("no AWS region: set `region` in the profile or pinpipe.toml") from e
    except (BotoCoreError, ClientError) as e:
        where = aws_access(s, "sts").endpoint_url or f"AWS ({s.region})"
        raise ProvisionError(f"cannot reach STS at {where}: {e}") from e
    if s.deploy.account and account != s.deploy.account:
        raise ProvisionError(
            f"the credentials are for account {account}, but the profile's deploy.account is "
            f"{s.deploy.account}: sign in to the right account or change deploy.account"
        )
    return account


def _bootstrap_bucket(s: Settings, account: str) -> str:
    """The CDK bootstrap bucket the assets go to; says how to create it when it is missing."""
    try:
        aws_client(s, "ssm").get_parameter(Name=f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version")
    except ClientError as e:
        raise ProvisionError(
            f"account {account} is not CDK-bootstrapped in {s.region}: run "
            f"`npx aws-cdk@2 bootstrap aws://{account}/{s.region}` once"
        ) from e
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{s.region}"


def publish_assets(s: Settings, assembly: Assembly, account: str, progress: Progress) -> None:
    """Upload each file asset (zipping folders) unless the bucket already has it."""
    files = assembly.assets.get("files", {})
    if not files:
        return
    s3 = aws_client(s, "s3")
    for asset in files.values():
        source = assembly.directory / asset["source"]["path"]
        for destination in asset["destinations"].values():
            bucket = destination["bucketName"].replace("${AWS::AccountId}", account)
            bucket = bucket.replace("${AWS::Region}", s.region)
            key = destination["objectKey"]
            try:
                s3.head_object(Bucket=bucket, Key=key)
                continue
            except ClientError:
                pass
            progress(f"uploading {asset.get('displayName', key)}")
            if asset["source"].get("packaging") == "zip" and source.is_dir():
                with tempfile.TemporaryDirectory() as tmp:
                    archive = Path(tmp) / "asset.zip"
                    _zip_folder(source, archive)
                    s3.upload_file(str(archive), bucket, key)
            else:
                s3.upload_file(str(source), bucket, key)


def _zip_folder(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder))


# -- deployment --------------------------------------------------------------------------------


def parameters(s: Settings, assembly: Assembly) -> list[dict[str, str]]:
    values = {
        infra_stack.PARAM_UID: s.uid,
        infra_stack.PARAM_REST_API_ID: identity.rest_api_id(s),
        infra_stack.PARAM_BACKEND_HOST: s.endpoints.rest_proxy,
    }
    declared = assembly.template.get("Parameters", {})
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items() if k in declared]


def _stack_status(cf: Any, name: str) -> str | None:
    try:
        return str(cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"])
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise


def _poll_interval(s: Settings) -> float:
    return 0.1 if aws_access(s, "cloudformation").endpoint_url else 5.0


def _wait_stack(s: Settings, cf: Any, name: str, progress: Progress, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        status = _stack_status(cf, name) or "DELETE_COMPLETE"
        if status != last:
            progress(f"{name}: {status}")
            last = status
        if not status.endswith("_IN_PROGRESS"):
            return status
        if time.monotonic() > deadline:
            raise ProvisionError(f"stack {name} still {status} after {timeout:.0f}s")
        time.sleep(_poll_interval(s))


def _failure_reasons(cf: Any, name: str) -> str:
    events = cf.describe_stack_events(StackName=name)["StackEvents"]
    failed = [
        f"{e['LogicalResourceId']} ({e['ResourceType']}): {e.get('ResourceStatusReason', '')}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceStatusReason")
    ]
    return "; ".join(failed[:5]) or "no reason given"


def outputs(s: Settings) -> dict[str, str]:
    """The deployed stack's outputs; empty when it is not deployed."""
    cf = aws_client(s, "cloudformation")
    try:
        stacks = cf.describe_stacks(StackName=stack_name(s))["Stacks"]
    except ClientError as e:
        if "does not exist" in str(e):
            return {}
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def deploy(
    s: Settings,
    *,
    diff_only: bool = False,
    progress: Progress = lambda _: None,
    timeout: float = 3600.0,
) -> DeployResult:
    """Create or update the pipeline's stack; with ``diff_only``, only say what would change."""
    t0 = time.monotonic()
    account = caller_account(s)
    bucket = _bootstrap_bucket(s, account) if infra_stack.needs_assets(s.deploy.parts) else None
    assembly = synth(s, progress=progress)
    name = stack_name(s)
    cf = aws_client(s, "cloudformation")
    template: dict[str, str] = {"TemplateBody": assembly.template_body}
    if assembly.assets.get("files") or len(assembly.template_body) > MAX_TEMPLATE_BODY:
        if bucket is None:
            raise ProvisionError(f"the stack {name} uploads files but has no asset bucket")
        if not diff_only:
            publish_assets(s, assembly, account, progress)
        if len(assembly.template_body) > MAX_TEMPLATE_BODY:
            key = f"templates/{name}-{fingerprint(s)}.json"
            aws_client(s, "s3").put_object(Bucket=bucket, Key=key, Body=assembly.template_body)
            template = {"TemplateURL": f"https://{bucket}.s3.{s.region}.amazonaws.com/{key}"}
    try:
        status = _stack_status(cf, name)
        if status in ("ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS") and not diff_only:
            # A stack whose creation failed cannot be updated, only deleted and created again.
            progress(f"{name} is {status}: removing it before creating it again")
            cf.delete_stack(StackName=name)
            _wait_stack(s, cf, name, progress, timeout)
            status = None
        kind = "CREATE" if status is None else "UPDATE"
        change_set = f"pinpipe-{int(time.time() * 1000)}"
        cf.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType=kind,
            Parameters=parameters(s, assembly),
            Capabilities=CAPABILITIES,
            Tags=[{"Key": "pinpipe:uid", "Value": s.uid}],
            **template,
        )
        described = _wait_change_set(s, cf, name, change_set, timeout)
        if described["Status"] == "FAILED":
            reason = str(described.get("StatusReason", ""))
            cf.delete_change_set(StackName=name, ChangeSetName=change_set)
            if any(marker in reason for marker in NO_CHANGES):
                return DeployResult(stack=name, changes=[], outputs=outputs(s), seconds=_since(t0))
            raise ProvisionError(f"CloudFormation refused the change to {name}: {reason}")
        changes = [_change(c) for c in described.get("Changes", [])]
        if diff_only:
            cf.delete_change_set(StackName=name, ChangeSetName=change_set)
            if kind == "CREATE":
                cf.delete_stack(StackName=name)  # the empty stack the change set made
            return DeployResult(stack=name, changes=changes, seconds=_since(t0))
        progress(f"{name}: applying {len(changes)} change(s)")
        cf.execute_change_set(StackName=name, ChangeSetName=change_set)
        final = _wait_stack(s, cf, name, progress, timeout)
        if final not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            raise ProvisionError(f"deploying {name} ended {final}: {_failure_reasons(cf, name)}")
    except (BotoCoreError, ClientError) as e:
        raise ProvisionError(f"deploying {name} failed: {e}") from e
    result = outputs(s)
    if infra_stack.OUTPUT_API_ID in result:
        identity.remember(s, result[infra_stack.OUTPUT_API_ID])
    return DeployResult(
        stack=name, changes=changes, outputs=result, applied=True, seconds=_since(t0)
    )


def _wait_change_set(
    s: Settings, cf: Any, name: str, change_set: str, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described: dict[str, Any] = cf.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        if time.monotonic() > deadline:
            raise ProvisionError(f"change set of {name} still {described['Status']}")
        time.sleep(_poll_interval(s))


def _change(c: dict[str, Any]) -> Change:
    rc = c.get("ResourceChange", {})
    return Change(
        action=str(rc.get("Action", "")),
        logical_id=str(rc.get("LogicalResourceId", "")),
        resource_type=str(rc.get("ResourceType", "")),
        replacement=str(rc.get("Replacement", "")),
    )


def _since(t0: float) -> float:
    return round(time.monotonic() - t0, 1)


# -- teardown ----------------------------------------------------------------------------------


def destroy(
    s: Settings,
    *,
    delete_data: bool = False,
    progress: Progress = lambda _: None,
    timeout: float = 3600.0,
) -> list[str]:
    """Delete the pipeline's stack. Buckets the stack deletes are emptied first; the lake bucket
    is kept (its removal policy is Retain) unless ``delete_data``. Returns what was removed."""
    name = stack_name(s)
    cf = aws_client(s, "cloudformation")
    try:
        if _stack_status(cf, name) is None:
            progress(f"{name} is not deployed")
            return []
        lake = outputs(s).get(infra_stack.OUTPUT_LAKE_BUCKET)
        for bucket in _owned_buckets(cf, name, keep={lake} if lake else set()):
            progress(f"emptying bucket {bucket}")
            _empty_bucket(s, bucket)
        cf.delete_stack(StackName=name)
        final = _wait_stack(s, cf, name, progress, timeout)
        if final != "DELETE_COMPLETE":
            raise ProvisionError(f"deleting {name} ended {final}: {_failure_reasons(cf, name)}")
        removed = [name]
        if lake and delete_data:
            progress(f"deleting the lake bucket {lake} and everything in it")
            _empty_bucket(s, lake)
            aws_client(s, "s3").delete_bucket(Bucket=lake)
            removed.append(lake)
    except (BotoCoreError, ClientError) as e:
        raise ProvisionError(f"destroying {name} failed: {e}") from e
    return removed


def _owned_buckets(cf: Any, name: str, keep: set[str]) -> list[str]:
    resources = cf.describe_stack_resources(StackName=name)["StackResources"]
    return [
        str(r["PhysicalResourceId"])
        for r in resources
        if r["ResourceType"] == "AWS::S3::Bucket"
        and r.get("PhysicalResourceId")
        and r["PhysicalResourceId"] not in keep
    ]


def _empty_bucket(s: Settings, bucket: str) -> None:
    s3 = aws_client(s, "s3")
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for i in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed[i : i + 1000]})
