"""Benchmark of `pinpipe up` now that it deploys the cloud stack with CloudFormation: the whole
`up` with the synthesized template not cached yet and cached, the provisioning step inside each,
a second deployment with nothing to change, and, as the baseline measured in the same run, the
same REST API and role made by direct API calls (what provisioning did before the CDK app).

It runs its own stack, in a temporary state folder on shifted ports, so the sandbox you work in
is not touched. It clears the cached local template (build/cdk/local-*), which the next `up`
synthesizes again.

    python -m bench.up
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from pinpipe.aws import api_gateway, deploy
from pinpipe.aws_access import aws_client
from pinpipe.config import Settings, load_settings
from pinpipe.sandbox import stack

PORT_SHIFT = 11000  # apart from bench.recovery's stack, below the ephemeral range


def direct_api_calls(s: Settings) -> float:
    """Seconds to make the role and the REST API with plain API calls: the baseline."""
    iam = aws_client(s, "iam")
    apigw = aws_client(s, "apigateway")
    t = time.monotonic()
    role = iam.create_role(
        RoleName=f"pinpipe-{s.uid}-apigateway-kinesis",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]
    api_id = apigw.create_rest_api(name=s.api_name)["id"]
    body = json.dumps(api_gateway.openapi_document(s, role["Arn"])).encode()
    apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=body)
    apigw.create_deployment(
        restApiId=api_id, stageName=s.api_stage, variables={"backendHost": s.endpoints.rest_proxy}
    )
    return time.monotonic() - t


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pinpipe-bench-") as tmp:
        ports = {k: p + PORT_SHIFT for k, p in load_settings().ports.model_dump().items()}
        s = load_settings(state_dir=Path(tmp), ports=ports)
        # The services run as child processes that read their settings from the environment.
        os.environ["PINPIPE_STATE_DIR"] = str(s.state_dir)
        for name, port in ports.items():
            os.environ[f"PINPIPE_PORTS__{name.upper()}"] = str(port)
        for cached in (s.build_dir / "cdk").glob(f"{s.profile}-*"):
            shutil.rmtree(cached)
        try:
            cold = stack.up(s)
            stack.down(s)
            warm = stack.up(s)
            unchanged = deploy.deploy(s)
            other = s.model_copy(update={"uid": "benchdirect1"})
            baseline = direct_api_calls(other)
            fresh = deploy.deploy(s.model_copy(update={"uid": "benchstack01"}))
        finally:
            stack.down(s)

    print("make up with the cloud stack deployed through CloudFormation (LocalStack)")
    print(f"  {'':52} {'seconds':>8}")
    print(f"  {'up, template not cached (synthesized)':52} {cold.seconds:>8.1f}")
    print(f"  {'  of which provisioning':52} {cold.timings['provision']:>8.1f}")
    print(f"  {'up, template cached':52} {warm.seconds:>8.1f}")
    print(f"  {'  of which provisioning':52} {warm.timings['provision']:>8.1f}")
    print(f"  {'deploy again, nothing to change (no-op)':52} {unchanged.seconds:>8.1f}")
    print(f"  {'deploy a new pipeline stack (role + API)':52} {fresh.seconds:>8.1f}")
    print(f"  {'baseline: the same role + API by direct API calls':52} {baseline:>8.1f}")
    print(f"  stack deploy / direct calls: {fresh.seconds / max(baseline, 0.01):.1f}x")
    print(f"  up cached / up synthesizing: {warm.seconds / cold.seconds:.2f}x")
    assert not unchanged.applied and not unchanged.changes, "the second deployment changed"


if __name__ == "__main__":
    main()
