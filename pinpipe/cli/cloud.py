"""The cloud's commands: ``deploy`` (or only its diff, or only the templates) and ``destroy``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pinpipe.config import Settings, load_settings, settings
from pinpipe.errors import PinpipeError

console = Console()

ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile", help="aws or local; default: PINPIPE_PROFILE, else pinpipe.toml's, else local"
    ),
]


def _settings(profile: str | None) -> Settings:
    return load_settings(profile=profile) if profile else settings()


def deploy(
    profile: ProfileOption = None,
    diff: Annotated[bool, typer.Option("--diff", help="only print what would change")] = False,
    synth_only: Annotated[
        bool,
        typer.Option(
            "--synth-only",
            help="only write the CloudFormation template and assets to --out (offline)",
        ),
    ] = False,
    out: Annotated[
        Path | None, typer.Option(help="folder for --synth-only (default: cdk.out)")
    ] = None,
) -> None:
    """Deploy the pipeline's cloud stack (the CDK app in aws/infra) for the profile.

    aws: lake, streams, API with key and usage plan, VPC, MSK, REST proxy, MSK Connect, MWAA;
    then, with batch.runner databricks, the wheel and the batch and streaming jobs in the
    Databricks workspace (credentials: DATABRICKS_HOST/DATABRICKS_TOKEN or ~/.databrickscfg).

    local: the API and its role, into the sandbox's LocalStack.

    A deployment with nothing to change changes nothing."""
    from pinpipe.aws import deploy as cloud

    s = _settings(profile)
    if synth_only:
        target = out or Path("cdk.out")
        if target.exists():
            shutil.rmtree(target)
        assembly = cloud.synth(s, progress=console.print)
        shutil.copytree(assembly.directory, target)
        files = assembly.assets.get("files", {})
        console.print(
            f"wrote {target / (cloud.STACK_ID + '.template.json')} "
            f"({len(assembly.template.get('Resources', {}))} resources, {len(files)} assets)"
        )
        return
    result = cloud.deploy(s, diff_only=diff, progress=console.print)
    for change in result.changes:
        console.print(f"  {change}", highlight=False)
    if diff:
        console.print(f"{result.stack}: {len(result.changes)} change(s) would be made")
        return
    if not result.applied:
        console.print(f"{result.stack}: up to date, nothing to change ({result.seconds}s)")
    else:
        console.print(
            f"{result.stack}: deployed {len(result.changes)} change(s) in {result.seconds}s"
        )
    for key, value in sorted(result.outputs.items()):
        console.print(f"  {key}: {value}", highlight=False)
    if s.batch.runner == "databricks":
        from pinpipe.aws import dist as artifacts
        from pinpipe.aws.databricks import deploy as databricks

        built = artifacts.build(s, progress=console.print)
        databricks.deploy(s, built.wheel, progress=console.print)


def dist(
    profile: ProfileOption = None,
    out: Annotated[Path | None, typer.Option(help="folder to write to (default: dist)")] = None,
) -> None:
    """Build what the cloud runs: the pinpipe wheel, the Databricks jobs (JSON, as the Jobs API
    takes them) and the MWAA bundle (DAGs, requirements.txt, plugins.zip).

    The jobs name the profile's workspace paths and cluster; `pinpipe deploy` uploads and applies
    them."""
    from pinpipe.aws import dist as artifacts

    s = _settings(profile)
    built = artifacts.build(s, out or artifacts.DIST_DIR, progress=console.print)
    console.print(f"wheel:           {built.wheel}", highlight=False)
    for job in built.databricks_jobs:
        console.print(f"Databricks job:  {job}", highlight=False)
    console.print(f"MWAA bundle:     {built.mwaa}/ (dags/, requirements.txt, plugins.zip)")


def destroy(
    profile: ProfileOption = None,
    delete_data: Annotated[
        bool, typer.Option("--delete-data", help="also delete the lake bucket and its data")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Remove what `pinpipe deploy` made (under the local profile also the pipeline's streams,
    topics and connector in the sandbox). The lake bucket is kept unless --delete-data."""
    from pinpipe.aws import deploy as cloud
    from pinpipe.aws.provision import teardown

    s = _settings(profile)
    what = "everything and the lake's data" if delete_data else "everything but the lake"
    if not yes and not typer.confirm(f"Destroy pipeline {s.uid} ({s.profile}): {what}?"):
        raise typer.Exit(1)
    removed = teardown(s, delete_data=delete_data, step=console.print)
    if not removed:
        raise PinpipeError(f"{cloud.stack_name(s)} is not deployed (profile {s.profile})")
    console.print("removed: " + ", ".join(removed), highlight=False)
