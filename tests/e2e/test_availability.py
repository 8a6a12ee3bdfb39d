"""Availability end to end: one broker of three killed under RF 3, min ISR 2, acks=all, on the local backend.

The partitions the killed broker led wait for the controller to elect a follower (after its keeper
session expires): each shows an unavailability window of seconds. The partitions other brokers led
keep taking sends: their windows close within a send's latency of the kill.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.runs import THREE_NODES, leftovers, logquake_run

LEADERSHIP = re.compile(r"queue-(\d+): (?:leader|follower) at leader epoch (\d+) \(leader (\d+),")
SESSION_MS = 6000

KILLING_ONE = ["--workload", "queue", "--nemesis", "kill", "--nemesis-targets", "one", "--nemesis-interval", "8",
               "--acks", "all", *THREE_NODES, "--partitions", "3",
               "--broker-override", f"zookeeper.session.timeout.ms={SESSION_MS}", "--time-limit", "20",
               "--final-time-limit", "20", "--rate", "100", "--concurrency", "8", "--seed", "3", "--backend", "local"]
"""One start-kill at 8 s and its stop at 16 s: the killed broker's session expires within the fault."""


def first_leaders(run_dir: Path) -> dict[int, int]:
    """Each partition's leader at its lowest leader epoch any broker logged: who led before any fault."""
    lowest: dict[int, tuple[int, int]] = {}
    for log in (run_dir / "nodes").glob("b*/node.log"):
        for partition, epoch, leader in LEADERSHIP.findall(log.read_text(errors="replace")):
            key = int(partition)
            if key not in lowest or int(epoch) < lowest[key][0]:
                lowest[key] = (int(epoch), int(leader))
    return {partition: leader for partition, (_, leader) in lowest.items()}


def test_a_killed_broker_leaves_a_window_on_the_partitions_it_led_and_none_on_the_others(tmp_path):
    watched = logquake_run(tmp_path / "store", KILLING_ONE)
    assert watched.code == 0, watched.output
    assert not leftovers(watched)
    assert "availability of sends per partition:" in watched.output
    availability = watched.results["availability"]
    [kill] = availability["faults"]
    [killed] = [int(node[1:]) for node in kill["label"].split(" ", 1)[1].split(",")]
    leaders = first_leaders(watched.run_dir)
    led = {p for p, leader in leaders.items() if leader == killed}
    assert sorted(leaders) == [0, 1, 2] and led and len(led) < 3, leaders
    assert kill["survivable"] is True
    for partition, row in kill["partitions"].items():
        if int(partition) in led:
            assert row["outcome"] == "recovered" and row["window_s"] > 2, (partition, kill)
        else:
            assert row["outcome"] == "recovered" and row["window_s"] < 1, (partition, kill)
    assert availability["by_fault"]["kill"]["window_s"]["max"] > 2
