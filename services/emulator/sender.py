"""Sends one request with retries; what still fails goes to a dead-letter file, never nowhere."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

RETRYABLE_STATUS = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter for the given (1-based) failed attempt."""
        return rng.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


@dataclass
class Counters:
    requests: int = 0
    retries: int = 0
    dead_letters: int = 0
    dead_records: int = 0


@dataclass
class Sender:
    dead_letter_file: Path
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float = 30.0
    stop: threading.Event = field(default_factory=threading.Event)
    counters: Counters = field(default_factory=Counters)
    session: requests.Session = field(default_factory=requests.Session)
    rng: random.Random = field(default_factory=random.Random)

    def send(
        self, method: str, url: str, body: dict[str, Any], content_type: str, records: int
    ) -> bool:
        """True once the request succeeds; False if it ended in the dead-letter file."""
        data = json.dumps(body, ensure_ascii=False).encode()
        error = ""
        for attempt in range(1, self.policy.attempts + 1):
            self.counters.requests += 1
            try:
                r = self.session.request(
                    method,
                    url,
                    data=data,
                    headers={"Content-Type": content_type},
                    timeout=self.timeout_s,
                )
                failed = _failed_records(r, body)
                if r.ok and failed is None:
                    return True
                if failed is not None:  # PutRecords: only the records that failed are retried
                    error = f"{len(failed)} of the records failed: {r.text[:300]}"
                    body = {**body, "Records": failed}
                    data = json.dumps(body, ensure_ascii=False).encode()
                else:
                    error = f"HTTP {r.status_code}: {r.text[:500]}"
                    if r.status_code not in RETRYABLE_STATUS:
                        break  # the request itself is wrong: retrying cannot help
            except requests.RequestException as e:
                error = f"{type(e).__name__}: {e}"
            if attempt < self.policy.attempts:
                self.counters.retries += 1
                # Sleep in small steps so Ctrl-C is not held up by a long backoff.
                deadline = time.monotonic() + self.policy.delay(attempt, self.rng)
                while time.monotonic() < deadline and not self.stop.is_set():
                    time.sleep(min(0.1, deadline - time.monotonic()))
        self._dead_letter(method, url, body, error, records)
        return False

    def _dead_letter(
        self, method: str, url: str, body: dict[str, Any], error: str, records: int
    ) -> None:
        self.dead_letter_file.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "method": method,
            "url": url,
            "error": error,
            "payload": body,
        }
        with self.dead_letter_file.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.counters.dead_letters += 1
        self.counters.dead_records += records


def _failed_records(r: requests.Response, body: dict[str, Any]) -> list[Any] | None:
    """PutRecords answers 200 even when some records failed: those records, else None."""
    if not r.ok or "Records" not in body:
        return None
    try:
        results = r.json().get("Records", [])
    except (ValueError, AttributeError):
        return None
    failed = [
        rec for rec, res in zip(body["Records"], results, strict=False) if res.get("ErrorCode")
    ]
    return failed or None
