"""Run the REST proxy: ``python -m pinpipe.services.rest_proxy --host H --port P --bootstrap B``."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from pinpipe.services.rest_proxy.app import create_app
from pinpipe.services.rest_proxy.kafka_auth import client_config, ensure_topics
from pinpipe.services.rest_proxy.producer import AsyncProducer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="pinpipe-rest-proxy", description="Kafka REST proxy (Confluent v2 produce API)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8082, help="port to bind (default 8082)")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument(
        "--msk-iam-region",
        metavar="REGION",
        help="authenticate to MSK with AWS IAM over TLS, signing for this region",
    )
    parser.add_argument(
        "--create-topics",
        metavar="T1,T2",
        default="",
        help="topics to create at start when they do not exist",
    )
    parser.add_argument(
        "--partitions", type=int, default=1, help="partitions of each created topic (default 1)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = client_config(args.bootstrap, args.msk_iam_region)
    if args.create_topics:
        topics = [t for t in args.create_topics.split(",") if t]
        created = ensure_topics(config, topics, args.partitions)
        logging.getLogger(__name__).info("topics created: %s", ", ".join(created) or "none")
    producer = AsyncProducer(args.bootstrap, config)
    web.run_app(create_app(producer), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
