"""The whole local stack: up in dependency order with provisioning in between, and down."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pinpipe.aws import connector, identity, provision
from pinpipe.config import Settings
from pinpipe.errors import SandboxError
from pinpipe.sandbox import processes, runner
from pinpipe.sandbox.services import STREAMING, Service, all_services
from pinpipe.sandbox.warm_up import SparkWarmUp

Progress = Callable[[str], None]


@dataclass
class UpResult:
    api_url: str
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _start_and_wait(
    s: Settings, services: list[Service], progress: Progress, timings: dict[str, float]
) -> None:
    """Start every service of a wave, then wait for each to be healthy."""
    t0 = time.monotonic()
    for service in services:
        progress(f"starting {service.name}")
        runner.start(s, service)
    for service in services:
        progress(f"waiting for {service.name}")
        runner.wait_healthy(s, service, timeout=s.start_timeout_s)
        timings[service.name] = round(time.monotonic() - t0, 1)


def _prefixed(progress: Progress, prefix: str) -> Progress:
    return lambda message: progress(prefix + message)


def _waves(services: list[Service]) -> list[list[Service]]:
    """Group services so each wave depends only on earlier waves."""
    done: set[str] = set()
    waves: list[list[Service]] = []
    pending = list(services)
    while pending:
        wave = [sv for sv in pending if set(sv.depends_on) <= done]
        if not wave:
            raise SandboxError(f"dependency cycle among {[sv.name for sv in pending]}")
        waves.append(wave)
        done |= {sv.name for sv in wave}
        pending = [sv for sv in pending if sv.name not in done]
    return waves


def up(s: Settings, progress: Progress = lambda _: None) -> UpResult:
    t0 = time.monotonic()
    services = all_services()
    # An on-demand service that died without being stopped (a crash) is started again below.
    crashed = [
        (sv, record.uid)
        for sv in [STREAMING]
        if (record := processes.read_record(s, sv.name)) and not runner.running_pid(s, sv.name)
    ]
    for name in runner.clean_leftovers(s, [*services, STREAMING]):
        progress(f"stopped what a crash left of {name}")
    runner.check_ports(s, services)
    timings: dict[str, float] = {}
    by_name = {sv.name: sv for sv in services}
    # Everything but Kafka Connect, which needs the bucket and the topics first.
    before_connect = [sv for sv in services if sv.name != "connect"]
    warming = SparkWarmUp(s)
    for wave in _waves(before_connect):
        _start_and_wait(s, wave, progress, timings)
        if any(sv.name == "spark" for sv in wave):
            warming.start()  # alongside the rest of the start
    t = time.monotonic()
    # Every pipeline provisioned in this state folder, so each keeps its API and id.
    pipelines = [s.model_copy(update={"uid": uid}) for uid in identity.provisioned_uids(s)]
    api_url = ""
    for p in pipelines:
        url = provision.provision(p, step=_prefixed(progress, f"provisioning {p.uid}: "))
        api_url = api_url or url
    timings["provision"] = round(time.monotonic() - t, 1)
    _start_and_wait(s, [by_name["connect"]], progress, timings)
    t = time.monotonic()
    for p in pipelines:
        progress(f"starting the S3 sink connector of {p.uid}")
        connector.ensure_connector(p)
    timings["connector"] = round(time.monotonic() - t, 1)
    for sv, uid in crashed:
        progress(f"restarting {sv.name}, which had stopped without `down`")
        runner.start(s.model_copy(update={"uid": uid or s.uid}), sv)
    progress("warming up the Spark service")
    warnings = warming.join(timings)
    return UpResult(api_url, round(time.monotonic() - t0, 1), timings, warnings)


def down(s: Settings, progress: Progress = lambda _: None) -> list[str]:
    """Stop every service in reverse start order; returns what was stopped. Every store keeps
    its data on disk as it goes, so nothing needs saving here."""
    stopped = []
    for service in [STREAMING, *reversed(all_services())]:
        progress(f"stopping {service.name}")
        if runner.stop(s, service.name):
            stopped.append(service.name)
    return stopped
