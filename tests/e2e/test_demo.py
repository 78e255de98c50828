"""`make demo` end to end, as a user runs it, at a small size: the gold tables equal the
independent implementation, the streaming tables hold the streamed rows, the report renders in a
real browser, and a second `make demo` works on the existing state."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pinpipe import tables
from pinpipe.config import PROJECT_ROOT
from pinpipe.spark import lake
from tests.browser import open_page
from tests.e2e.expected import expected_gold, expected_silver
from tests.e2e.pipelines import (
    CleanupWarning,
    Pipeline,
    pipeline_user,
    remove_pipeline,
    streaming_rows,
)
from tests.sandbox import Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROWS = 1200
STREAM_EVENTS = 60
SCREENSHOTS = PROJECT_ROOT / "build" / "test-output"
# What `make demo` writes in the state folder whatever the uid: its last run and the report.
DEMO_STATE = ("demo", "report")


@contextmanager
def restored_afterwards(state_dir: Path, names: tuple[str, ...], backup: Path) -> Iterator[None]:
    """The state folder's ``names`` as they were before the block, once it is done."""
    for name in names:
        if (state_dir / name).exists():
            shutil.copytree(state_dir / name, backup / name)
    try:
        yield
    finally:
        for name in names:
            try:
                if (state_dir / name).exists():
                    shutil.rmtree(state_dir / name)
                if (backup / name).exists():
                    shutil.copytree(backup / name, state_dir / name)
            except OSError as e:
                warnings.warn(CleanupWarning(f"{state_dir / name} not restored: {e}"), stacklevel=1)


@pytest.fixture(scope="module")
def demo(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """A pipeline user of its own for `make demo`, which provisions it; removed after, and the
    state folder's demo run and report put back as they were."""
    source = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'source.db'}"
    pipeline = pipeline_user(sandbox, prefix="demo", source_db=source)
    backup = tmp_path_factory.mktemp("demo-state-before")
    with restored_afterwards(pipeline.settings.state_dir, DEMO_STATE, backup):
        try:
            yield pipeline
        finally:
            remove_pipeline(pipeline)


def make_demo(demo: Pipeline) -> str:
    done = subprocess.run(
        ["make", "demo", f"DEMO_ROWS={ROWS}", f"DEMO_STREAM_EVENTS={STREAM_EVENTS}"],
        env=demo.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, f"make demo failed:\n{done.stdout[-6000:]}\n{done.stderr}"
    return done.stdout


def last_run(demo: Pipeline) -> dict[str, object]:
    return dict(json.loads((demo.settings.state_dir / "demo" / "last-run.json").read_text()))


def test_make_demo_runs_the_whole_pipeline(demo: Pipeline) -> None:
    out = make_demo(demo)
    assert "Airflow UI" in out and "pinpipe-report.html" in out

    s = demo.settings
    want = expected_gold(s.source_db_url)
    for name in lake.GOLD:
        got = sorted(tuple(row.values()) for row in tables.rows(s, name))
        assert got, f"{name} is empty"
        assert got == want[name], name

    streamed = streaming_rows(demo)
    every_row = expected_silver(s.source_db_url)
    for table in lake.SILVER:  # the first STREAM_EVENTS source rows, in index order
        assert streamed[table] == sorted(every_row[table])[:STREAM_EVENTS], table

    run = last_run(demo)
    assert run["ok"] is True
    assert [st["name"] for st in run["steps"]] == [
        "sandbox", "source", "emulate stream", "streaming start", "emulate batch", "landing",
        "batch DAG", "streaming", "report",
    ]  # fmt: skip


def test_the_report_renders_in_a_browser(demo: Pipeline) -> None:
    report = demo.settings.state_dir / "report" / "pinpipe-report.html"
    assert report.exists()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with open_page(report) as visit:
        page = visit.page
        charts = page.locator("svg.chart")
        assert charts.count() == len(lake.GOLD) + 1  # one per gold table, and the timings
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box and box["width"] > 300 and box["height"] > 10, f"chart {i} is not drawn"
            bars = charts.nth(i).locator("rect")
            assert bars.count() > 0
            assert all((bars.nth(j).bounding_box() or {}).get("width", 0) > 0
                       for j in range(bars.count()))  # fmt: skip
        assert page.locator("#problems").count() == 0, page.locator("#problems").inner_text()
        assert "Not computed yet" not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        assert visit.console_errors == []
        assert visit.outside_requests == []
    assert (SCREENSHOTS / "report.png").stat().st_size > 10_000


def test_a_second_make_demo_works_and_sends_only_what_is_new(demo: Pipeline) -> None:
    before = {t: tables.read(demo.settings, t).num_rows for t in lake.SILVER}
    make_demo(demo)
    steps = {st["name"]: st for st in last_run(demo)["steps"]}
    assert steps["source"]["detail"].startswith("unchanged")
    assert steps["emulate batch"]["detail"].startswith("0 events sent")
    assert steps["emulate stream"]["detail"].startswith(f"{STREAM_EVENTS} events sent")
    assert {t: tables.read(demo.settings, t).num_rows for t in lake.SILVER} == before
    streamed = streaming_rows(demo)
    assert all(len(rows) == 2 * STREAM_EVENTS for rows in streamed.values())
