"""The control plane for real: ClusterMembers on kazoo against ZooKeeper 3.8 and keeper."""

from __future__ import annotations

import asyncio

import pytest
from kazoo.client import KazooClient

from cluster.broker.controller import admin, znodes
from cluster.broker.controller.actions import KeeperActions
from cluster.broker.controller.core import ControllerSettings, Resigned, StateWriteFailed, StateWritten, WriteState
from cluster.broker.controller.election import IsrChangeError, assign_replicas
from cluster.broker.controller.follower import PartitionStateFollower
from cluster.broker.controller.partition_state import NO_LEADER, PartitionState
from cluster.broker.controller.runtime import ClusterMember
from cluster.broker.controller.view import ClusterView
from tests.controller.conftest import WAIT_S, Brokers


def expire_session(member: ClusterMember, hosts: str) -> None:
    """ZooKeeper's way to expire a session on purpose: attach a second client to it and close that."""
    twin = KazooClient(hosts=hosts, client_id=member.client.client_id)
    twin.start(timeout=WAIT_S)
    twin.stop()
    twin.close()


def states(member: ClusterMember, topic: str, partitions: int) -> ClusterView:
    return member.wait_for(lambda view: all((topic, p) in view.states for p in range(partitions)), WAIT_S)


def test_exactly_one_broker_becomes_controller_and_moves_the_epoch_on(brokers: Brokers) -> None:
    for broker_id in (1, 2, 3):
        brokers.start(broker_id)
    controller = brokers.controller()
    assert controller.controller_epoch == 1
    data, _ = controller.client.get(znodes.CONTROLLER_EPOCH)
    assert data == b"1"
    assert znodes.controller_id(controller.client.get(znodes.CONTROLLER)[0]) == controller.broker_id
    view = controller.wait_for(lambda view: view.live == {1, 2, 3}, WAIT_S)
    assert view.brokers[2] == znodes.BrokerRegistration(2, "127.0.0.1", 9002)


def test_a_new_topic_gets_round_robin_replicas_and_first_states_from_the_controller(brokers: Brokers) -> None:
    for broker_id in (1, 2, 3):
        brokers.start(broker_id)
    epoch = brokers.controller().controller_epoch
    member = brokers.members[2]
    assignment = admin.create_topic(member.client, "orders", member.view.live, 3, 2, {"min.insync.replicas": "2"},
                                    start_index=0)
    assert assignment == assign_replicas({1, 2, 3}, 3, 2) == {0: (1, 2), 1: (2, 3), 2: (3, 1)}
    view = states(member, "orders", 3)
    assert view.topics["orders"].configs == {"min.insync.replicas": "2"}
    assert view.states[("orders", 1)] == PartitionState(2, 0, (2, 3), epoch, 0)
    with pytest.raises(admin.TopicExistsError):
        admin.create_topic(member.client, "orders", member.view.live, 1, 1)
