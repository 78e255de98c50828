"""Landed-record test data with the trouble real deliveries bring."""

from __future__ import annotations

import random
from typing import Any

from pinpipe.contract import SOURCE_TABLES, to_wire
from pinpipe.source.generator import SourceGenerator


def noisy_records(rows: int, seed: int) -> dict[str, list[Any]]:
    """Generated rows as clients send them, with what the cleaning must cope with mixed in:
    ISO datetimes, repeated deliveries, later changed deliveries, and bad records."""
    rng = random.Random(seed)
    out: dict[str, list[Any]] = {t.short: [] for t in SOURCE_TABLES}
    for triplet in SourceGenerator(rows, seed=seed):
        for table, row in zip(SOURCE_TABLES, triplet, strict=True):
            wire = to_wire(row)
            if rng.random() < 0.05:  # an ISO datetime, as some clients send
                wire = {
                    k: v.replace(" ", "T", 1) if k in ("timestamp", "date_joined") else v
                    for k, v in wire.items()
                }
            out[table.short].append(wire)
            if rng.random() < 0.03:  # delivered twice
                out[table.short].append(wire)
            if rng.random() < 0.03:  # delivered again, changed: the later delivery wins
                changed = {
                    "pin": {"follower_count": rng.choice(["1.5k", "3m", "12.5", "x", ""])},
                    "geo": {"country": "Later", "latitude": "1.0E-7"},
                    "user": {"age": rng.choice([15, "20.0", " 33 ", None])},
                }[table.short]
                out[table.short].append({**wire, **changed})
    pin, geo, user = out["pin"], out["geo"], out["user"]
    pin += ["{broken", "[1, 2]", "null", {"index": "x"}, {**pin[3], "index": "7.0"}]
    pin += [{"index": " 77 ", "title": "No Title Data Available", "save_location": "Local save in"}]
    geo += [{**geo[5], "ind": 99999, "timestamp": "not a time"}, {**geo[8], "timestamp": "bad"}]
    user += [{**user[9], "date_joined": None}, {**user[10], "first_name": None}]
    return out
