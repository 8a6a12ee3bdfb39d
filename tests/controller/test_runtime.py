"""The control plane for real: ClusterMembers on kazoo against ZooKeeper 3.8 and keeper."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading

import pytest
from kazoo.client import KazooClient

from cluster.broker.controller import admin, znodes
from cluster.broker.controller.actions import KeeperActions
from cluster.broker.controller.core import Resigned, StateWritten, WriteState
from cluster.broker.controller.election import IsrChangeError, assign_replicas
from cluster.broker.controller.role_changes import RoleChangeNotifier
from cluster.broker.controller.runtime import ClusterMember
from cluster.broker.controller.view import ClusterView
from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState
from cluster.deploy.ports import free_ports
from tests.controller.conftest import WAIT_S, Brokers


def expire_session(member: ClusterMember, hosts: str) -> None:
    """ZooKeeper's way to expire a session on purpose: attach a second client to it and close that."""
    twin = KazooClient(hosts=hosts, client_id=member.client.client_id)
    twin.start(timeout=WAIT_S)
    twin.stop()
    twin.close()


def states(member: ClusterMember, topic: str, partitions: int) -> ClusterView:
    return member.wait_for(lambda view: all((topic, p) in view.states for p in range(partitions)), WAIT_S)


def test_exactly_one_of_brokers_starting_together_becomes_controller_and_moves_the_epoch_on(brokers: Brokers) -> None:
    starting = [threading.Thread(target=brokers.start, args=(broker_id,)) for broker_id in (1, 2, 3)]
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join()
    controller = brokers.controller()
    assert controller.controller_epoch == 1
    data, _ = controller.client.get(znodes.CONTROLLER_EPOCH)
    assert data == b"1"
    assert znodes.controller_id(controller.client.get(znodes.CONTROLLER)[0]) == controller.broker_id
    view = controller.wait_for(lambda view: view.live == {1, 2, 3}, WAIT_S)
    assert view.brokers[2] == znodes.BrokerRegistration.plaintext(2, "127.0.0.1", 9002)


def test_a_new_topic_gets_round_robin_replicas_and_first_states_from_the_controller(brokers: Brokers) -> None:
    epoch = brokers.start_all(1, 2, 3).controller_epoch
    assert epoch is not None
    member = brokers.members[2]
    assignment = admin.create_topic(member.client, "orders", member.view.live, 3, 2, {"min.insync.replicas": "2"},
                                    start_index=0)
    assert assignment == assign_replicas({1, 2, 3}, 3, 2) == {0: (1, 2), 1: (2, 3), 2: (3, 1)}
    view = states(member, "orders", 3)
    assert view.topics["orders"].configs == {"min.insync.replicas": "2"}
    assert view.states[("orders", 1)] == PartitionState(2, 0, (2, 3), epoch, 0)
    with pytest.raises(admin.TopicExistsError):
        admin.create_topic(member.client, "orders", member.view.live, 1, 1)


def test_killing_the_controller_elects_another_with_a_higher_epoch_and_moves_its_leaderships(brokers: Brokers) -> None:
    old = brokers.start_all(1, 2, 3)
    member = next(m for m in brokers.members.values() if m is not old)
    admin.create_topic(member.client, "t", member.view.live, 3, 3, start_index=0)
    states(member, "t", 3)
    led = [key for key, state in member.view.states.items() if state.leader == old.broker_id]
    assert led, "round-robin gives every broker a partition to lead"
    old_epoch = old.controller_epoch
    assert old_epoch is not None
    brokers.stop(old.broker_id)
    new = brokers.controller()
    assert new.controller_epoch is not None and new.controller_epoch > old_epoch
    view = member.wait_for(lambda view: all(view.states[key].leader != old.broker_id for key in led), WAIT_S)
    for key in led:
        replicas = view.replicas(*key)
        survivors = tuple(broker for broker in replicas if broker != old.broker_id)
        assert view.states[key].leader == survivors[0]
        assert set(view.states[key].isr) == set(survivors)
        assert view.states[key].controller_epoch == new.controller_epoch


