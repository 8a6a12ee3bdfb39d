"""Availability end to end: one broker of three killed or paused under RF 3, min ISR 2, acks=all, on the local backend.

The partitions the killed broker led wait for the controller to elect a follower, which it does only
once the broker's keeper session expires. The partitions other brokers led have it as a follower in
their ISR, and acks=all waits for every ISR member: their sends wait until the leader drops the dead
follower from the ISR (replica.lag.time.max.ms, made short here). So each partition shows a window,
and the killed broker's partitions the longer ones: a session's length against a lag bound's.

Under a pause the workers whose sends went to the paused leader's partitions wait for their op
timeout; the others own other partitions, so those partitions keep getting acknowledged sends.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.generator import SECOND
from tests.e2e.runs import THREE_NODES, leftovers, logquake_run

LEADERSHIP = re.compile(r"queue-(\d+): (?:leader|follower) at leader epoch (\d+) \(leader (\d+),")
SESSION_MS = 8000
LAG_MS = 2000

KILLING_B1 = ["--workload", "queue", "--nemesis", "kill", "--nemesis-targets", "b1", "--nemesis-interval", "8",
               "--acks", "all", *THREE_NODES, "--partitions", "3",
               "--broker-override", f"zookeeper.session.timeout.ms={SESSION_MS}",
               "--broker-override", f"replica.lag.time.max.ms={LAG_MS}", "--time-limit", "20",
               "--final-time-limit", "20", "--rate", "100", "--concurrency", "8", "--seed", "3", "--backend", "local"]
"""One start-kill of b1 at 8 s and its stop at 16 s: the dead follower leaves the ISRs, and b1's session expires,
within the fault."""


def first_leaders(run_dir: Path) -> dict[int, int]:
    """Each partition's leader at its lowest leader epoch any broker logged: who led before any fault."""
    lowest: dict[int, tuple[int, int]] = {}
    for log in (run_dir / "nodes").glob("b*/node.log"):
        for partition, epoch, leader in LEADERSHIP.findall(log.read_text(errors="replace")):
            key = int(partition)
            if key not in lowest or int(epoch) < lowest[key][0]:
                lowest[key] = (int(epoch), int(leader))
    return {partition: leader for partition, (_, leader) in lowest.items()}


def test_a_killed_broker_leaves_the_longest_windows_on_the_partitions_it_led(tmp_path):
    watched = logquake_run(tmp_path / "store", KILLING_B1)
    assert watched.code == 0, watched.output
    assert not leftovers(watched)
    assert "availability of sends per partition:" in watched.output
    availability = watched.results["availability"]
    [kill] = availability["faults"]
    assert kill["label"] == "kill b1"
    leaders = first_leaders(watched.run_dir)
    led = {p for p, leader in leaders.items() if leader == 1}
    assert sorted(leaders) == [0, 1, 2] and led and len(led) < 3, leaders
    assert kill["survivable"] is True
    rows = kill["partitions"]
    assert all(row["outcome"] == row["recovery"] == "recovered" for row in rows.values()), kill
    led_windows = [rows[str(p)]["window_s"] for p in led]
    other_windows = [row["window_s"] for p, row in rows.items() if int(p) not in led]
    assert min(led_windows) > SESSION_MS / 2000, kill   # no election before the session expires
    assert max(other_windows) < min(led_windows), kill
    assert availability["by_fault"]["kill"]["window_s"]["max"] == max(led_windows)


PAUSING_THE_LEADER = ["--workload", "queue", "--nemesis", "pause", "--nemesis-targets", "partition-leader",
                      "--nemesis-interval", "8", "--acks", "all", *THREE_NODES, "--partitions", "3",
                      "--broker-override", f"replica.lag.time.max.ms={LAG_MS}", "--time-limit", "20",
                      "--final-time-limit", "20", "--rate", "100", "--concurrency", "6", "--seed", "3",
                      "--backend", "local"]
"""Partition 0's leader paused from 8 s to 16 s: its followers' ISRs drop it within the pause; the op timeout (10 s)
outlasts the pause, so a send to the paused leader's partitions waits the whole pause."""


def test_partitions_a_paused_broker_does_not_lead_keep_getting_acknowledged_sends(tmp_path):
    watched = logquake_run(tmp_path / "store", PAUSING_THE_LEADER)
    assert watched.code == 0, watched.output
    assert not leftovers(watched)
    [pause] = watched.results["availability"]["faults"]
    [paused] = [int(node[1:]) for node in pause["label"].split(" ", 1)[1].split(",")]
    healthy = {p for p, leader in first_leaders(watched.run_dir).items() if leader != paused}
    assert healthy and len(healthy) < 3, pause
    middle = (pause["start_s"] + pause["end_s"]) / 2
    assert healthy <= sent_and_acknowledged_between(watched.history(), middle, pause["end_s"]), pause


def sent_and_acknowledged_between(history: list[dict[str, Any]], start_s: float, end_s: float) -> set[int]:
    """The partitions of sends both invoked and acknowledged between the two times (seconds into the run)."""
    start, end = start_s * SECOND, end_s * SECOND
    invoked: dict[Any, int] = {}
    partitions = set()
    for op in history:
        if op["f"] != "send":
            continue
        if op["type"] == "invoke":
            invoked[op["process"]] = op["time"]
        elif op["type"] == "ok" and start <= invoked[op["process"]] and op["time"] < end:
            partitions.add(op["value"]["partition"])
    return partitions
