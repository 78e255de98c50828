"""What one emulator run sends, and how."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PathName = Literal["batch", "stream"]


@dataclass(frozen=True)
class RunOptions:
    path: PathName
    count: int | None = None  # events to send (None with neither duration nor all: 100)
    duration_s: float | None = None
    rate: float = 0.0  # events per second; 0 = as fast as possible
    batch_size: int = 1
    seed: int | None = None
    all_rows: bool = False
    resume: bool = False
    api_url: str | None = None  # None: the API deployed for the settings' uid
    db_url: str | None = None  # None: the configured source database
