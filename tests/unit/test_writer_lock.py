"""One writer at a time for a pipeline user's batch tables."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pinpipe import writer_lock
from pinpipe.config import load_settings

pytestmark = pytest.mark.unit

ALL = ["pin", "geo", "user", writer_lock.GOLD]


def test_a_second_run_names_the_holder_and_gives_up_after_its_wait(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    holder = "Airflow run manual__1, step 'clean'"
    with (
        writer_lock.batch_tables(s, holder, wait_s=0, tables=["pin", "gold"]),
        pytest.raises(writer_lock.TablesBusy, match=holder),
        writer_lock.batch_tables(s, "pinpipe batch run", wait_s=0.3, tables=["gold"]),
    ):
        pass


def test_a_second_run_waits_for_the_first_then_writes(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    first_done = threading.Event()
    waited: list[str] = []
    order: list[str] = []

    def first() -> None:
        with writer_lock.batch_tables(s, "the first run", wait_s=0, tables=ALL):
            first_done.set()
            time.sleep(0.8)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    first_done.wait(5)
    with writer_lock.batch_tables(
        s, "the second run", wait_s=10, tables=["geo"], on_wait=waited.append
    ):
        order.append("second")
    thread.join()

    assert order == ["first", "second"]
    assert waited == [
        "waiting for the first run to finish writing the geo tables of pipeline user lock"
    ]


def test_other_users_do_not_wait(tmp_path: Path) -> None:
    with (
        writer_lock.batch_tables(load_settings(state_dir=tmp_path, uid="a"), "a", 0, ALL),
        writer_lock.batch_tables(load_settings(state_dir=tmp_path, uid="b"), "b", 0, ALL),
    ):
        pass


def test_steps_on_different_tables_run_side_by_side(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    with (
        writer_lock.batch_tables(s, "clean pin", wait_s=0, tables=["pin"]),
        writer_lock.batch_tables(s, "clean geo", wait_s=0, tables=["geo"]),
        pytest.raises(writer_lock.TablesBusy, match=r"the geo tables .* by clean geo"),
        writer_lock.batch_tables(s, "analytics", wait_s=0.2, tables=[*ALL]),
    ):
        pass


def test_a_second_streaming_job_exits_at_once_naming_the_first(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    with writer_lock.streaming_tables(s):
        busy = r"streaming job \(pid \d+.*stream stop"
        with pytest.raises(writer_lock.TablesBusy, match=busy), writer_lock.streaming_tables(s):
            pass
        with writer_lock.batch_tables(s, "a batch run", wait_s=0, tables=ALL):
            pass  # the batch tables are not the streaming job's
    with writer_lock.streaming_tables(s):
        pass  # released when the first job ends
