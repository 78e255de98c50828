"""Each gold query of pipeline-spec section 5 on small hand-made silver tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from pinpipe.spark.batch import analytics

pytestmark = pytest.mark.unit

PIN = "ind long, category string, poster_name string, follower_count long"
GEO = "ind long, country string, timestamp timestamp"
USER = "ind long, user_name string, age int, date_joined timestamp"


def frames(spark: Any, pins: list[tuple], geos: list[tuple], users: list[tuple]) -> dict[str, Any]:
    return analytics.gold_tables(
        spark.createDataFrame(pins, PIN),
        spark.createDataFrame(geos, GEO),
        spark.createDataFrame(users, USER),
    )


def rows(df: Any) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


def ts(year: int) -> datetime:
    return datetime(year, 6, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def gold(spark: Any) -> dict[str, Any]:
    pins = [
        (1, "art", "Ann", 100),
        (2, "art", "Bob", 5_000),
        (3, "travel", "Cy", 5_000),
        (4, "travel", "Dee", 300),
        (5, "beauty", "Eve", 1_500),
        (6, "beauty", None, None),
        (7, "art", "Fay", 2_000_000),
        (8, "travel", "Gus", 10),
    ]
    geos = [
        (1, "Chad", ts(2018)),
        (2, "Chad", ts(2018)),
        (3, "Chad", ts(2019)),
        (4, "Chad", ts(2019)),
        (5, "Peru", ts(2022)),
        (6, "Peru", ts(2017)),
        (7, "Peru", ts(2023)),
        (8, "Fiji", ts(2020)),
    ]
    users = [
        (1, "A A", 16, ts(2015)),
        (2, "B B", 20, ts(2016)),
        (3, "C C", 24, ts(2016)),
        (4, "D D", 30, ts(2017)),
        (5, "E E", 36, ts(2015)),
        (6, "F F", 50, ts(2014)),
        (7, "G G", 51, ts(2021)),
        (8, "A A", 16, ts(2015)),
    ]
    return {name: rows(df) for name, df in frames(spark, pins, geos, users).items()}


def test_every_gold_table_has_the_spec_columns(spark: Any) -> None:
    tables = frames(spark, [(1, "art", "A", 1)], [(1, "Chad", ts(2019))], [(1, "A", 30, ts(2016))])
    assert {name: tuple(df.columns) for name, df in tables.items()} == {
        "popular_category_by_country": ("country", "category", "category_count"),
        "popular_category_by_year": ("post_year", "category", "category_count"),
        "most_followed_by_country": ("country", "poster_name", "follower_count"),
        "top_country_by_followers": ("country", "follower_count"),
        "popular_category_by_age_group": ("age_group", "category", "category_count"),
        "median_followers_by_age_group": ("age_group", "median_follower_count"),
        "users_joined_by_year": ("post_year", "number_users_joined"),
        "median_followers_by_join_year": ("post_year", "median_follower_count"),
        "median_followers_by_age_group_and_join_year": (
            "age_group",
            "post_year",
            "median_follower_count",
        ),
    }


def test_most_popular_category_keeps_ties(gold: dict[str, Any]) -> None:
    assert gold["popular_category_by_country"] == [
        ("Chad", "art", 2),
        ("Chad", "travel", 2),
        ("Fiji", "travel", 1),
        ("Peru", "beauty", 2),
    ]


def test_popular_category_by_year_uses_only_2018_to_2022(gold: dict[str, Any]) -> None:
    assert gold["popular_category_by_year"] == [
        (2018, "art", 2),
        (2019, "travel", 2),
        (2020, "travel", 1),
        (2022, "beauty", 1),
    ]


def test_most_followed_poster_per_country_keeps_ties(gold: dict[str, Any]) -> None:
    assert gold["most_followed_by_country"] == [
        ("Chad", "Bob", 5_000),
        ("Chad", "Cy", 5_000),
        ("Fiji", "Gus", 10),
        ("Peru", "Fay", 2_000_000),
    ]
    assert gold["top_country_by_followers"] == [("Peru", 2_000_000)]


def test_age_groups_include_under_18(gold: dict[str, Any]) -> None:
    groups = {g for g, *_ in gold["popular_category_by_age_group"]}
    assert groups == {"<18", "18-24", "25-35", "36-50", "+50"}
    assert ("18-24", "art", 1) in gold["popular_category_by_age_group"]
    assert ("18-24", "travel", 1) in gold["popular_category_by_age_group"]  # a tie


def test_median_is_exact_with_an_even_count(gold: dict[str, Any]) -> None:
    # 18-24: Bob 5,000 and Cy 5,000 -> 5,000; <18: Ann 100 and Gus 10 -> 55 (mean of the middle two)
    medians = dict(gold["median_followers_by_age_group"])
    assert medians["<18"] == 55.0
    assert medians["18-24"] == 5_000.0
    assert medians["36-50"] == 1_500.0  # Eve; the user with no follower count is left out


def test_users_joined_by_year_counts_distinct_people_2015_to_2020(gold: dict[str, Any]) -> None:
    # "A A" (16, 2015) appears twice but is one person; 2014 and 2021 are outside the range.
    assert gold["users_joined_by_year"] == [(2015, 2), (2016, 2), (2017, 1)]


def test_medians_by_join_year_and_by_age_group_and_join_year(gold: dict[str, Any]) -> None:
    assert gold["median_followers_by_join_year"] == [(2015, 100.0), (2016, 5_000.0), (2017, 300.0)]
    assert ("<18", 2015, 55.0) in gold["median_followers_by_age_group_and_join_year"]
    assert ("36-50", 2015, 1_500.0) in gold["median_followers_by_age_group_and_join_year"]


def test_year_ranges_are_parameters(spark: Any) -> None:
    pins = spark.createDataFrame([(1, "art", "A", 1)], PIN)
    geos = spark.createDataFrame([(1, "Chad", ts(2017))], GEO)
    users = spark.createDataFrame([(1, "A", 30, ts(2021))], USER)
    years = analytics.YearRanges(posts=(2017, 2017), joins=(2021, 2021))
    tables = analytics.gold_tables(pins, geos, users, years)
    assert rows(tables["popular_category_by_year"]) == [(2017, "art", 1)]
    assert rows(tables["users_joined_by_year"]) == [(2021, 1)]
