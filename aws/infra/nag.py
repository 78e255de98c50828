"""cdk-nag's AwsSolutions pack runs on every synthesis; what it finds and we keep is suppressed
next to the resource, each with its reason (``suppress``)."""

from __future__ import annotations

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def suppress(
    construct: IConstruct, reasons: dict[str, str], applies_to: list[str] | None = None
) -> None:
    """Suppress the rules ``reasons`` names on ``construct`` and its children."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [
            NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)
            for rule, reason in reasons.items()
        ],
        apply_to_children=True,
    )
