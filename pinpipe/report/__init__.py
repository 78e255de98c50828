"""The pipeline's report: one self-contained HTML file, written from the lake.

The stage's API is ``write(settings) -> Report``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pinpipe.config import Settings


@dataclass(frozen=True)
class Report:
    path: Path
    problems: list[str]  # what could not be read (the report says so too)
    empty_gold: list[str]  # gold tables without rows


def default_path(s: Settings) -> Path:
    return s.state_dir / "report" / "pinpipe-report.html"


def write(s: Settings, out: Path | None = None, run: dict[str, Any] | None = None) -> Report:
    """Gather the figures and write the report; ``run`` replaces the recorded demo run."""
    from pinpipe.report import figures, render

    data = figures.collect(s)
    if run is not None:
        data.run = run
    path = render.write(data, (out or default_path(s)).resolve())
    empty = [name for name, rows in data.gold.items() if not rows]
    return Report(path, data.problems, empty)
