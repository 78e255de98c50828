"""Where a run got to, per table, so ``--resume`` re-sends nothing and skips nothing."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pinpipe.errors import PinpipeError


class ResumeError(PinpipeError):
    """``--resume`` was asked for but no matching earlier run exists."""


@dataclass
class Checkpoint:
    identity: dict[str, object]  # what makes two runs the same sequence of events
    delivered: dict[str, int] = field(default_factory=dict)  # table -> events delivered

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)  # atomic: a crash leaves the old or the new file, never half

    @classmethod
    def load(cls, path: Path, identity: dict[str, object]) -> Checkpoint:
        if not path.exists():
            raise ResumeError(f"nothing to resume: no earlier run recorded in {path}")
        saved = json.loads(path.read_text())
        if saved["identity"] != identity:
            raise ResumeError(
                f"the earlier run in {path} was a different sequence ({saved['identity']}); "
                "run with the same --all/--seed and source, or without --resume"
            )
        return cls(identity=identity, delivered={k: int(v) for k, v in saved["delivered"].items()})
