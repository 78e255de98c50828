"""The ``pinpipe`` command's entry point: says what to install when the wheel was installed
without the command line's dependencies (as on a Databricks cluster or in MWAA)."""

from __future__ import annotations


def main() -> None:
    try:
        from pinpipe.cli import main as cli_main
    except ModuleNotFoundError as e:
        raise SystemExit(
            f"the pinpipe command needs the sandbox's packages ({e.name} is missing): "
            "pip install 'pinpipe[sandbox]'"
        ) from e
    cli_main()
