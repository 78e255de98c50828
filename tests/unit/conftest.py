from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_pinpipe_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests see the defaults, whatever the shell (or another fixture) exported, AWS
    endpoint overrides included."""
    for key in list(os.environ):
        if key.startswith(("PINPIPE_", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
            monkeypatch.delenv(key)
