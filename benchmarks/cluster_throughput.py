"""What replication costs: produce throughput and latency of 3 brokers with replication factor 3, next to
one broker measured in the same run on the same machine.

Both sides are local deployments (`cluster up`'s nodes: real `logquake broker` processes on their own
loopback addresses; the cluster also runs 3 keepers). Each phase sends 100-byte messages to its own
6-partition topic from one confluent-kafka producer configured as broker_throughput's, and reports msg/s
and the p50/p99 of produce()-to-delivery-report time. The replicated topics have min.insync.replicas 2,
the safe setting. Goal: acks=all on 3 brokers at least 40% of one broker's acks=1 rate.

    python -m benchmarks cluster_throughput [--messages=N] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks._cpu import Usage, load_average
from benchmarks._kafka import (MESSAGE_BYTES, PARTITIONS, PRODUCER_CONFIG, check_stored, create_topics, describe,
                               produce_measured)
from benchmarks._table import print_table
from cluster.deploy.deployment import ClusterSpec, Deployment, deploy
from cluster.deploy.local import PID_FILE
from cluster.deploy.up import wait_registered

RATIO_GOAL = 0.40
REPLICATED = {"min.insync.replicas": "2"}
BROKER_OVERRIDES = {"offsets.topic.num.partitions": "5"}


@dataclass(frozen=True)
class Phase:
    setup: str
    acks: str
    messages: int
    usage: Usage
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.messages / self.usage.seconds

    def percentile(self, fraction: float) -> float:
        return 1e3 * self.latencies[min(int(len(self.latencies) * fraction), len(self.latencies) - 1)]


def main(argv: list[str]) -> None:
    options = _parse(argv)
    print(f"load average {load_average()} at start; {MESSAGE_BYTES}-byte messages, {PARTITIONS} partitions, "
          f"{options.messages:,} per phase; producer: {describe(PRODUCER_CONFIG)}")
    phases = _measure(ClusterSpec(keepers=0, brokers=1, broker_overrides=BROKER_OVERRIDES), "1 broker", 1,
                      ["1"], options.messages)
    phases += _measure(ClusterSpec(keepers=3, brokers=3, broker_overrides=BROKER_OVERRIDES), "3 brokers, RF 3", 3,
                       ["all", "1"], options.messages)
    print(f"load average {load_average()} at end (1, 5, 15 min)")
    print_table(["setup", "acks", "messages", "msg/s", "MB/s", "p50 ms", "p99 ms"],
                [[p.setup, p.acks, p.messages, round(p.rate), p.rate * MESSAGE_BYTES / 1e6, p.percentile(0.50),
                  p.percentile(0.99)] for p in phases])
    print(f"CPU while each phase ran, in cores of the {psutil.cpu_count()} here: the client is this process, the "
          f"servers are the brokers (keepers count as other)")
    print_table(["setup", "acks", "client cores", "broker cores", "busiest broker thread", "other cores",
                 "broker CPU us/msg", "limit"],
                [[p.setup, p.acks, p.usage.cores(p.usage.client), p.usage.cores(p.usage.server),
                  p.usage.cores(p.usage.server_peak), p.usage.cores(p.usage.others), 1e6 * p.usage.server / p.messages,
                  p.usage.limit()] for p in phases])
    _print_goal(phases)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks cluster_throughput")
    parser.add_argument("--messages", type=int, default=500_000, help="messages per phase (default 500,000)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 20,000 messages per phase")
    options = parser.parse_args(argv)
    if options.smoke:
        options.messages = 20_000
    if options.messages < 1:
        parser.error("--messages must be positive")
    return options


def _measure(spec: ClusterSpec, setup: str, replication: int, acks_levels: list[str], count: int) -> list[Phase]:
    with tempfile.TemporaryDirectory(prefix="logquake-bench-cluster-") as work:
        with deploy(spec, "local", Path(work)) as deployment:
            if deployment.keepers:
                wait_registered(deployment, timeout=120)
            bootstrap = deployment.bootstrap_servers
            topics = {acks: f"bench-rf{replication}-acks-{acks}" for acks in acks_levels}
            create_topics(bootstrap, list(topics.values()), replication, REPLICATED if replication > 1 else {})
            servers = _broker_processes(deployment)
            phases = [_produce_phase(bootstrap, servers, setup, topic, acks, count) for acks, topic in topics.items()]
            for topic in topics.values():
                _wait_stored(bootstrap, topic, count)
    return phases


def _wait_stored(bootstrap: str, topic: str, count: int, timeout: float = 120) -> None:
    """Every acknowledged message below the high watermark, which under acks=1 follows the followers' fetches."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check_stored(bootstrap, topic, count)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _broker_processes(deployment: Deployment) -> list[psutil.Process]:
    """Local nodes keep their pid in their directory (what cleanup finds them by)."""
    return [psutil.Process(int((broker.directory / PID_FILE).read_text())) for broker in deployment.brokers]


def _produce_phase(bootstrap: str, servers: list[psutil.Process], setup: str, topic: str, acks: str,
                   count: int) -> Phase:
    usage, latencies = produce_measured(bootstrap, servers, topic, acks, count)
    return Phase(setup, acks, count, usage, latencies)


def _print_goal(phases: list[Phase]) -> None:
    single = next(p.rate for p in phases if p.setup == "1 broker" and p.acks == "1")
    rows: list[list[object]] = []
    for phase in phases:
        if phase.setup == "1 broker":
            continue
        ratio = phase.rate / single
        goal = f">= {RATIO_GOAL:.0%}" if phase.acks == "all" else "(no goal)"
        met = ("yes" if ratio >= RATIO_GOAL else "NO") if phase.acks == "all" else "-"
        rows.append([f"{phase.setup} acks={phase.acks} / 1 broker acks=1", f"{ratio:.0%}", goal, met])
    print_table(["goal", "measured", "target", "met"], rows)
