"""The stack's name, parameters and outputs: what the deploy code and the sandbox read, kept
apart from the CDK constructs so reading them does not load the CDK."""

from __future__ import annotations

# Outputs read back by `pinpipe deploy` and the sandbox.
OUTPUT_API_ID = "ApiId"
OUTPUT_API_KEY_ID = "ApiKeyId"
OUTPUT_LAKE_BUCKET = "LakeBucket"
OUTPUT_BOOTSTRAP = "KafkaBootstrap"
OUTPUT_MWAA = "AirflowEnvironment"
OUTPUT_MWAA_BUCKET = "AirflowBucket"

# Parameters: one synthesized template serves every pipeline user of a profile.
PARAM_UID = "Uid"
PARAM_REST_API_ID = "RestApiId"
PARAM_BACKEND_HOST = "BackendHost"


def needs_assets(parts: tuple[str, ...]) -> bool:
    """Whether the stack uploads files (the sink's jars, the REST proxy's code, the DAGs), and so
    needs a CDK-bootstrapped account; the sandbox's stack does not."""
    return "kafka" in parts


def stack_name(uid: str) -> str:
    return f"pinpipe-{uid}"
