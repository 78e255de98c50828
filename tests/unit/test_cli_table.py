"""``pinpipe table``: machine-readable output is complete unless a limit is asked for, and says
so on stderr when it is cut; the table view shows the first rows and says how to see all."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from pinpipe import tables
from pinpipe.cli import app

pytestmark = pytest.mark.unit

ROWS = 120


@pytest.fixture(autouse=True)
def a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    data = pa.table({"ind": list(range(ROWS)), "country": [f"c{i}" for i in range(ROWS)]})

    def read(_s: Any, name: str) -> pa.Table:
        assert name == "geo"
        return data

    monkeypatch.setattr(tables, "read", read)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["table", "geo", *args])


def test_json_prints_every_row_by_default() -> None:
    done = run("--json")
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["ind"] for r in rows] == list(range(ROWS))
    assert done.stderr == ""


def test_json_with_a_limit_says_on_stderr_that_it_was_cut() -> None:
    done = run("--json", "--limit", "10")
    assert done.exit_code == 0, done.output
    assert len(done.stdout.splitlines()) == 10
    assert "first 10 of 120 rows" in done.stderr


def test_the_table_view_shows_fifty_rows_and_says_so() -> None:
    done = run()
    assert done.exit_code == 0, done.output
    assert "geo: 120 rows (first 50; --limit 0 shows all)" in " ".join(done.stdout.split())
    assert "c49" in done.stdout and "c50" not in done.stdout
