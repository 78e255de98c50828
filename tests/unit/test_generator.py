"""The generator against fixed expectations and, when it is here, the real sample."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import pytest

from pinpipe import contract
from pinpipe.source import calibration as cal
from pinpipe.source.generator import SourceGenerator
from tests.sample import read_sample, sample_available

pytestmark = pytest.mark.unit

ROWS = 20_000
Row = dict[str, object]


@pytest.fixture(scope="module")
def generated() -> list[tuple[Row, Row, Row]]:
    return list(SourceGenerator(ROWS, seed=7))


def follower_form(value: object) -> str:
    text = str(value)
    if text == contract.USER_INFO_ERROR:
        return "error"
    return "k" if text.endswith("k") else "M" if text.endswith("M") else "plain"


def placeholder_kind(pin: Row) -> tuple[str, ...]:
    kinds = []
    if pin["title"] == contract.TITLE_MISSING:
        kinds.append("title")
    if pin["description"] in (
        contract.DESCRIPTION_STORY,
        contract.DESCRIPTION_MISSING,
        contract.DESCRIPTION_UNTITLED,
    ):
        kinds.append(f"description:{pin['description']}")
    if pin["poster_name"] == contract.USER_INFO_ERROR:
        kinds.append("poster")
    if pin["image_src"] == contract.IMAGE_SRC_ERROR:
        kinds.append("image")
    if pin["tag_list"] == contract.TAGS_MISSING:
        kinds.append("tags")
    return tuple(kinds)


MEASURES: dict[str, Callable[[Row], object]] = {
    "follower_count form": lambda p: follower_form(p["follower_count"]),
    "media type": lambda p: p["is_image_or_video"],
    "category": lambda p: p["category"],
    "title placeholder": lambda p: p["title"] == contract.TITLE_MISSING,
    "story description": lambda p: p["description"] == contract.DESCRIPTION_STORY,
    "missing description": lambda p: p["description"] == contract.DESCRIPTION_MISSING,
    "poster placeholder": lambda p: p["poster_name"] == contract.USER_INFO_ERROR,
    "image placeholder": lambda p: p["image_src"] == contract.IMAGE_SRC_ERROR,
    "tags placeholder": lambda p: p["tag_list"] == contract.TAGS_MISSING,
    "empty title": lambda p: p["title"] == "",
}


def shares(rows: list[Row], measure: Callable[[Row], object]) -> dict[object, float]:
    counts = Counter(measure(r) for r in rows)
    return {k: v / len(rows) for k, v in counts.items()}


def assert_within_2pp(got: dict[object, float], want: dict[object, float], what: str) -> None:
    for key in set(got) | set(want):
        diff = abs(got.get(key, 0.0) - want.get(key, 0.0))
        assert diff <= 0.02, f"{what} {key!r}: {got.get(key, 0):.3%} vs {want.get(key, 0):.3%}"


def test_frequencies_match_the_calibration(generated: list[tuple[Row, Row, Row]]) -> None:
    pins = [p for p, _, _ in generated]
    total = sum(cal.CATEGORY_COUNTS.values())
    assert_within_2pp(
        shares(pins, MEASURES["category"]),
        {k: v / total for k, v in cal.CATEGORY_COUNTS.items()},
        "category",
    )
    media_total = sum(cal.MEDIA_COUNTS.values())
    assert_within_2pp(
        shares(pins, MEASURES["media type"]),
        {k: v / media_total for k, v in cal.MEDIA_COUNTS.items()},
        "media",
    )
    forms = shares(pins, MEASURES["follower_count form"])
    assert forms["k"] == pytest.approx(0.739, abs=0.02)
    assert forms["plain"] == pytest.approx(0.178, abs=0.02)
    assert forms["M"] == pytest.approx(0.075, abs=0.02)
    assert 0 < forms["error"] < 0.02


@pytest.mark.skipif(not sample_available(), reason="the real sample is not next to the project")
@pytest.mark.parametrize("what", sorted(MEASURES))
def test_frequencies_are_within_2_points_of_the_real_sample(
    generated: list[tuple[Row, Row, Row]], what: str
) -> None:
    real = read_sample("pinterest_data")
    assert_within_2pp(
        shares([p for p, _, _ in generated], MEASURES[what]), shares(real, MEASURES[what]), what
    )


def test_values_have_the_real_patterns(generated: list[tuple[Row, Row, Row]]) -> None:
    for pin, geo, user in generated:
        assert pin["index"] == geo["ind"] == user["ind"]
        assert re.fullmatch(r"\d+|\d+k|\d+M|User Info Error", str(pin["follower_count"]))
        assert pin["save_location"] == f"Local save in /data/{pin['category']}"
        assert (pin["image_src"] == contract.IMAGE_SRC_ERROR) == (pin["downloaded"] == 0)
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
            str(pin["unique_id"]),
        )
        assert -90 <= float(geo["latitude"]) <= 90 and -180 <= float(geo["longitude"]) <= 180
        assert 20 <= int(user["age"]) <= 60
        joined, posted = user["date_joined"], geo["timestamp"]
        assert isinstance(joined, datetime) and isinstance(posted, datetime)
        assert cal.JOINED_FIRST <= joined <= cal.JOINED_LAST < posted <= cal.POSTED_LAST
    assert len({p["category"] for p, _, _ in generated}) == 13


def test_people_and_posters_repeat_with_the_same_attributes(
    generated: list[tuple[Row, Row, Row]],
) -> None:
    people = Counter(
        (u["first_name"], u["last_name"], u["age"], u["date_joined"]) for _, _, u in generated
    )
    distinct_share = len(people) / ROWS
    assert 0.6 < distinct_share < 0.8  # the sample: 1,411 people in 2,019 rows (70%)
    followers: dict[object, set[object]] = {}
    for pin, _, _ in generated:
        if pin["poster_name"] != contract.USER_INFO_ERROR:
            followers.setdefault(pin["poster_name"], set()).add(pin["follower_count"])
    assert all(len(counts) == 1 for counts in followers.values())
    assert 0.6 < len(followers) / ROWS < 0.8


def test_countries_are_skewed_toward_the_start_of_the_alphabet(
    generated: list[tuple[Row, Row, Row]],
) -> None:
    letters = Counter(str(g["country"])[0] for _, g, _ in generated)
    assert letters["A"] / ROWS == pytest.approx(691 / 2019, abs=0.03)
    assert letters["A"] > letters["B"] > letters["C"] > letters["D"]


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    assert list(SourceGenerator(200, seed=1)) == list(SourceGenerator(200, seed=1))
    assert list(SourceGenerator(200, seed=1)) != list(SourceGenerator(200, seed=2))
