"""One writer at a time for a pipeline user's batch tables."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from pinpipe import writer_lock
from pinpipe.config import load_settings

pytestmark = pytest.mark.unit


def test_a_second_run_names_the_holder_and_gives_up_after_its_wait(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    holder = "Airflow run manual__1, step 'clean'"
    with (
        writer_lock.batch_tables(s, holder, wait_s=0),
        pytest.raises(writer_lock.TablesBusy, match=holder),
        writer_lock.batch_tables(s, "pinpipe batch run", wait_s=0.3),
    ):
        pass


def test_a_second_run_waits_for_the_first_then_writes(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path, uid="lock")
    first_done = threading.Event()
    waited: list[str] = []
    order: list[str] = []

    def first() -> None:
        with writer_lock.batch_tables(s, "the first run", wait_s=0):
            first_done.set()
            time.sleep(0.8)
            order.append("first")

    thread = threading.Thread(target=first)
    thread.start()
    first_done.wait(5)
    with writer_lock.batch_tables(s, "the second run", wait_s=10, on_wait=waited.append):
        order.append("second")
    thread.join()

    assert order == ["first", "second"]
    assert waited == ["waiting for the first run to finish writing the batch tables"]


def test_other_users_do_not_wait(tmp_path: Path) -> None:
    with (
        writer_lock.batch_tables(load_settings(state_dir=tmp_path, uid="a"), "a", wait_s=0),
        writer_lock.batch_tables(load_settings(state_dir=tmp_path, uid="b"), "b", wait_s=0),
    ):
        pass
