"""The controller's decisions, as pure functions of assignment, partition state and live brokers.

Kafka's ZooKeeper-mode rules (PartitionStateMachine, ReplicaStateMachine):
- clean election: the first replica, in assignment order, that is alive and in the ISR;
- unclean election (unclean.leader.election.enable): when no ISR member is alive, the first
  live replica becomes leader with an ISR of itself, and whatever it lacks is lost;
- a dead broker leaves every ISR, except that an ISR never empties: when no member is alive the
  last ISR stays, because its members are the ones that hold every committed record and a clean
  election must be possible when one of them returns;
- preferred-leader election: the first assigned replica leads whenever it is in the ISR;
- controlled shutdown: a broker going away is not eligible, so its leaderships move to another
  ISR member and it leaves the ISRs; where no one else can lead it keeps leading.
The runtime and the data plane's simulator both call these, so they cannot disagree.
"""

from __future__ import annotations

from typing import AbstractSet, Iterable, Sequence

from cluster.broker.metadata.partition_state import NO_LEADER, PartitionState

Assignment = dict[int, tuple[int, ...]]
"""partition index -> replicas, the first being the preferred leader."""


class AssignmentError(ValueError):
    """Replicas cannot be placed as asked (Kafka answers INVALID_REPLICATION_FACTOR or INVALID_PARTITIONS)."""


class IsrChangeError(ValueError):
    """A leader asked for an ISR change it may not make."""


def assign_replicas(
    brokers: Iterable[int], partitions: int, replication_factor: int, start_index: int = 0, shift: int = 0
) -> Assignment:
    """Kafka's rack-unaware placement: leaders round-robin, followers at a shift that grows every lap.

    The growing shift spreads each broker's followers over different brokers instead of always
    the next one. Kafka picks start_index and shift at random; callers that want that pass them.
    """
    ordered = sorted(set(brokers))
    if partitions < 1:
        raise AssignmentError(f"the number of partitions must be positive, got {partitions}")
    count = len(ordered)
    if not 1 <= replication_factor <= count:
        raise AssignmentError(f"replication factor {replication_factor} is not between 1 and {count} (live brokers)")
    assignment: Assignment = {}
    for partition in range(partitions):
        lap_shift = shift + partition // count
        first = (start_index + partition) % count
        followers = ((first + 1 + (lap_shift + j) % (count - 1)) % count for j in range(replication_factor - 1))
        assignment[partition] = (ordered[first], *(ordered[index] for index in followers))
    return assignment


def initial_state(replicas: Sequence[int], live: AbstractSet[int], controller_epoch: int) -> PartitionState:
    """A new partition's first state: the first live replica leads, every live replica is in sync."""
    isr = [replica for replica in replicas if replica in live]
    if not isr:
        raise AssignmentError(f"no replica of {list(replicas)} is alive")
    return PartitionState(leader=isr[0], leader_epoch=0, isr=tuple(isr), controller_epoch=controller_epoch)


def clean_leader(replicas: Sequence[int], isr: Iterable[int], eligible: AbstractSet[int]) -> int | None:
    in_sync = set(isr)
    return next((replica for replica in replicas if replica in eligible and replica in in_sync), None)


def unclean_leader(replicas: Sequence[int], eligible: AbstractSet[int]) -> int | None:
    return next((replica for replica in replicas if replica in eligible), None)


def next_state(
    replicas: Sequence[int],
    state: PartitionState,
    live: AbstractSet[int],
    *,
    unclean: bool,
    controller_epoch: int,
    shutting_down: AbstractSet[int] = frozenset(),
    preferred: bool = True,
) -> PartitionState | None:
    """The state the controller should write for this partition now, or None when it is right as it is.

    `preferred` enables preferred-leader election (Kafka's auto.leader.rebalance.enable).
    """
    eligible = set(live) - set(shutting_down)
    isr = [broker for broker in state.isr if broker in eligible]
    leader = _clean_choice(replicas, state.leader, isr, preferred)
    if leader is None and state.leader in live:  # shutting down, and no one else can take over
        leader = state.leader
        isr = [broker for broker in state.isr if broker in eligible or broker == leader]
    elif leader is None and unclean and (chosen := unclean_leader(replicas, eligible)) is not None:
        leader, isr = chosen, [chosen]
    elif leader is None:
        leader, isr = NO_LEADER, isr or list(state.isr)
    if leader == state.leader and tuple(isr) == state.isr:
        return None
    return state.changed(leader, isr, controller_epoch)


def _clean_choice(replicas: Sequence[int], current: int, isr: list[int], preferred: bool) -> int | None:
    if preferred and replicas and replicas[0] in isr:
        return replicas[0]
    if current in isr:
        return current
    return clean_leader(replicas, isr, set(isr))


def isr_change(
    replicas: Sequence[int],
    state: PartitionState,
    leader: int,
    new_isr: Sequence[int],
    live: AbstractSet[int] | None = None,
) -> PartitionState:
    """A leader's own ISR shrink or expansion (Kafka's AlterPartition), checked before the conditional write.

    The leader epoch does not change, so the data plane keeps its epoch; the znode version does.
    Given `live`, a broker that is not alive may not join (KIP-841's INELIGIBLE_REPLICA): the
    controller would only take it out again.
    """
    if state.leader != leader:
        raise IsrChangeError(f"broker {leader} is not the leader (the leader is {state.leader})")
    if leader not in new_isr:
        raise IsrChangeError(f"the leader {leader} must stay in its ISR, got {list(new_isr)}")
    strangers = set(new_isr) - set(replicas)
    if strangers:
        raise IsrChangeError(f"brokers {sorted(strangers)} are not replicas of this partition")
    if len(set(new_isr)) != len(new_isr):
        raise IsrChangeError(f"the ISR {list(new_isr)} names a broker twice")
    dead = set(new_isr) - set(state.isr) - set(live) if live is not None else set()
    if dead:
        raise IsrChangeError(f"brokers {sorted(dead)} are not alive and may not join the ISR")
    return state.changed(leader, new_isr, state.controller_epoch)


def awaits_shutdown(
    state: PartitionState, live: AbstractSet[int], shutting_down: AbstractSet[int], broker: int
) -> bool:
    """Whether the controller still has to move `broker`, which is shutting down, out of this partition.

    Out of the leadership when another ISR member can take it; out of the ISR when someone else leads.
    """
    eligible = set(live) - set(shutting_down)
    if state.leader == broker:
        return any(member in eligible for member in state.isr)
    return broker in state.isr and state.leader in eligible
