"""Sends one request with retries; what still fails goes to a dead-letter file, never nowhere.

A request counts as delivered only when the status is 2xx and the body carries no error: a
gateway that maps errors badly answers 200 with ``{"__type": ...}``. Batch bodies (Kinesis
``Records``, Kafka REST ``records``) can be accepted while some of their records are refused:
those records alone are retried, or dead-lettered when retrying cannot help.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

# Error names (Kinesis ``__type``/``ErrorCode``) that a later attempt may not get.
RETRYABLE_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "LimitExceededException",
        "KMSThrottlingException",
        "InternalFailure",
        "ServiceUnavailable",
    }
)

# Batch body key -> (answer key with one result per record, the result's error field).
BATCHES = {"Records": ("Records", "ErrorCode"), "records": ("offsets", "error_code")}


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
    requests: int = 0  # HTTP requests made, retries included
    retries: int = 0
    dead_letters: int = 0  # entries written to the dead-letter file
    dead_records: int = 0  # records in those entries
    delivered_records: int = 0  # records the API accepted


@dataclass(frozen=True)
class Reply:
    """What one attempt got back, judged."""

    status: int | None  # None: no HTTP answer at all
    text: str = ""
    error: str = ""  # empty: every record was accepted
    retryable: bool = False
    failed: dict[int, dict[str, Any]] = field(default_factory=dict)  # batch index -> its result

    @property
    def partial(self) -> bool:
        return bool(self.failed)


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
        """True once every record is delivered; False if any ended in the dead-letter file."""
        lost = False
        reply = Reply(status=None)
        for attempt in range(1, self.policy.attempts + 1):
            self.counters.requests += 1
            reply = self._attempt(method, url, body, content_type)
            if not reply.error:
                self.counters.delivered_records += records
                return not lost
            if reply.partial:
                retry, dead = _split(reply.failed)
                self.counters.delivered_records += records - len(retry) - len(dead)
                if dead:
                    self._dead_letter(
                        method, url, _subset(body, dead), _narrow(reply, dead), len(dead)
                    )
                    lost = True
                if not retry:
                    return False
                body, reply = _subset(body, retry), _narrow(reply, retry)
                records = len(retry)
            elif not reply.retryable:
                break  # the request itself is wrong: retrying cannot help
            if attempt < self.policy.attempts:
                self.counters.retries += 1
                self._back_off(attempt)
        self._dead_letter(method, url, body, reply, records)
        return False

    def _attempt(self, method: str, url: str, body: dict[str, Any], content_type: str) -> Reply:
        try:
            r = self.session.request(
                method,
                url,
                data=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": content_type},
                timeout=self.timeout_s,
            )
        except requests.RequestException as e:
            return Reply(status=None, error=f"{type(e).__name__}: {e}", retryable=True)
        return judge(r.status_code, r.text, body)

    def _back_off(self, attempt: int) -> None:
        # Waiting on the stop event lets Ctrl-C cut a long backoff short.
        self.stop.wait(self.policy.delay(attempt, self.rng))

    def _dead_letter(
        self, method: str, url: str, body: dict[str, Any], reply: Reply, records: int
    ) -> None:
        """One entry per payload given up on; a partly refused batch keeps its refused records."""
        self.dead_letter_file.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "method": method,
            "url": url,
            "status": reply.status,
            "error": reply.error,
            # For a partly refused batch, the results of this entry's records, in their order.
            "response": list(reply.failed.values()) if reply.partial else reply.text[:2000],
            "payload": body,
        }
        with self.dead_letter_file.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.counters.dead_letters += 1
        self.counters.dead_records += records


def judge(status: int, text: str, body: dict[str, Any]) -> Reply:
    """Whether an answer means delivered, failed (retryable or not) or partly accepted."""
    if not 200 <= status < 300:
        retryable = status == 429 or 500 <= status < 600
        return Reply(status, text, f"HTTP {status}: {text[:500]}", retryable)
    answer = _json(text)
    if (name := _error_name(answer)) is not None:
        return Reply(status, text, f"HTTP {status} with an error: {text[:500]}", _retryable(name))
    if failed := _failed_records(answer, body):
        return _refused(status, text, failed)
    return Reply(status, text)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_name(answer: Any) -> str | int | None:
    """The error a 2xx body reports at its top level (Kinesis ``__type``, REST proxy
    ``error_code``/``error``), if any."""
    if not isinstance(answer, dict):
        return None
    for key in ("__type", "error_code", "error"):
        if answer.get(key) not in (None, "", 0):
            value = answer[key]
            return value if isinstance(value, int) else str(value)
    return None


def _retryable(name: str | int) -> bool:
    if isinstance(name, int):
        # Kafka REST: per-record 2 is "retriable"; 5xxxx codes are server errors, like 5xx.
        return name == 2 or 50000 <= name < 60000
    return name.rsplit("#", 1)[-1] in RETRYABLE_ERRORS


def _failed_records(answer: Any, body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The batch records the answer reports as refused, by index in the body's list."""
    for records_key, (results_key, error_key) in BATCHES.items():
        if isinstance(body.get(records_key), list) and isinstance(answer, dict):
            results = answer.get(results_key)
            if not isinstance(results, list):
                return {}
            return {
                i: res
                for i, res in enumerate(results[: len(body[records_key])])
                if isinstance(res, dict) and res.get(error_key) not in (None, "", 0)
            }
    return {}


def _split(failed: dict[int, dict[str, Any]]) -> tuple[list[int], list[int]]:
    """Indexes of the refused records worth retrying, and of those that are not."""
    retry: list[int] = []
    dead: list[int] = []
    for i, res in failed.items():
        code = res.get("ErrorCode", res.get("error_code"))
        name = code if isinstance(code, int) else str(code)
        (retry if _retryable(name) else dead).append(i)
    return retry, dead


def _refused(status: int | None, text: str, failed: dict[int, dict[str, Any]]) -> Reply:
    codes = sorted({str(r.get("ErrorCode", r.get("error_code"))) for r in failed.values()})
    error = f"HTTP {status}: {len(failed)} records refused ({', '.join(codes)})"
    return Reply(status, text, error, failed=failed)


def _narrow(reply: Reply, indexes: list[int]) -> Reply:
    """The reply for the given refused records only, numbered as in ``_subset``."""
    return _refused(
        reply.status, reply.text, {new: reply.failed[old] for new, old in enumerate(indexes)}
    )


def _subset(body: dict[str, Any], indexes: list[int]) -> dict[str, Any]:
    key = next(k for k in BATCHES if isinstance(body.get(k), list))
    return {**body, key: [body[key][i] for i in indexes]}
