"""How each gold table is charted: which columns label a bar, which is its length, which is its
note, and in what order the bars come."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pinpipe.contract import AGE_GROUPS
from pinpipe.report.charts import Bar

MAX_BARS = 25


@dataclass(frozen=True)
class GoldChart:
    question: str
    label: tuple[str, ...]  # columns that name a bar
    value: str
    note: str | None = None  # the answer the bar stands for, e.g. the top category
    ranked: bool = False  # by value, largest first (else in label order)


CHARTS: dict[str, GoldChart] = {
    "popular_category_by_country": GoldChart(
        "Most popular category per country", ("country",), "category_count", "category", True
    ),
    "popular_category_by_year": GoldChart(
        "Most popular category per year", ("post_year",), "category_count", "category"
    ),
    "most_followed_by_country": GoldChart(
        "Poster with the most followers per country",
        ("country",),
        "follower_count",
        "poster_name",
        True,
    ),
    "top_country_by_followers": GoldChart(
        "Country whose top poster has the most followers", ("country",), "follower_count"
    ),
    "popular_category_by_age_group": GoldChart(
        "Most popular category per age group", ("age_group",), "category_count", "category"
    ),
    "median_followers_by_age_group": GoldChart(
        "Median follower count per age group", ("age_group",), "median_follower_count"
    ),
    "users_joined_by_year": GoldChart(
        "Users who joined, per year", ("post_year",), "number_users_joined"
    ),
    "median_followers_by_join_year": GoldChart(
        "Median follower count by join year", ("post_year",), "median_follower_count"
    ),
    "median_followers_by_age_group_and_join_year": GoldChart(
        "Median follower count by age group and join year",
        ("age_group", "post_year"),
        "median_follower_count",
    ),
}


def _order(value: Any) -> tuple[int, str]:
    """Age groups in age order, everything else as text (years sort as text too)."""
    text = str(value)
    return (AGE_GROUPS.index(text), "") if text in AGE_GROUPS else (len(AGE_GROUPS), text)


def bars(chart: GoldChart, rows: list[dict[str, Any]]) -> list[Bar]:
    """One bar per label; tied answers (several top categories) share their bar's note."""
    merged: dict[tuple[Any, ...], tuple[float, list[str]]] = {}
    for row in rows:
        key = tuple(row[c] for c in chart.label)
        value = float(row[chart.value] or 0)
        notes = merged.setdefault(key, (value, []))[1]
        if chart.note and row[chart.note] is not None:
            notes.append(str(row[chart.note]))
    if chart.ranked:
        keys = sorted(merged, key=lambda k: (-merged[k][0], [_order(v) for v in k]))
    else:
        keys = sorted(merged, key=lambda k: [_order(v) for v in k])
    return [
        Bar(" · ".join(str(v) for v in key), merged[key][0], ", ".join(sorted(merged[key][1])))
        for key in keys
    ]
