"""Where a batch run's summary is saved: under the time the run was due."""

from __future__ import annotations

import pytest

from pinpipe.batch_summary import summary_key

pytestmark = pytest.mark.unit


def test_a_run_and_the_same_run_again_share_one_summary_and_other_runs_have_their_own() -> None:
    scheduled = summary_key("2026-12-07T00:00:00+00:00")
    assert scheduled == "runs/batch/due=2026-12-07T00-00-00.000000Z.json"
    assert summary_key("2026-12-07T01:00:00+01:00") == scheduled  # the same time
    manual = summary_key("2026-12-07T09:30:15.250000+00:00")
    assert manual == "runs/batch/due=2026-12-07T09-30-15.250000Z.json"
