"""Bad requests through the API gateway, on both paths: each gets its documented 4xx and writes
nothing; no body, however odd, gets a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinpipe import landing
from tests.e2e.pipelines import Pipeline
from tests.faults import reconcile
from tests.sandbox import JSON, KAFKA_JSON, call_api

pytestmark = [pytest.mark.e2e]

ROW = {"index": 7, "title": "a pin", "follower_count": "12k"}
OVER_1_MB = "x" * (1024 * 1024 + 10)


@pytest.fixture(scope="module")
def api_url(pipeline: Pipeline) -> str:
    return pipeline.api_url


# (name, path under the API, body, content type, expected status)
BATCH_CASES = [
    ("not JSON", "topics/{pin}", b'{"records": [', KAFKA_JSON, 400),
    ("not UTF-8", "topics/{pin}", b'{"records": [{"value": "\xff"}]}', KAFKA_JSON, 400),
    ("no records", "topics/{pin}", {"records": []}, KAFKA_JSON, 400),
    ("records not a list", "topics/{pin}", {"records": {"value": ROW}}, KAFKA_JSON, 400),
    ("record without value", "topics/{pin}", {"records": [{"key": "k"}]}, KAFKA_JSON, 400),
    (
        "partition of the wrong type",
        "topics/{pin}",
        {"records": [{"value": ROW, "partition": "first"}]},
        KAFKA_JSON,
        400,
    ),
    ("record too large", "topics/{pin}", {"records": [{"value": OVER_1_MB}]}, KAFKA_JSON, 413),
    ("wrong content type", "topics/{pin}", {"records": [{"value": ROW}]}, "text/plain", 415),
    ("unknown topic", "topics/{pin}-nope", {"records": [{"value": ROW}]}, KAFKA_JSON, 404),
]
STREAM_CASES = [
    ("not JSON", "streams/{spin}/record", b'{"Data": ', JSON, 400),
    ("no partition key", "streams/{spin}/record", {"StreamName": "{spin}", "Data": ROW}, JSON, 400),
    (
        "empty partition key",
        "streams/{spin}/record",
        {"Data": ROW, "PartitionKey": ""},
        JSON,
        400,
    ),
    (
        "Data of the wrong type",
        "streams/{spin}/record",
        {"Data": "a string", "PartitionKey": "1"},
        JSON,
        400,
    ),
    (
        "record too large",
        "streams/{spin}/record",
        {"Data": {"blob": OVER_1_MB}, "PartitionKey": "1"},
        JSON,
        400,
    ),
    ("no records", "streams/{spin}/records", {"Records": []}, JSON, 400),
    (
        "wrong content type",
        "streams/{spin}/record",
        {"Data": ROW, "PartitionKey": "1"},
        "text/plain",
        415,
    ),
    (
        "unknown stream",
        "streams/{spin}-nope/record",
        {"Data": ROW, "PartitionKey": "1"},
        JSON,
        404,
    ),
]


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value and len(value) < 200 else value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


def test_each_bad_request_gets_its_4xx_and_writes_nothing(pipeline: Pipeline, api_url: str) -> None:
    s = pipeline.settings
    names = {"pin": s.topics["pin"], "spin": s.streams["pin"]}
    kafka_before = landing.topic_ends(s)
    kinesis_before = len(reconcile.kinesis_data(s, "pin"))
    wrong = []
    for name, path, body, content_type, want in BATCH_CASES + STREAM_CASES:
        method = "POST" if path.startswith("topics") else "PUT"
        r = call_api(method, f"{api_url}/{_fill(path, names)}", _fill(body, names), content_type)
        if r.status_code != want:
            wrong.append(
                f"{method} {path} ({name}): {r.status_code}, wanted {want}: {r.text[:200]}"
            )
        elif r.status_code != 415:
            assert "message" in r.json(), f"{name}: the error does not say what is wrong"
    assert not wrong, "\n".join(wrong)
    assert landing.topic_ends(s) == kafka_before, "a refused request reached Kafka"
    assert len(reconcile.kinesis_data(s, "pin")) == kinesis_before, "one reached Kinesis"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
PRODUCE_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"records": JSON_VALUES}),
    st.fixed_dictionaries(
        {"records": st.lists(st.fixed_dictionaries({"value": JSON_VALUES}), max_size=3)}
    ),
)
PUT_BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"Data": JSON_VALUES, "PartitionKey": JSON_VALUES}),
    st.fixed_dictionaries(
        {"Records": st.lists(st.fixed_dictionaries({"Data": JSON_VALUES}), max_size=3)}
    ),
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=PRODUCE_BODIES | st.binary(max_size=64))
def test_no_produce_body_gets_a_5xx(pipeline: Pipeline, api_url: str, body: Any) -> None:
    topic = pipeline.settings.topics["geo"]
    r = call_api("POST", f"{api_url}/topics/{topic}", body, KAFKA_JSON)
    assert r.status_code < 500, f"{r.status_code}: {r.text[:300]}"


@FUZZ
@given(body=PUT_BODIES | st.binary(max_size=64), many=st.booleans())
def test_no_put_body_gets_a_5xx(pipeline: Pipeline, api_url: str, body: Any, many: bool) -> None:
    stream = pipeline.settings.streams["geo"]
    r = call_api("PUT", f"{api_url}/streams/{stream}/{'records' if many else 'record'}", body, JSON)
    assert r.status_code < 500, f"{r.status_code}: {r.text[:300]}"
