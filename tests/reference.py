"""An independent, plain-Python implementation of the cleaning and gold tables of
pipeline-spec sections 4-5, written from the spec (it shares no code with the Spark jobs).
Tests compare the Spark tables with it."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Any

Row = dict[str, Any]

NO_DATA = {
    "title": {"No Title Data Available"},
    "description": {
        "No description available Story format",
        "No description available",
        "Untitled",
    },
    "poster_name": {"User Info Error"},
    "follower_count": {"User Info Error"},
    "image_src": {"Image src error."},
    "tag_list": {"N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"},
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def followers(text: str | None) -> int | None:
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not m:
        return None
    number = Decimal(m.group(1)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    scale = {"": 1, "k": 1000, "m": 1_000_000}[m.group(2).lower()]
    return int(number * scale)


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    try:
        return float(str(value)) if value is not None else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def clean_pin(record: Row) -> Row:
    out = {}
    for col, value in record.items():
        text = _text(value)
        out[col] = None if text == "" or text in NO_DATA.get(col, ()) else text
    location = out.get("save_location")
    return {
        "ind": _int(out.get("index")),
        "unique_id": out.get("unique_id"),
        "title": out.get("title"),
        "description": out.get("description"),
        "follower_count": followers(out.get("follower_count")),
        "poster_name": out.get("poster_name"),
        "tag_list": out.get("tag_list"),
        "is_image_or_video": out.get("is_image_or_video"),
        "image_src": out.get("image_src"),
        "save_location": location.removeprefix("Local save in ") if location else location,
        "category": out.get("category"),
    }


def clean_geo(record: Row) -> Row | None:
    ts = _timestamp(record.get("timestamp"))
    if ts is None:
        return None
    return {
        "ind": _int(record.get("ind")),
        "country": _text(record.get("country")),
        "coordinates": [_float(record.get("latitude")), _float(record.get("longitude"))],
        "timestamp": ts,
    }


def clean_user(record: Row) -> Row | None:
    joined = _timestamp(record.get("date_joined"))
    if joined is None:
        return None
    first, last = _text(record.get("first_name")), _text(record.get("last_name"))
    return {
        "ind": _int(record.get("ind")),
        "user_name": None if first is None or last is None else f"{first} {last}",
        "age": _int(record.get("age")),
        "date_joined": joined,
    }


def silver(records: list[Row], table: str) -> list[Row]:
    """Records in delivery order -> cleaned rows, the last delivery of each key kept."""
    cleaner = {"pin": clean_pin, "geo": clean_geo, "user": clean_user}[table]
    key = "index" if table == "pin" else "ind"
    latest: dict[int, Row] = {}
    for record in records:
        if _int(record.get(key)) is None:
            continue
        row = cleaner(record)
        if row is not None:
            latest[row["ind"]] = row
    return sorted(latest.values(), key=lambda r: r["ind"])


def age_group(age: int) -> str:
    if age < 18:
        return "<18"
    if age <= 24:
        return "18-24"
    if age <= 35:
        return "25-35"
    if age <= 50:
        return "36-50"
    return "+50"


def _top(counts: dict[tuple[Any, Any], int]) -> list[tuple[Any, Any, int]]:
    best: dict[Any, int] = defaultdict(int)
    for (group, _), n in counts.items():
        best[group] = max(best[group], n)
    return sorted((g, c, n) for (g, c), n in counts.items() if n == best[g])


def gold(
    pin: list[Row],
    geo: list[Row],
    user: list[Row],
    posts: tuple[int, int] = (2018, 2022),
    joins: tuple[int, int] = (2015, 2020),
) -> dict[str, list[tuple[Any, ...]]]:
    """Every gold table as a sorted list of tuples, columns in spec order."""
    geo_by, user_by = {g["ind"]: g for g in geo}, {u["ind"]: u for u in user}
    with_geo = [(p, geo_by[p["ind"]]) for p in pin if p["ind"] in geo_by]
    with_user = [(p, user_by[p["ind"]]) for p in pin if p["ind"] in user_by]
    out: dict[str, list[tuple[Any, ...]]] = {}

    by_country = Counter(
        (g["country"], p["category"])
        for p, g in with_geo
        if g["country"] is not None and p["category"] is not None
    )
    out["popular_category_by_country"] = _top(by_country)

    by_year = Counter(
        (g["timestamp"].year, p["category"])
        for p, g in with_geo
        if posts[0] <= g["timestamp"].year <= posts[1] and p["category"] is not None
    )
    out["popular_category_by_year"] = _top(by_year)

    posters = {
        (g["country"], p["poster_name"], p["follower_count"])
        for p, g in with_geo
        if p["follower_count"] is not None and g["country"] is not None
    }
    top_per_country: dict[str, int] = {}
    for country, _, n in posters:
        top_per_country[country] = max(top_per_country.get(country, n), n)
    out["most_followed_by_country"] = sorted(
        (c, name, n) for c, name, n in posters if n == top_per_country[c]
    )
    best = max(top_per_country.values(), default=None)
    out["top_country_by_followers"] = sorted(
        (c, n) for c, n in top_per_country.items() if n == best
    )

    aged = [(p, u, age_group(u["age"])) for p, u in with_user if u["age"] is not None]
    out["popular_category_by_age_group"] = _top(
        Counter((g, p["category"]) for p, _, g in aged if p["category"] is not None)
    )
    by_group: dict[str, list[int]] = defaultdict(list)
    for p, _, g in aged:
        if p["follower_count"] is not None:
            by_group[g].append(p["follower_count"])
    out["median_followers_by_age_group"] = sorted(
        (g, float(median(v))) for g, v in by_group.items()
    )

    people = {(u["user_name"], u["age"], u["date_joined"]) for u in user}
    joined = Counter(d.year for _, _, d in people if joins[0] <= d.year <= joins[1])
    out["users_joined_by_year"] = sorted(joined.items())

    by_join_year: dict[int, list[int]] = defaultdict(list)
    by_group_year: dict[tuple[str, int], list[int]] = defaultdict(list)
    for p, u, g in aged:
        year = u["date_joined"].year
        if joins[0] <= year <= joins[1] and p["follower_count"] is not None:
            by_join_year[year].append(p["follower_count"])
            by_group_year[(g, year)].append(p["follower_count"])
    out["median_followers_by_join_year"] = sorted(
        (y, float(median(v))) for y, v in by_join_year.items()
    )
    out["median_followers_by_age_group_and_join_year"] = sorted(
        (g, y, float(median(v))) for (g, y), v in by_group_year.items()
    )
    return out
