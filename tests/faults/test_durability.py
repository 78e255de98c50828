"""Nothing acknowledged is lost, and nothing is repeated, across `down`/`up`, a `kill -9` of any
one component, and a `kill -9` of the whole stack, each followed by `up`.

One pipeline (its own uid) on the shared stack, in steps that build on each other: a baseline
through both paths and both jobs; a clean restart that must change nothing; a kill of each
component while the emulator sends at a steady rate; a kill of everything at once; then one
reconciliation of the source with Kafka, the landed objects, silver, Kinesis and the streaming
tables, by key.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from pinpipe import landing
from pinpipe.airflow_client import AirflowClient
from pinpipe.sandbox import processes
from pinpipe.sandbox.health import port_in_use
from pinpipe.sandbox.services import STREAMING, all_services
from pinpipe.sandbox.services.localstack import KINESIS_LOSS_WINDOW_S
from pinpipe.spark import lake
from tests.e2e.pipelines import Pipeline, wait_until_landed
from tests.faults import reconcile
from tests.faults.reconcile import EmulatorRun

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SOURCE_ROWS = 500
BASELINE_EVENTS = 120
AFTER_RESTART_EVENTS = 40
EVENTS_PER_KILL = 30
RATE = 8.0  # events per second and path, so a kill lands in the middle of a run
KILL_AFTER_S = 1.5


@dataclass
class Scenario:
    pipeline: Pipeline
    source_url: str
    state: Path
    # When each key was acknowledged, per path; and windows in which Kinesis may lose acks.
    acked: dict[str, dict[int, float]] = field(default_factory=lambda: {"batch": {}, "stream": {}})
    kinesis_loss_windows: list[tuple[float, float]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.pipeline.api_url

    def emulate(self, path: str, count: int, rate: float = 0.0) -> EmulatorRun:
        return EmulatorRun(
            settings=self.pipeline.settings,
            source_url=self.source_url,
            path=path,
            api_url=self.api_url,
            count=count,
            rate=rate,
            batch_size=5,
            state=self.state,
        ).start()

    def finish(self, *runs: EmulatorRun) -> None:
        for run in runs:
            run.join()
            for key, at in run.sender.acked.items():
                self.acked[run.path].setdefault(key, at)

    def up(self) -> None:
        self.pipeline.sandbox.up()


@pytest.fixture(scope="module")
def scenario(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The module's pipeline with a source; removing the pipeline afterwards also stops its
    streaming job."""
    state = tmp_path_factory.mktemp("faults")
    source = f"sqlite:///{state / 'source.db'}"
    pipeline.ok("source", "generate", "--rows", str(SOURCE_ROWS), "--seed", "41", "--db", source)
    return Scenario(pipeline, source, state)


def snapshot(sc: Scenario) -> dict[str, Any]:
    """Everything a restart must not change."""
    s = sc.pipeline.settings
    return {
        "tables": {name: reconcile.table_state(s, name) for name in reconcile.all_table_names(s)},
        "kinesis": {t: reconcile.kinesis_data(s, t) for t in s.streams},
        "kafka": landing.topic_ends(s),
        "objects": reconcile.lake_objects(s),
        "api_url": sc.api_url,
    }


def run_jobs(sc: Scenario, through_airflow: bool = False) -> None:
    """The batch job (in Spark here, or as the DAG in Airflow), then the streaming job."""
    wait_until_landed(sc.pipeline, timeout=300)
    if through_airflow:
        out = sc.pipeline.ok("batch", "trigger", "--uid", sc.pipeline.settings.uid, timeout=1500)
        assert "pinpipe_batch succeeded" in out
    else:
        sc.pipeline.ok("batch", "run", timeout=1500)
    sc.pipeline.ok("stream", "run", "--available-now", timeout=900)


def test_both_paths_and_both_jobs(scenario: Scenario) -> None:
    sc = scenario
    sc.finish(sc.emulate("batch", BASELINE_EVENTS), sc.emulate("stream", BASELINE_EVENTS))
    run_jobs(sc)
    s = sc.pipeline.settings
    for t in lake.SILVER:
        assert sorted(reconcile.table_keys(s, t)) == sorted(sc.acked["batch"])
        assert sorted(reconcile.table_keys(s, lake.streaming_table(s, t))) == sorted(
            sc.acked["stream"]
        )


