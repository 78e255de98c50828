"""The cloud definition's part of ``make lint``: synthesize each profile's template (from the
cache when nothing changed) and fail on any cfn-lint error or cdk-nag finding not suppressed
with a reason.

    python -m pinpipe.aws.lint
"""

from __future__ import annotations

import json
import sys

from pinpipe.aws import deploy
from pinpipe.config import Settings, load_settings

PROFILES = ("local", "aws")


def nag_findings(assembly: deploy.Assembly) -> list[str]:
    """cdk-nag's unsuppressed findings, as the synthesis recorded them in the manifest."""
    manifest = json.loads((assembly.directory / "manifest.json").read_text())
    metadata: dict[str, list[dict[str, object]]] = {}
    for artifact in manifest["artifacts"].values():
        metadata |= artifact.get("metadata", {})
        if "additionalMetadataFile" in artifact:
            extra = assembly.directory / artifact["additionalMetadataFile"]
            metadata |= json.loads(extra.read_text())
    return [
        f"{path}: {entry['data']}".strip()
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] in ("aws:cdk:error", "aws:cdk:warning")
        and "AwsSolutions" in str(entry["data"])
    ]


def cfn_lint_errors(s: Settings, assembly: deploy.Assembly) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    matches = lint(assembly.template_body, config=ManualArgs(regions=[s.region]))
    return [str(m) for m in matches if m.rule.id.startswith("E")]


def main() -> None:
    failed = False
    for profile in PROFILES:
        s = load_settings(profile=profile)
        print(f"cloud template ({profile}): synthesizing unless cached")
        assembly = deploy.synth(s)
        problems = nag_findings(assembly) + cfn_lint_errors(s, assembly)
        resources = len(assembly.template.get("Resources", {}))
        print(f"cloud template ({profile}): {resources} resources, {len(problems)} problems")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
