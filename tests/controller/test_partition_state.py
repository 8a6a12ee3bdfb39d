"""The partition state znode: Kafka's JSON both ways, and nothing else accepted."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState
from cluster.broker.metadata.znode_json import ZnodeError

broker_ids = st.integers(min_value=0, max_value=2**31 - 1)
states = st.builds(
    PartitionState,
    leader=st.one_of(st.just(NO_LEADER), broker_ids),
    leader_epoch=st.integers(min_value=0, max_value=2**31 - 1),
    isr=st.lists(broker_ids, min_size=1, max_size=5, unique=True).map(tuple),
    controller_epoch=st.integers(min_value=0, max_value=2**31 - 1),
    version=st.integers(min_value=0, max_value=2**31 - 1),
)


@given(states)
def test_json_round_trip_keeps_everything_but_the_version_which_is_the_znodes(state: PartitionState) -> None:
    assert PartitionState.from_json(state.to_json(), state.version) == state


def test_json_is_kafkas_layout() -> None:
    state = PartitionState(leader=2, leader_epoch=7, isr=(2, 1), controller_epoch=3, version=11)
    expected = {"controller_epoch": 3, "leader": 2, "version": 1, "leader_epoch": 7, "isr": [2, 1]}
    assert json.loads(state.to_json()) == expected


def test_reads_what_kafka_wrote_including_a_recovery_state() -> None:
    data = b'{"controller_epoch":5,"leader":-1,"version":2,"leader_epoch":4,"isr":[3],"leader_recovery_state":0}'
    assert PartitionState.from_json(data, 9) == PartitionState(NO_LEADER, 4, (3,), 5, 9)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"[]",
        b"\xff\xfe",
        b'{"controller_epoch":1,"leader":1,"leader_epoch":0,"isr":[1]}',
        b'{"controller_epoch":1,"leader":1,"version":9,"leader_epoch":0,"isr":[1]}',
        b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[]}',
        b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,1]}',
        b'{"controller_epoch":1,"leader":true,"version":1,"leader_epoch":0,"isr":[1]}',
        b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":-3,"isr":[1]}',
        b'{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":["1"]}',
        b'{"controller_epoch":1,"leader":-2,"version":1,"leader_epoch":0,"isr":[1]}',
    ],
)
def test_refuses_what_is_not_a_partition_state(data: bytes) -> None:
    with pytest.raises(ZnodeError):
        PartitionState.from_json(data, 0)


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_znode_error(data: bytes) -> None:
    try:
        PartitionState.from_json(data, 0)
    except ZnodeError:
        pass


def test_a_new_leader_starts_a_new_epoch_an_isr_change_does_not() -> None:
    state = PartitionState(leader=1, leader_epoch=4, isr=(1, 2, 3), controller_epoch=2, version=6)
    assert state.changed(2, (2, 3), 5) == PartitionState(2, 5, (2, 3), 5, 6)
    assert state.changed(1, (1, 2), 2) == PartitionState(1, 4, (1, 2), 2, 6)
    assert state.changed(NO_LEADER, (1,), 2).leader_epoch == 5