def test_down_and_up_change_nothing_and_the_pipeline_goes_on(scenario: Scenario) -> None:
    sc = scenario
    before = snapshot(sc)
    s = sc.pipeline.settings
    family = [proc for sv in all_services() for proc in processes.members(s, sv.name)]
    sc.pipeline.sandbox.down()
    assert not [p.pid for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for name, port in s.ports.model_dump().items():
        assert not port_in_use(s.bind_host, port), f"port {port} ({name}) still bound after down"
    sc.up()
    after = snapshot(sc)
    for part in before:
        assert after[part] == before[part], f"{part} changed across down/up"

    sc.finish(sc.emulate("batch", AFTER_RESTART_EVENTS), sc.emulate("stream", AFTER_RESTART_EVENTS))
    run_jobs(sc)
    s = sc.pipeline.settings
    for t in lake.SILVER:
        rows, version = reconcile.table_state(s, t) or (0, 0)
        assert rows == len(sc.acked["batch"]), f"{t}: the second run did not add exactly the new"
        stream_rows, _ = reconcile.table_state(s, lake.streaming_table(s, t)) or (0, 0)
        assert stream_rows == len(sc.acked["stream"])
        assert version > before["tables"][t][1]


def test_a_down_while_clients_send_then_up_loses_nothing(scenario: Scenario) -> None:
    """Clients that retry until the stack is back lose nothing they were told is stored, Kinesis
    records acknowledged in the last second before `down` included."""
    sc = scenario
    runs = (sc.emulate("batch", EVENTS_PER_KILL, RATE), sc.emulate("stream", EVENTS_PER_KILL, RATE))
    time.sleep(KILL_AFTER_S)
    sc.pipeline.sandbox.down()
    sc.up()
    sc.finish(*runs)
    _assert_nothing_acknowledged_is_missing(sc)


def _main_process(sc: Scenario, name: str) -> psutil.Process:
    proc = processes.main_process(sc.pipeline.settings, name)
    assert proc is not None, f"{name} is not running"
    return proc


def test_the_streaming_job_runs_beside_the_stack(scenario: Scenario) -> None:
    scenario.pipeline.ok("stream", "start")
    assert processes.main_process(scenario.pipeline.settings, STREAMING.name) is not None


@pytest.mark.parametrize(
    "component",
    ["kafka", "lake", "rest-proxy", "connect", "localstack", "airflow-scheduler", "streaming"],
)
def test_a_killed_component_comes_back_with_up_and_loses_nothing(
    scenario: Scenario, component: str
) -> None:
    sc = scenario
    url = sc.api_url
    runs_before = _dag_runs(sc)
    runs = (sc.emulate("batch", EVENTS_PER_KILL, RATE), sc.emulate("stream", EVENTS_PER_KILL, RATE))
    time.sleep(KILL_AFTER_S)
    _main_process(sc, component).send_signal(signal.SIGKILL)
    # Even a LocalStack kill loses no Kinesis record: kinesis-mock outlives it, saving every
    # second, until `up` stops it before LocalStack starts again.
    sc.up()
    sc.finish(*runs)

    assert sc.api_url == url, "the invoke URL changed"
    assert _main_process(sc, component)
    _assert_nothing_acknowledged_is_missing(sc)
    if component == "airflow-scheduler":
        _assert_airflow_runs_dags(sc, runs_before)


def _dag_runs(sc: Scenario) -> int:
    return AirflowClient.login(sc.pipeline.settings).total_runs()


def _assert_airflow_runs_dags(sc: Scenario, runs_before: int) -> None:
    """The scheduler that came back runs a DAG, and the runs before the kill are still known."""
    assert _dag_runs(sc) >= runs_before, "Airflow forgot DAG runs"
    client = AirflowClient.login(sc.pipeline.settings)
    run_id = client.trigger("pinpipe_stack_health")
    assert client.wait("pinpipe_stack_health", run_id, timeout=300) == "success"


def test_killing_every_process_at_once_then_up_loses_nothing(scenario: Scenario) -> None:
    sc = scenario
    s = sc.pipeline.settings
    url = sc.api_url
    runs = (sc.emulate("batch", EVENTS_PER_KILL, RATE), sc.emulate("stream", EVENTS_PER_KILL, RATE))
    time.sleep(KILL_AFTER_S)
    everything = [
        proc for sv in [*all_services(), STREAMING] for proc in processes.members(s, sv.name)
    ]
    for proc in everything:
        with contextlib.suppress(psutil.NoSuchProcess):  # a child may die with its parent
            proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    sc.kinesis_loss_windows.append((killed_at - KINESIS_LOSS_WINDOW_S, killed_at))
    psutil.wait_procs(everything, timeout=10)
    sc.up()
    sc.finish(*runs)

    assert sc.api_url == url, "the invoke URL changed"
    assert processes.main_process(s, STREAMING.name), "up did not restart the streaming job"
    _assert_nothing_acknowledged_is_missing(sc)


def _may_be_lost(sc: Scenario, acked_at: float) -> bool:
    return any(start <= acked_at <= end for start, end in sc.kinesis_loss_windows)


def _assert_nothing_acknowledged_is_missing(sc: Scenario) -> None:
    s = sc.pipeline.settings
    for t in s.topics:
        in_kafka = set(reconcile.keys_of_values(t, reconcile.kafka_values(s, t)))
        missing = set(sc.acked["batch"]) - in_kafka
        assert not missing, f"{t}: acknowledged but not in Kafka: {sorted(missing)[:10]}"
        in_kinesis = set(reconcile.keys_of_values(t, (d for *_, d in reconcile.kinesis_data(s, t))))
        missing = {
            k
            for k, at in sc.acked["stream"].items()
            if k not in in_kinesis and not _may_be_lost(sc, at)
        }
        assert not missing, f"{t}: acknowledged but not in Kinesis: {sorted(missing)[:10]}"


def test_everything_reconciles_by_key(scenario: Scenario) -> None:
    sc = scenario
    s = sc.pipeline.settings
    sc.pipeline.ok("stream", "stop")
    run_jobs(sc)
    sent_batch = set(sc.acked["batch"])
    sent_stream = set(sc.acked["stream"])
    may_miss = {k for k, at in sc.acked["stream"].items() if _may_be_lost(sc, at)}
    for t in s.topics:
        values = reconcile.kafka_values(s, t)
        assert set(reconcile.keys_of_values(t, values)) == sent_batch, f"{t}: source != Kafka"
        # Exactly-once landing: every record of the topic is in exactly one object.
        assert sorted(reconcile.landed_lines(s, t)) == sorted(values), f"{t}: Kafka != landed"
        silver = reconcile.table_keys(s, t)
        assert len(silver) == len(set(silver)), f"{t}: a key appears twice in silver"
        assert set(silver) == sent_batch, f"{t}: landed != silver"

        streamed = reconcile.table_keys(s, lake.streaming_table(s, t))
        assert len(streamed) == len(set(streamed)), f"{t}: a key appears twice in streaming"
        assert set(streamed) <= sent_stream
        missing = sent_stream - set(streamed) - may_miss
        assert not missing, f"{t}: streamed keys missing from the table: {sorted(missing)[:10]}"
