"""What the fault filesystem costs a broker when no fault is in force: produce throughput and fsync latency with the
brokers' data directories on plain directories and on the fault filesystem, side by side in one run.

Both clusters of a setup (one broker; then 3 brokers, 3 keepers, replication factor 3, min ISR 2) run
at the same time on the local backend, one with `fault_disks`, and are measured in interleaved rounds, the order
alternating, so that whatever else the machine does falls on both alike. Each phase sends 100-byte messages with
acks=all from one confluent-kafka producer (benchmarks._kafka) to a 6-partition topic, once with Kafka's default
flush policy (the page cache decides) and once with flush.messages=1 (the topic's log.flush.interval.messages: fsync
before acknowledging). Then one message at a time, for the latency of an acknowledged and fsynced write as a client
sees it, and 4-KiB write+fsync pairs through a bare mount beside a plain directory (benchmarks._bare_mount).

What bounds the mounted side is printed beside the rates: the CPU of the client, the brokers and the FUSE daemons,
the FUSE requests the brokers' writes became (benchmarks._fuse_requests, when perf can count them), and the size of a
FUSE write request. Goal (issue 14): the mounted side at least 0.3x the plain side's throughput.

    python -m benchmarks disk_faults [--messages=N] [--rounds=N] [--no-cluster] [--long] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks import _bare_mount, _fuse_requests
from benchmarks._cpu import load_average
from benchmarks._disk_report import Results, print_report
from benchmarks._disk_sides import MOUNTED, PLAIN, Phase, Side, both_sides
from benchmarks._kafka import MESSAGE_BYTES, PARTITIONS, PRODUCER_CONFIG, create_topics, describe
from cluster.deploy.deployment import ClusterSpec
from cluster.faultfs import fuse_unavailable

WORKLOADS = {"default flush": {}, "flush.messages=1": {"flush.messages": "1"}}
"""Topic configs: Kafka's default (no fsync before acknowledging) and an fsync of every append."""
REPLICATED = {"min.insync.replicas": "2"}
BROKER_OVERRIDES = {"offsets.topic.num.partitions": "5"}
SETUPS = {"1 broker": (ClusterSpec(keepers=0, brokers=1, broker_overrides=BROKER_OVERRIDES), 1),
          "3 brokers, RF 3": (ClusterSpec(keepers=3, brokers=3, broker_overrides=BROKER_OVERRIDES), 3)}
LATENCY_BLOCK = 25
"""Messages sent one at a time on one side before the other side's turn."""
SMOKE_MESSAGES, SMOKE_FSYNCS = 2_000, 200


def main(argv: list[str]) -> None:
    print_report(measure(argv))


def measure(argv: list[str]) -> Results:
    """Every phase of the run the options ask for, with the load average before and after."""
    options = _parse(argv)
    reason = fuse_unavailable()
    if reason is not None:
        raise SystemExit(f"disk_faults needs the fault filesystem, and this machine cannot mount one: {reason}")
    no_count = _fuse_requests.unavailable()
    print(f"{psutil.cpu_count()} cores, load average {load_average()} at start; {MESSAGE_BYTES}-byte messages, acks=all, "
          f"{PARTITIONS} partitions, {options.rounds} rounds of {options.messages:,} messages per phase and side; "
          f"producer: {describe(PRODUCER_CONFIG)}")
    if no_count:
        print(f"FUSE requests not counted: {no_count}")
    started = time.monotonic()
    phases: list[Phase] = []
    sequential: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="logquake-bench-disk-") as work:
        for setup in options.setups:
            spec, replication = SETUPS[setup]
            with both_sides(spec, Path(work) / setup.replace(" ", "-").replace(",", ""), no_count is None) as sides:
                topics = _topics(sides, replication)
                phases += _rounds(setup, sides, topics, options.messages, options.rounds)
                if replication == 1:
                    sequential = _sequential(sides, topics, options.latency_messages)
                for side in sides.values():
                    side.check_stored()
    fsync = _bare_mount.measure(options.fsyncs)
    print(f"load average {load_average()} at end (1, 5, 15 min); {time.monotonic() - started:.0f} s")
    return Results(phases, sequential, fsync)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks disk_faults")
    parser.add_argument("--messages", type=int, default=300_000, help="messages per phase and side (default 300,000)")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds (default 8)")
    parser.add_argument("--latency-messages", type=int, default=400,
                        help="messages sent one at a time per workload and side (default 400)")
    parser.add_argument("--fsyncs", type=int, default=2_000, help="write+fsync pairs per side (default 2,000)")
    parser.add_argument("--no-cluster", action="store_true", help="one broker only, not 3 brokers with RF 3")
    parser.add_argument("--long", action="store_true",
                        help="20 rounds of 500,000 messages, 2,000 one at a time, 10,000 fsyncs (4x the default's messages)")
    parser.add_argument("--smoke", action="store_true", help="a quick run: 1 round of 2,000 messages, 1 broker")
    options = parser.parse_args(argv)
    if options.long:
        options.messages, options.rounds, options.latency_messages, options.fsyncs = 500_000, 20, 2_000, 10_000
    if options.smoke:
        options.messages, options.rounds, options.latency_messages = SMOKE_MESSAGES, 1, 2 * LATENCY_BLOCK
        options.fsyncs = SMOKE_FSYNCS
        options.no_cluster = True
    if min(options.messages, options.rounds, options.latency_messages, options.fsyncs) < 1:
        parser.error("--messages, --rounds, --latency-messages and --fsyncs must be positive")
    options.setups = ["1 broker"] if options.no_cluster else list(SETUPS)
    return options


def _topics(sides: dict[str, Side], replication: int) -> dict[str, str]:
    """The same topics on both sides, warmed up: their files exist and the broker has served them."""
    topics = {workload: f"bench-{n}" for n, workload in enumerate(WORKLOADS)}
    for side in sides.values():
        for workload, topic in topics.items():
            create_topics(side.bootstrap, [topic], replication,
                          {**WORKLOADS[workload], **(REPLICATED if replication > 1 else {})})
    return topics


def _rounds(setup: str, sides: dict[str, Side], topics: dict[str, str], messages: int, rounds: int) -> list[Phase]:
    """An unreported warm-up phase per side and topic, then the rounds, each side first in every other round."""
    for side in sides.values():
        for workload, topic in topics.items():
            side.produce(setup, workload, topic, _warm_up(messages))
    phases = []
    for round_number in range(rounds):
        order = [PLAIN, MOUNTED] if round_number % 2 == 0 else [MOUNTED, PLAIN]
        for workload, topic in topics.items():
            phases += [sides[name].produce(setup, workload, topic, messages) for name in order]
    return phases


def _warm_up(messages: int) -> int:
    return max(messages // 10, 1_000)


def _sequential(sides: dict[str, Side], topics: dict[str, str], count: int) -> dict[tuple[str, str], list[float]]:
    """Each message acknowledged before the next is sent: the latency of one write as a client sees it, with the
    fsync when the workload asks for it. Sides take turns in blocks of LATENCY_BLOCK messages."""
    latencies: dict[tuple[str, str], list[float]] = {}
    for workload, topic in topics.items():
        for start in range(0, count, LATENCY_BLOCK):
            for name in (PLAIN, MOUNTED) if start // LATENCY_BLOCK % 2 == 0 else (MOUNTED, PLAIN):
                block = min(LATENCY_BLOCK, count - start)
                latencies.setdefault((workload, name), []).extend(sides[name].one_at_a_time(topic, block))
    return {key: sorted(values) for key, values in latencies.items()}
