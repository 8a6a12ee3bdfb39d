"""RoleChangeNotifier: what a broker hears as views change, without a server."""

from __future__ import annotations

import asyncio

from cluster.broker.controller.role_changes import RoleChangeNotifier
from cluster.broker.controller.view import ClusterView, TopicInfo
from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState

Heard = list[tuple[str, int, PartitionState | None]]
TOPICS = {"a": TopicInfo({0: (1, 2), 1: (2, 3)}), "b": TopicInfo({0: (3, 1)})}


def view(**states: PartitionState) -> ClusterView:
    """States keyed like a_0 for partition 0 of topic a."""
    by_partition = {(name.rsplit("_", 1)[0], int(name.rsplit("_", 1)[1])): state for name, state in states.items()}
    return ClusterView(topics=TOPICS, states=by_partition)


def test_hears_each_change_of_its_own_partitions_once_in_order() -> None:
    heard: Heard = []
    notifier = RoleChangeNotifier(1, lambda *change: heard.append(change))
    led = PartitionState(1, 0, (1, 2), 1, 0)
    notifier(view(a_0=led, a_1=PartitionState(2, 0, (2, 3), 1, 0)))
    notifier(view(a_0=led, a_1=PartitionState(3, 1, (3,), 1, 1)))
    offline = PartitionState(NO_LEADER, 1, (1,), 1, 1)
    notifier(view(a_0=offline, b_0=PartitionState(3, 0, (3, 1), 1, 0)))
    assert heard == [("a", 0, led), ("a", 0, offline), ("b", 0, PartitionState(3, 0, (3, 1), 1, 0))]


def test_hears_none_when_a_partition_it_knew_is_gone() -> None:
    heard: Heard = []
    notifier = RoleChangeNotifier(2, lambda *change: heard.append(change))
    state = PartitionState(2, 0, (2, 3), 1, 0)
    notifier(view(a_1=state))
    notifier(view())
    notifier(view())
    assert heard == [("a", 1, state), ("a", 1, None)]


def test_with_a_loop_the_calls_happen_on_that_loop_in_order() -> None:
    loop = asyncio.new_event_loop()
    heard: Heard = []
    notifier = RoleChangeNotifier(1, lambda *change: heard.append(change), loop)
    first, second = PartitionState(1, 0, (1, 2), 1, 0), PartitionState(2, 1, (2,), 1, 1)
    notifier(view(a_0=first))
    notifier(view(a_0=second))
    assert heard == []
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    assert heard == [("a", 0, first), ("a", 0, second)]
