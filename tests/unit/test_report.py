"""The report's charts and page, built from known figures (no stack needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from pinpipe.report import gold
from pinpipe.report.charts import Bar, bar_chart, number
from pinpipe.report.figures import Figures, TableState, age
from pinpipe.report.render import render
from pinpipe.spark import lake

pytestmark = pytest.mark.unit
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def test_numbers_read_like_numbers() -> None:
    assert number(1234.0) == "1,234"
    assert number(5500) == "5,500"
    assert number(2.5) == "2.5"


def test_ages_of_tables() -> None:
    assert age(None, NOW) == "never"
    assert age(NOW - timedelta(seconds=20), NOW) == "just now"
    assert age(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert age(NOW - timedelta(hours=3, minutes=5), NOW) == "3 h ago"
    assert age(NOW - timedelta(days=2), NOW) == "2 days ago"


def test_a_bar_per_row_scaled_to_the_largest_with_its_numbers_on_hover() -> None:
    svg = bar_chart([Bar("France", 100, "art"), Bar("Chad", 50, "<b>")], "count")
    assert svg.count('<g class="bar">') == 2
    assert "<title>France: count 100 (art)</title>" in svg
    assert "&lt;b&gt;" in svg and "<b>" not in svg  # labels are escaped
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1], rel=0.01)


def test_tied_answers_share_one_bar_and_ranked_charts_sort_by_value() -> None:
    rows = [
        {"country": "Chad", "category": "art", "category_count": 2},
        {"country": "Peru", "category": "travel", "category_count": 5},
        {"country": "Chad", "category": "diy", "category_count": 2},
    ]
    bars = gold.bars(gold.CHARTS["popular_category_by_country"], rows)
    assert bars == [Bar("Peru", 5, "travel"), Bar("Chad", 2, "art, diy")]


def test_age_groups_come_in_age_order() -> None:
    rows = [
        {"age_group": g, "median_follower_count": i}
        for i, g in enumerate(["+50", "18-24", "<18", "36-50", "25-35"])
    ]
    bars = gold.bars(gold.CHARTS["median_followers_by_age_group"], rows)
    assert [b.label for b in bars] == ["<18", "18-24", "25-35", "36-50", "+50"]


def test_every_gold_table_has_a_chart() -> None:
    assert set(gold.CHARTS) == set(lake.GOLD)


def figures(**changes: object) -> Figures:
    base = Figures(
        generated_at=NOW,
        uid="abc",
        gold={name: None for name in lake.GOLD},
        tables={"pin": TableState(10, NOW - timedelta(minutes=2))},
        kafka_records={"pin": 10, "geo": 10, "user": 10},
        landed_records={"pin": 10, "geo": 10, "user": 10},
        kinesis_records={"pin": 3, "geo": 3, "user": 3},
        quarantine_reasons=[("batch", "geo", "missing or unparseable timestamp", 2)],
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


def test_the_page_is_self_contained_and_shows_every_section() -> None:
    rows = [{"post_year": 2018, "category": "art", "category_count": 7}]
    step = {"name": "sandbox", "seconds": 30.0, "ok": True}
    run = {"started_at": "2026-01-02T11:00", "seconds": 90.0, "failed_step": None, "steps": [step]}
    html = render(figures(gold={**figures().gold, "popular_category_by_year": rows}, run=run))
    page = Page()
    page.feed(html)
    assert page.external == []  # nothing to fetch: no network needed to view it
    assert "script" not in page.tags
    assert html.count('<svg class="chart"') == 2  # the gold table with rows, and the timings
    assert "<td>2018</td>" in html  # years are not formatted as 2,018
    assert "Not computed yet" in html  # the gold tables without rows say what to do
    assert "missing or unparseable timestamp" in html
    assert "2 min ago" in html
