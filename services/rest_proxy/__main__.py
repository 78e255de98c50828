"""Run the REST proxy: ``python -m pinpipe.services.rest_proxy --host H --port P --bootstrap B``."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from pinpipe.services.rest_proxy.app import create_app
from pinpipe.services.rest_proxy.producer import AsyncProducer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="pinpipe-rest-proxy", description="Kafka REST proxy (Confluent v2 produce API)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8082, help="port to bind (default 8082)")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    web.run_app(create_app(AsyncProducer(args.bootstrap)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
