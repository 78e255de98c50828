"""Loading files into the source database and reading them back unchanged (SQLite here; the
integration tests repeat this on MariaDB)."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from pinpipe.contract import GEO, PIN, SOURCE_TABLES, USER
from pinpipe.source import db, loader, populate
from tests.sample import SAMPLE_ROWS, assert_sample_stored, sample_available, sample_dir

pytestmark = pytest.mark.unit

PIN_ROW = {
    "index": 7528,
    "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf",
    "title": "No Title Data Available",
    "description": "Keep the kids busy… ",
    "poster_name": "Of Life & Lisa | Lifestyle Blog",
    "follower_count": "1.5k",
    "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",
    "is_image_or_video": "image",
    "image_src": "Image src error.",
    "downloaded": 0,
    "save_location": "Local save in /data/mens-fashion",
    "category": "mens-fashion",
}
GEO_ROW = {
    "ind": 7528,
    "timestamp": "2020-08-28T03:52:47",
    "latitude": -89.9787,
    "longitude": -173.293,
    "country": "Albania",
}
USER_ROW = {
    "ind": 7528,
    "first_name": "Zoë",
    "last_name": "",
    "age": 20,
    "date_joined": "2015-10-24 11:23:51",
}


def write_jsonl(directory: Path) -> None:
    for table, row in ((PIN, PIN_ROW), (GEO, GEO_ROW), (USER, USER_ROW)):
        (directory / f"{table.name}.jsonl").write_text(json.dumps(row, ensure_ascii=False) + "\n")


def engine_in(tmp_path: Path):
    return db.connect(f"sqlite:///{tmp_path / 'source.db'}")


def test_jsonl_round_trip_keeps_values(tmp_path: Path) -> None:
    write_jsonl(tmp_path)
    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    assert populate.load(engine, tmp_path) == {"pin": 1, "geo": 1, "user": 1}
    with engine.connect() as conn:
        pin = next(db.read_rows(conn, PIN))
        geo = next(db.read_rows(conn, GEO))
        user = next(db.read_rows(conn, USER))
    assert pin == PIN_ROW
    assert geo["timestamp"] == datetime(2020, 8, 28, 3, 52, 47)  # the ISO form is accepted
    assert user["first_name"] == "Zoë" and user["last_name"] == ""
    assert user["date_joined"] == datetime(2015, 10, 24, 11, 23, 51)


def test_csv_files_load_too(tmp_path: Path) -> None:
    for table, row in ((PIN, PIN_ROW), (GEO, GEO_ROW), (USER, USER_ROW)):
        with (tmp_path / f"{table.name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            writer.writeheader()
            writer.writerow(row)
    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    populate.load(engine, tmp_path)
    with engine.connect() as conn:
        assert next(db.read_rows(conn, PIN)) == PIN_ROW
        assert next(db.read_rows(conn, GEO))["latitude"] == -89.9787


def test_a_bad_value_names_the_file_line_and_column(tmp_path: Path) -> None:
    write_jsonl(tmp_path)
    (tmp_path / "user_data.jsonl").write_text(json.dumps({**USER_ROW, "age": "old"}) + "\n")
    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    with pytest.raises(loader.LoadError, match=r"user_data.jsonl:1: column age: 'old'"):
        populate.load(engine, tmp_path)


def test_a_missing_file_says_which(tmp_path: Path) -> None:
    write_jsonl(tmp_path)
    (tmp_path / "geolocation_data.jsonl").unlink()
    with pytest.raises(loader.LoadError, match=r"geolocation_data\.jsonl or geolocation_data\.csv"):
        populate.load(engine_in(tmp_path), tmp_path)


def test_tables_with_rows_are_not_added_to_without_replace(tmp_path: Path) -> None:
    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    populate.generate(engine, rows=10, seed=1)
    with pytest.raises(db.SourceError, match="--replace"):
        populate.prepare_tables(engine, replace=False)
    populate.prepare_tables(engine, replace=True)
    assert db.count_rows(engine, PIN) == 0


def test_generated_rows_are_stored_as_generated(tmp_path: Path) -> None:
    from pinpipe.source.generator import SourceGenerator

    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    assert populate.generate(engine, rows=500, seed=3, chunk=128) == 500
    expected = list(SourceGenerator(500, seed=3))
    with engine.connect() as conn:
        for i, table in enumerate(SOURCE_TABLES):
            assert list(db.read_rows(conn, table)) == [row[i] for row in expected]


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
def test_the_real_sample_loads_and_reads_back_unchanged(tmp_path: Path) -> None:
    engine = engine_in(tmp_path)
    populate.prepare_tables(engine, replace=False)
    counts = populate.load(engine, sample_dir())
    assert counts == {"pin": SAMPLE_ROWS, "geo": SAMPLE_ROWS, "user": SAMPLE_ROWS}
    with engine.connect() as conn:
        assert_sample_stored(conn)
