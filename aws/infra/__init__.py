"""The whole cloud side as one AWS CDK app: what a profile's ``[deploy] parts`` lists is created
in the account, everything else is the sandbox's own process.

- ``app``: builds the app for a profile (``cdk.json`` runs it for the CDK CLI);
- ``stack``: one stack per pipeline user, composed of the parts below;
- ``ingest``: the streams, the role API Gateway calls Kinesis with, the REST API, its key;
- ``network``: the VPC; ``kafka``: MSK, the REST proxy host next to it, the VPC link;
- ``connect``: MSK Connect with the S3 sink; ``orchestration``: MWAA and its bucket.
"""

import os

# The CDK's Node runtime prints a banner about Node versions on every start; the app works on
# the Node the machine has (20+).
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