def test_a_superseded_controllers_writes_are_fenced_even_through_a_new_session(brokers: Brokers, hosts: str) -> None:
    old = brokers.start_all(1, 2)
    old_epoch = old.controller_epoch
    assert old_epoch is not None
    admin.create_topic(old.client, "t", old.view.live, 1, 2, start_index=0)
    state = states(old, "t", 1).states[("t", 0)]
    stale = KeeperActions(old.client, old.broker_id)
    stale.epoch_version = old.client.get(znodes.CONTROLLER_EPOCH)[1].version  # the fence it won with
    expire_session(old, hosts)
    brokers.wait_until(lambda: old.controller_epoch != old_epoch, "the old controller notices it lost its session")
    new = brokers.controller()
    assert new.controller_epoch is not None and new.controller_epoch > old_epoch
    old.wait_for(lambda view: old.broker_id in view.live, WAIT_S)  # kazoo opened a new session; it re-registered
    before = old.client.get(znodes.state_path("t", 0))
    proposal = state.changed(old.broker_id, (old.broker_id,), controller_epoch=old_epoch).stored(before[1].version)
    assert isinstance(stale.perform(WriteState("t", 0, proposal)), Resigned)
    assert old.client.get(znodes.state_path("t", 0)) == before
    current = KeeperActions(old.client, old.broker_id)
    current.epoch_version = old.client.get(znodes.CONTROLLER_EPOCH)[1].version
    assert isinstance(current.perform(WriteState("t", 0, proposal)), StateWritten), "only the fence stopped it"



def test_losing_every_isr_member_takes_a_partition_offline_unless_its_topic_allows_unclean_election(
    brokers: Brokers,
) -> None:
    brokers.start_all(1, 2, 3)
    member = brokers.members[3]
    for topic, configs in (("clean", {}), ("unclean", {"unclean.leader.election.enable": "true"})):
        admin.create_topic(member.client, topic, member.view.live, 1, 2, configs, start_index=0)  # replicas (1, 2)
        state = states(member, topic, 1).states[(topic, 0)]
        assert brokers.members[1].alter_isr(topic, 0, state, (1,)) is not None  # 2 fell behind
    member.wait_for(lambda view: all(view.states[(t, 0)].isr == (1,) for t in ("clean", "unclean")), WAIT_S)
    brokers.stop(2)
    brokers.stop(1)
    brokers.start(2)
    view = member.wait_for(lambda view: view.states[("unclean", 0)].leader == 2, WAIT_S)
    assert view.states[("unclean", 0)].isr == (2,)
    assert view.states[("clean", 0)].leader == NO_LEADER and view.states[("clean", 0)].isr == (1,)
    brokers.start(1)
    view = member.wait_for(lambda view: view.states[("clean", 0)].leader == 1, WAIT_S)
    assert view.states[("clean", 0)].isr == (1,), "the last ISR member came back: a clean election"


def test_the_preferred_leader_leads_again_once_it_is_back_in_the_isr(brokers: Brokers) -> None:
    brokers.start_all(1, 2, 3)
    member = brokers.members[3]
    admin.create_topic(member.client, "t", member.view.live, 1, 3, start_index=0)  # replicas (1, 2, 3)
    states(member, "t", 1)
    brokers.stop(1)
    moved = member.wait_for(lambda view: view.states[("t", 0)].leader == 2, WAIT_S).states[("t", 0)]
    brokers.start(1)
    leader = brokers.members[2]
    leader.wait_for(lambda view: 1 in view.live, WAIT_S)
    assert leader.view.states[("t", 0)] == moved, "back, but not caught up: leadership stays"
    expanded = leader.alter_isr("t", 0, moved, (*moved.isr, 1))  # the leader takes it back in
    assert expanded is not None and expanded.leader_epoch == moved.leader_epoch
    view = member.wait_for(lambda view: view.states[("t", 0)].leader == 1, WAIT_S)
    assert view.states[("t", 0)].leader_epoch == moved.leader_epoch + 1


def test_controlled_shutdown_moves_leadership_and_isr_places_away_first(brokers: Brokers) -> None:
    brokers.start_all(1, 2, 3)
    member = brokers.members[3]
    admin.create_topic(member.client, "t", member.view.live, 3, 2, start_index=0)  # (1, 2), (2, 3), (3, 1)
    admin.create_topic(member.client, "single", {1}, 1, 1)
    states(member, "t", 3)
    states(member, "single", 1)
    remaining = brokers.members[1].controlled_shutdown(WAIT_S)
    assert remaining == [("single", 0)], "nobody else can lead it"
    view = brokers.members[1].view
    assert view.states[("t", 0)].leader == 2 and view.states[("t", 0)].isr == (2,)
    assert view.states[("t", 2)].leader == 3 and view.states[("t", 2)].isr == (3,)
    brokers.stop(1)
    member.wait_for(lambda view: 1 not in view.live and 1 not in view.shutting_down, WAIT_S)  # gone with the session


