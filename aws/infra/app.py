"""Build the CDK app for a profile: ``python -m pinpipe.aws.infra.app`` (what ``aws/cdk.json``
runs for the CDK CLI) synthesizes into ``CDK_OUTDIR`` or ``cdk.out``."""

from __future__ import annotations

import os
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from pinpipe.aws.infra.outputs import needs_assets, stack_name
from pinpipe.aws.infra.stack import BuildInputs, PipelineStack
from pinpipe.config import Settings, load_settings


def build(
    s: Settings,
    outdir: Path,
    inputs: BuildInputs,
    stack_id: str | None = None,
    uid_default: str | None = None,
) -> cdk.App:
    """The app with the pipeline's stack. ``pinpipe deploy`` passes the uid as a parameter at
    each deployment; for the CDK CLI, ``uid_default`` makes it the parameter's default."""
    app = cdk.App(outdir=str(outdir), analytics_reporting=False)
    # cdk-nag's AwsSolutions pack: its findings are annotations (errors for the CDK CLI); the
    # unit tests fail on any that is not suppressed with a reason (see nag.py).
    cdk.Aspects.of(app).add(AwsSolutionsChecks())
    synthesizer: cdk.IStackSynthesizer = (
        cdk.CliCredentialsStackSynthesizer()
        if needs_assets(s.deploy.parts)
        else cdk.BootstraplessSynthesizer()
    )
    PipelineStack(
        app,
        stack_id or stack_name(s.uid),
        stack_name=stack_name(s.uid),
        s=s,
        inputs=inputs,
        env=cdk.Environment(region=s.region, account=s.deploy.account or None),
        synthesizer=synthesizer,
        uid_default=uid_default,
    )
    return app


def default_inputs(s: Settings, work_dir: Path) -> BuildInputs:
    return BuildInputs(
        plugin_dir=s.build_dir / "connect-plugins" / "pinpipe-s3-sink", work_dir=work_dir
    )


def main() -> None:
    s = load_settings()
    outdir = Path(os.environ.get("CDK_OUTDIR", "cdk.out"))
    build(s, outdir, default_inputs(s, outdir.parent / "cdk-work"), uid_default=s.uid).synth()


if __name__ == "__main__":
    main()
