"""Each cleaning rule of pipeline-spec section 4 on small hand-made records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from pinpipe.contract import GEO, PIN, USER
from pinpipe.spark.batch import clean
from tests.spark.frames import raw_frame

pytestmark = pytest.mark.unit

PIN_RECORD = {
    "index": 7528,
    "unique_id": "fbe53c66",
    "title": "Title",
    "description": "Desc",
    "poster_name": "Poster",
    "follower_count": "437",
    "tag_list": "a,b",
    "is_image_or_video": "image",
    "image_src": "https://i.pinimg.com/x.jpg",
    "downloaded": 1,
    "save_location": "Local save in /data/mens-fashion",
    "category": "mens-fashion",
}


def pin(spark: Any, **changes: Any) -> dict[str, Any]:
    silver, quarantine = clean.clean(raw_frame(spark, [{**PIN_RECORD, **changes}]), PIN)
    assert quarantine.count() == 0
    rows = silver.collect()
    assert len(rows) == 1
    return rows[0].asDict()


@pytest.mark.parametrize(
    ("column", "placeholder"),
    [
        ("title", "No Title Data Available"),
        ("description", "No description available Story format"),
        ("description", "No description available"),
        ("description", "Untitled"),
        ("poster_name", "User Info Error"),
        ("follower_count", "User Info Error"),
        ("image_src", "Image src error."),
        ("tag_list", "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"),
        ("title", ""),
        ("category", ""),
        ("unique_id", ""),
    ],
)
def test_placeholders_and_empty_strings_become_null(
    spark: Any, column: str, placeholder: str
) -> None:
    assert pin(spark, **{column: placeholder})[column] is None


def test_a_placeholder_in_another_column_is_kept(spark: Any) -> None:
    assert pin(spark, title="User Info Error")["title"] == "User Info Error"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("437", 437),
        ("26k", 26_000),
        ("1.5k", 1_500),
        ("2M", 2_000_000),
        ("3m", 3_000_000),
        ("0", 0),
        ("15M", 15_000_000),
        ("1.25M", 1_250_000),
        ("many", None),
        ("k", None),
    ],
)
def test_follower_count_becomes_a_whole_number(spark: Any, text: str, number: int | None) -> None:
    assert pin(spark, follower_count=text)["follower_count"] == number


def test_types_names_and_column_order(spark: Any) -> None:
    silver, _ = clean.clean(raw_frame(spark, [{**PIN_RECORD, "index": "12"}]), PIN)
    assert tuple(silver.columns) == clean.PIN_COLUMNS
    types = dict(silver.dtypes)
    assert types["ind"] == "bigint" and types["follower_count"] == "bigint"
    row = silver.collect()[0]
    assert row["ind"] == 12
    assert row["save_location"] == "/data/mens-fashion"


def test_geo_has_coordinates_and_a_timestamp_from_either_form(spark: Any) -> None:
    records = [
        {
            "ind": 1,
            "timestamp": "2020-08-28 03:52:47",
            "latitude": -89.9787,
            "longitude": -173.293,
            "country": "Albania",
        },
        {
            "ind": 2,
            "timestamp": "2021-01-02T10:11:12",
            "latitude": 1,
            "longitude": 2,
            "country": "Chad",
        },
    ]
    silver, quarantine = clean.clean(raw_frame(spark, records), GEO)
    assert quarantine.count() == 0
    assert tuple(silver.columns) == clean.GEO_COLUMNS
    rows = {r["ind"]: r for r in silver.collect()}
    assert rows[1]["coordinates"] == [-89.9787, -173.293]
    assert rows[1]["timestamp"] == datetime(2020, 8, 28, 3, 52, 47)
    assert rows[2]["timestamp"] == datetime(2021, 1, 2, 10, 11, 12)
    assert dict(silver.dtypes)["timestamp"] == "timestamp"


def test_user_name_joins_first_and_last_names(spark: Any) -> None:
    record = {
        "ind": 3,
        "first_name": "Abigail",
        "last_name": "Ali",
        "age": 20,
        "date_joined": "2015-10-24 11:23:51",
    }
    silver, _ = clean.clean(raw_frame(spark, [record]), USER)
    assert tuple(silver.columns) == clean.USER_COLUMNS
    row = silver.collect()[0]
    assert (row["user_name"], row["age"], row["date_joined"]) == (
        "Abigail Ali",
        20,
        datetime(2015, 10, 24, 11, 23, 51),
    )


def test_duplicate_deliveries_collapse_to_the_latest(spark: Any) -> None:
    records = [
        {**PIN_RECORD, "title": "first"},
        {**PIN_RECORD, "index": 9},
        {**PIN_RECORD, "title": "again"},
    ]
    silver, _ = clean.clean(raw_frame(spark, records), PIN)
    rows = {r["ind"]: r["title"] for r in silver.collect()}
    assert rows == {7528: "again", 9: "Title"}


def test_unparseable_records_are_quarantined_with_their_text_and_reason(spark: Any) -> None:
    records = [
        "{not json",
        "[1, 2]",
        {"index": "seven", "title": "x"},
        {"title": "no key"},
        {**PIN_RECORD, "index": 1},
    ]
    silver, quarantine = clean.clean(raw_frame(spark, records), PIN)
    assert [r["ind"] for r in silver.collect()] == [1]
    got = {r["raw"]: r["reason"] for r in quarantine.collect()}
    assert got["{not json"] == clean.INVALID_JSON
    assert got["[1, 2]"] == clean.INVALID_JSON
    assert got['{"index": "seven", "title": "x"}'] == clean.INVALID_KEY
    assert got['{"title": "no key"}'] == clean.INVALID_KEY
    assert {r["source_table"] for r in quarantine.collect()} == {"pin"}


def test_bad_timestamps_are_quarantined_not_dropped(spark: Any) -> None:
    geo = [{"ind": 1, "timestamp": "yesterday", "latitude": 0, "longitude": 0, "country": "X"}]
    user = [{"ind": 1, "first_name": "A", "last_name": "B", "age": 30, "date_joined": None}]
    g_silver, g_quarantine = clean.clean(raw_frame(spark, geo), GEO)
    u_silver, u_quarantine = clean.clean(raw_frame(spark, user), USER)
    assert g_silver.count() == 0 and u_silver.count() == 0
    assert [r["reason"] for r in g_quarantine.collect()] == [clean.INVALID_TIMESTAMP]
    assert [r["reason"] for r in u_quarantine.collect()] == [clean.INVALID_DATE_JOINED]
    assert g_quarantine.collect()[0]["source"] == "test:0"
