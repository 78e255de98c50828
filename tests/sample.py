"""The real sample of the original source tables, when the shared folder is next to the project."""

from __future__ import annotations

import json
from pathlib import Path

from pinpipe.config import PROJECT_ROOT

SAMPLE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "aicore-sample"
SAMPLE_ROWS = 2019


def sample_available() -> bool:
    return (SAMPLE_DIR / "pinterest_data.jsonl").exists()


def read_sample(name: str) -> list[dict[str, object]]:
    with (SAMPLE_DIR / f"{name}.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sample_dir() -> Path:
    return SAMPLE_DIR