def test_an_isr_change_is_conditional_on_the_version_the_leader_read(brokers: Brokers) -> None:
    brokers.start_all(1, 2)
    leader = brokers.members[1]
    admin.create_topic(leader.client, "t", leader.view.live, 1, 2, start_index=0)
    state = states(leader, "t", 1).states[("t", 0)]
    shrunk = leader.alter_isr("t", 0, state, (1,))
    assert shrunk == PartitionState(1, state.leader_epoch, (1,), state.controller_epoch, state.version + 1)
    assert leader.alter_isr("t", 0, state, (1,)) is None, "written against a version that is gone"
    with pytest.raises(IsrChangeError):
        brokers.members[2].alter_isr("t", 0, shrunk, (2,))
    assert leader.wait_for(lambda view: view.states[("t", 0)] == shrunk, WAIT_S)


def test_a_deleted_topic_disappears_and_its_replicas_are_told(brokers: Brokers) -> None:
    brokers.start_all(1, 2)
    member = brokers.members[2]
    loop = asyncio.new_event_loop()
    heard: list[tuple[str, int, PartitionState | None]] = []
    member.subscribe(RoleChangeNotifier(2, lambda *change: heard.append(change), loop))
    admin.create_topic(member.client, "t", member.view.live, 2, 2, start_index=0)
    states(member, "t", 2)
    admin.delete_topic(member.client, "t")
    member.wait_for(lambda view: "t" not in view.topics and not view.deleting, WAIT_S)
    assert member.client.exists(znodes.topic_path("t")) is None
    assert member.client.exists(znodes.topic_config_path("t")) is None
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    # Each partition's state znode has its own watch, so which partition is told first is up to the keeper.
    assert {change[:2] for change in heard if change[2] is not None} == {("t", 0), ("t", 1)}
    assert sorted(change[:2] for change in heard if change[2] is None) == [("t", 0), ("t", 1)]
    with pytest.raises(admin.UnknownTopicError):
        admin.delete_topic(member.client, "t")


def test_status_shows_controller_brokers_leaders_and_isrs(brokers: Brokers, hosts: str) -> None:
    controller = brokers.start_all(1, 2)
    admin.create_topic(controller.client, "t", controller.view.live, 2, 2, start_index=0)
    states(controller, "t", 2)
    brokers.stop(2)
    controller = brokers.controller()
    controller.wait_for(lambda view: all(state.leader == 1 for state in view.states.values()), WAIT_S)
    result = subprocess.run(
        [sys.executable, "-m", "cluster.deploy.status", "--zookeeper", hosts],
        capture_output=True, text=True, timeout=WAIT_S, check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == f"controller: broker 1 (controller epoch {controller.controller_epoch})"
    assert lines[1:3] == ["brokers:", "  1  PLAINTEXT://127.0.0.1:9001"]
    assert lines[3].split() == ["topic", "partition", "leader", "epoch", "replicas", "isr", "offline"]
    rows = [line.split() for line in lines[4:]]
    assert rows == [["t", "0", "1", "0", "1,2", "1", "2"], ["t", "1", "1", "1", "2,1", "1", "2"]]


def test_status_of_an_unreachable_keeper_is_a_plain_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cluster.deploy.status", "--zookeeper", f"127.0.0.1:{free_ports(1)[0]}",
         "--timeout", "1"],
        capture_output=True, text=True, timeout=WAIT_S,
    )
    assert result.returncode == 1 and "cannot read the cluster" in result.stderr and "Traceback" not in result.stderr


def test_an_asyncio_broker_hears_its_leadership_on_its_own_loop(brokers: Brokers, hosts: str) -> None:
    brokers.start_all(2)

    async def broker_one() -> tuple[PartitionState, bool]:
        loop = asyncio.get_running_loop()
        heard: asyncio.Queue[PartitionState | None] = asyncio.Queue()
        on_loop: list[bool] = []

        def on_state(_topic: str, _partition: int, state: PartitionState | None) -> None:
            on_loop.append(asyncio.get_running_loop() is loop)
            heard.put_nowait(state)

        member = ClusterMember(hosts, znodes.BrokerRegistration.plaintext(1, "127.0.0.1", 9001))
        member.subscribe(RoleChangeNotifier(1, on_state, loop))
        await asyncio.to_thread(member.start, WAIT_S)
        try:
            await asyncio.to_thread(member.wait_for, lambda view: view.live == {1, 2}, WAIT_S)
            await asyncio.to_thread(admin.create_topic, member.client, "t", {1, 2}, 1, 2, None, 0)
            state = await asyncio.wait_for(heard.get(), WAIT_S)
            assert state is not None
            return state, all(on_loop)
        finally:
            await asyncio.to_thread(member.stop)

    state, all_on_loop = asyncio.run(broker_one())
    assert state.leader == 1 and state.isr == (1, 2) and all_on_loop
