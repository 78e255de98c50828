"""How the REST proxy authenticates to Kafka: nothing (the sandbox's broker), or AWS IAM over TLS
(MSK), where librdkafka asks for a fresh signed token through its OAUTHBEARER callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClientConfig = dict[str, Any]


def msk_iam_token(region: str) -> Callable[[str], tuple[str, float]]:
    """The OAUTHBEARER callback: (token, expiry in seconds since the epoch)."""
    # Only the cloud deployment needs the signer; the sandbox never imports it.
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    def token(_config: str) -> tuple[str, float]:
        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return value, expiry_ms / 1000

    return token


def client_config(bootstrap: str, msk_iam_region: str | None = None) -> ClientConfig:
    """The settings every Kafka client of the proxy shares."""
    config: ClientConfig = {"bootstrap.servers": bootstrap, "client.id": "pinpipe-rest-proxy"}
    if msk_iam_region:
        config |= {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER",
            "oauth_cb": msk_iam_token(msk_iam_region),
        }
    return config


def ensure_topics(config: ClientConfig, topics: list[str], partitions: int) -> list[str]:
    """Create the topics that do not exist yet; returns the ones created."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(config)
    existing = admin.list_topics(timeout=30).topics
    wanted = [NewTopic(t, num_partitions=partitions) for t in topics if t not in existing]
    created = []
    for topic, future in admin.create_topics(wanted).items() if wanted else []:
        try:
            future.result()
            created.append(topic)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created
