"""What a test's configuration promises, and so which anomalies break the promise.

A checker that flags every anomaly would call acks=1 runs broken when they lose exactly what acks=1
may lose. The claim says which anomalies the configuration forbids; the rest are still counted and
shown, as "allowed by the configuration".

Power loss is the one fault whose allowance depends on what happened, not only on the
configuration: Kafka acknowledges an acks=all write once every in-sync replica has it in its page
cache, so it survives crashes and power loss of fewer than half of a partition's replicas, but a
power loss of half or more at once takes whatever was never flushed, unless the brokers flush every
message before they acknowledge it (log.flush.interval.messages=1). A keeper fsyncs before it
acknowledges, unless zoo.cfg says forceSync=no. So the claim reads the configuration here, and
`power_losses` reads from the history which nodes lost power together, and when.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from checkers.faults import FaultInterval, fault_intervals
from harness.history import Op

UNCLEAN_ELECTION = "unclean.leader.election.enable"
FLUSH_INTERVAL = "log.flush.interval.messages"
FORCE_SYNC = "forceSync"
POWER_LOSS_FAULTS = ("lose-unsynced", "torn-write")
ISOLATION_LEVELS = ("read_committed", "read_uncommitted")
NODE_PREFIXES = {"broker": "b", "keeper": "k"}
"""The deployment names brokers b1..bN and keepers (keeper or Apache ZooKeeper) k1..kN."""
CLIENTS_RESENDING_ON_LEADER_CHANGE = frozenset({"confluent-kafka"})
"""Clients that send a batch again, whatever `retries` says, when its leader answers NOT_LEADER_OR_FOLLOWER.

librdkafka takes that error as "not persisted" and resends without counting a retry, but a leader
that lost its leadership while an acks=all write waited gives exactly that answer for a write the
new leader may already hold (Kafka's DelayedProduce does the same): so retries=0 does not rule out
duplicates there, only idempotence does. kafka-python counts that resend as a retry."""


@dataclass(frozen=True)
class Claim:
    acks: str
    idempotence: bool
    retries: int | None
    unclean_election: bool
    mode: str
    client: str = "confluent-kafka"
    power_loss: tuple[str, ...] = ()
    """The power-loss faults the run injects; without them the durability model is not part of the claim."""
    flush_each_message: bool = False
    keeper_fsync: bool = True
    keeper_kind: str = "keeper"
    nodes: dict[str, int] = field(default_factory=lambda: {"broker": 3, "keeper": 3})
    replicas: int = 3
    """Replicas of each partition: the replication factor, at most the brokers."""
    transactional: bool = False
    """Producers send in Kafka transactions (the test's `txn`): transactional producers are idempotent."""
    isolation_level: str = "read_committed"
    """What the consumers read: read_committed (committed records only) or read_uncommitted (everything)."""

    @classmethod
    def from_test(cls, test: dict[str, Any]) -> Claim:
        overrides = test.get("broker_overrides") or {}
        keeper_overrides = test.get("keeper_overrides") or {}
        retries = test.get("retries")
        brokers = int(test.get("brokers", 3))
        return cls(
            acks=_acks(test.get("acks", "all")),
            idempotence=bool(test.get("idempotence", False)),
            retries=None if retries is None else int(retries),
            unclean_election=str(overrides.get(UNCLEAN_ELECTION, "false")).strip().lower() == "true",
            mode=str(test.get("mode", "assign")),
            client=str(test.get("client", "confluent-kafka")),
            power_loss=tuple(f for f in POWER_LOSS_FAULTS if f in (test.get("nemesis") or ())),
            flush_each_message=_flushes_each_message(overrides.get(FLUSH_INTERVAL)),
            keeper_fsync=str(keeper_overrides.get(FORCE_SYNC, "yes")).strip().lower() != "no",
            keeper_kind=str(test.get("target", "keeper")),
            nodes={"broker": brokers, "keeper": int(test.get("keepers", 3))},
            replicas=max(1, min(int(test.get("replication_factor", 3)), brokers)),
            transactional=bool(test.get("txn", False)),
            isolation_level=_isolation_level(test.get("isolation_level", "read_committed")),
        )

    @property
    def acknowledged_durable(self) -> bool:
        """Every acknowledged send survives crashes: acks=all, and no out-of-sync replica can become leader."""
        return self.acks == "all" and not self.unclean_election

    @property
    def reads_durable(self) -> bool:
        """A record a consumer has read stays at its offset: only an unclean election can undo one."""
        return not self.unclean_election

    @property
    def no_duplicates(self) -> bool:
        """The producer never appends a value twice: idempotence, or no retries (of any kind) to repeat it."""
        if self.idempotence or self.transactional:
            return True
        return self.retries == 0 and self.client not in CLIENTS_RESENDING_ON_LEADER_CHANGE

    @property
    def reads_committed(self) -> bool:
        """Consumers see only what committed: transactions, read under read_committed."""
        return self.transactional and self.isolation_level == "read_committed"

    def forbids_txn(self, anomaly: str) -> bool:
        """Whether this configuration forbids a transactional anomaly (checkers.txn names them).

        With transactions and read_committed, a poll returns only committed records: no aborted read (G1a),
        no read of the reader's own sends before it commits (precommitted-read), and no circular information
        flow (G1c made of wr, and process or real-time, edges: each of its transactions would have committed
        before the one before it). Lost writes and duplicates are forbidden by acks=all and the transactional
        producer's idempotence, as without transactions. read_uncommitted lets consumers read records of open
        and aborted transactions: G1a, precommitted-read and that G1c are allowed there. Always allowed: G0,
        int-send-skip and G1c through write order (Kafka orders sends, not transactions: it does not isolate
        writes), G1b (a poll may end inside a transaction's records, max.poll.records), G-single and G2 (a
        consumer reads no snapshot: each poll sees what had committed when it ran)."""
        if anomaly in ("G1a", "precommitted-read", "G1c"):
            return self.reads_committed
        if anomaly in ("lost-write", "inconsistent-offsets", "int-nonmonotonic-send"):
            return self.acknowledged_durable
        if anomaly == "duplicate":
            return self.no_duplicates
        return False

    def txn_guarantees(self) -> list[str]:
        """What transactions promise under this configuration, in words."""
        if self.reads_committed:
            reads = ("read_committed: polls return only committed records, so no aborted read (G1a), no read of a "
                     "transaction's own uncommitted sends, no circular information flow (G1c through reads)")
        else:
            reads = (f"{self.isolation_level}: polls may return records of open and aborted transactions, so aborted "
                     "reads (G1a), precommitted reads and circular information flow are allowed")
        return [reads, "Kafka does not isolate transactions' writes: write cycles (G0), sends of other transactions "
                "between one transaction's (int-send-skip) and G1c through write order are allowed",
                "a consumer reads no snapshot and a poll may end inside a transaction: G1b, G-single and G2 are "
                "allowed"]

    def node_names(self, role: str) -> frozenset[str]:
        return frozenset(f"{NODE_PREFIXES[role]}{i}" for i in range(1, self.nodes[role] + 1))

    def guarantees(self) -> list[str]:
        """The promises this configuration makes, in words, for results and the report."""
        crashes = " to crashes" if self.power_loss and not self.flush_each_message else ""
        return [
            (f"acknowledged sends are never lost{crashes} (acks=all, no unclean leader election)"
             if self.acknowledged_durable else
             f"acknowledged sends may be lost (acks={self.acks}"
             f"{', unclean leader election' if self.unclean_election else ''})"),
            (f"records consumers read stay at their offsets{crashes and ' through crashes'}" if self.reads_durable else
             "records consumers read may be truncated (unclean leader election)"),
            ("no value is appended twice ("
             + ("idempotent producer" if self.idempotence or self.transactional else "retries=0") + ")"
             if self.no_duplicates else
             "a resent send may be appended twice (no idempotence, "
             + ("retries allowed)" if self.retries != 0 else f"and {self.client} resends after a leader change)")),
            f"consumers {self.mode}; skips and rewinds across polls are checked only while assigned",
            *([self.durability("broker")] if self.power_loss else []),
        ]

    def durability(self, role: str) -> str:
        """What survives a power loss of `role` nodes, in words."""
        faults = ", ".join(self.power_loss)
        if role == "keeper":
            name = "Apache ZooKeeper" if self.keeper_kind == "zookeeper" else "the keeper"
            if self.keeper_fsync:
                caveat = (" (ZooKeeper never fsyncs a directory, so on a strict-POSIX disk the name of a log file it "
                          "has just created may not survive)" if self.keeper_kind == "zookeeper" else "")
                return (f"power loss ({faults}): {name} fsyncs its log before it acknowledges a write, so acknowledged "
                        f"writes survive power loss of every keeper at once{caveat}")
            return (f"power loss ({faults}): {FORCE_SYNC}=no, so {name} acknowledges writes it has not fsynced: after "
                    "a keeper loses power an acknowledged write may be lost and the history not linearizable (still "
                    "invalid, but what this configuration allows)")
        if self.flush_each_message:
            return (f"power loss ({faults}): every message is flushed before it is acknowledged ({FLUSH_INTERVAL}=1), "
                    "so acknowledged and read records survive power loss of every broker")
        return (f"power loss ({faults}): acknowledged and read records survive crashes and power loss of fewer than "
                "half of a partition's replicas; Kafka acknowledges from the page cache, so a power loss of half or "
                f"more at once may take what was never flushed ({FLUSH_INTERVAL}=1 flushes first)")

    def durability_claim(self, role: str) -> dict[str, Any]:
        """The power-loss part of a workload's claim, in runs that cut power (else empty)."""
        if not self.power_loss:
            return {}
        if role == "keeper":
            durable, setting = self.keeper_fsync, {"force_sync": self.keeper_fsync}
        else:
            durable = self.acknowledged_durable and self.flush_each_message
            setting = {"flush_each_message": self.flush_each_message}
        return {"power_loss_faults": list(self.power_loss), "durable_against_power_loss": durable, **setting}

    def to_dict(self) -> dict[str, Any]:
        transactions = ({"txn": True, "isolation_level": self.isolation_level} if self.transactional else {})
        return {"acks": self.acks, "idempotence": self.idempotence, "retries": self.retries,
                "unclean_leader_election": self.unclean_election, "mode": self.mode, "client": self.client,
                **transactions, **self.durability_claim("broker"),
                "guarantees": self.guarantees() + (self.txn_guarantees() if self.transactional else [])}


@dataclass(frozen=True)
class PowerLoss:
    """Nodes of one role that were without power at the same time, their unsynced writes thrown away."""

    nodes: tuple[str, ...]
    of: int
    """How many nodes of that role the cluster has."""
    began: int
    """History time (ns) the first of them began to be cut: evidence older than this cannot show its effect."""
    at: int
    """History time (ns) by which every one of them had lost its unsynced writes: nothing acknowledged later
    is at risk from it."""
    op: dict[str, Any]
    """The nemesis op that cut the last of them."""

    def to_dict(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes), "of": self.of, "op": self.op}


def power_losses(ops: list[Op], nodes: Collection[str]) -> list[PowerLoss]:
    """Power losses of the given nodes in a history, those down at the same time merged into one.

    A node is without power from the invoke of a power-loss fault's start to the completion of its
    stop; only starts that completed ok name their nodes (one of unknown outcome names none, so it
    explains no loss).
    """
    cuts = sorted((interval for interval in fault_intervals(ops)
                   if interval.fault in POWER_LOSS_FAULTS and interval.opened_by.type == "ok"
                   and _hit(interval, nodes)), key=lambda interval: interval.start)
    losses: list[PowerLoss] = []
    group: list[FaultInterval] = []
    for cut in cuts:
        if group and not any(earlier.end is None or earlier.end >= cut.start for earlier in group):
            losses.append(_loss(group, nodes))
            group = []
        group.append(cut)
    return losses + ([_loss(group, nodes)] if group else [])


def _hit(cut: FaultInterval, nodes: Collection[str]) -> list[str]:
    named = cut.detail.get("nodes") if isinstance(cut.detail, dict) else None
    return [str(node) for node in named or () if str(node) in nodes]


def _loss(group: list[FaultInterval], nodes: Collection[str]) -> PowerLoss:
    last = max(group, key=lambda cut: cut.opened_by.end or 0)
    return PowerLoss(tuple(sorted({node for cut in group for node in _hit(cut, nodes)})), len(nodes),
                     min(cut.start for cut in group), last.opened_by.end or 0, last.opened_by.ref())


@dataclass(frozen=True)
class Judgement:
    forbidden: bool
    why: dict[str, Any] = field(default_factory=dict)
    """In runs that cut power: {"allowed": the reason, "power_loss": which} or {"broke": the guarantee}."""


class Judge:
    """The claim applied to one history's power losses of one role's nodes: may this loss happen?

    Brokers may lose what was acknowledged or read before a power loss of at least half of a
    partition's replicas, unless they flush every message first. Keepers may lose acknowledged
    writes after any keeper lost power when they do not fsync (forceSync=no): a keeper that forgot
    its log can help elect a leader that lacks the write.
    """

    def __init__(self, claim: Claim, ops: list[Op], role: str = "broker") -> None:
        self.claim = claim
        self.role = role
        self.losses = power_losses(ops, claim.node_names(role)) if claim.power_loss else []

    def acknowledged(self, at: int | None = None, seen_until: int | None = None) -> Judgement:
        """Losing what was acknowledged at `at` (None: any time) and missed by evidence up to `seen_until`."""
        promised = self.claim.acknowledged_durable if self.role == "broker" else True
        return self._judge(promised, "acknowledged", at, seen_until)

    def read(self, seen_until: int | None) -> Judgement:
        """Undoing records read before `seen_until` (consumers prefetch, so they may have been fetched any time)."""
        return self._judge(self.claim.reads_durable, "read", None, seen_until)

    def _judge(self, promised: bool, what: str, at: int | None, seen_until: int | None) -> Judgement:
        if not promised:
            return Judgement(False)
        if not self.claim.power_loss:
            return Judgement(True)
        loss = next((loss for loss in self.losses if self._may_lose(loss) and (at is None or loss.at >= at)
                     and (seen_until is None or loss.began <= seen_until)), None)
        if loss is None:
            return Judgement(True, {"broke": self._guarantee(what)})
        return Judgement(False, {"allowed": self._reason(what, loss), "power_loss": loss.to_dict()})

    def _protected(self) -> bool:
        return self.claim.flush_each_message if self.role == "broker" else self.claim.keeper_fsync

    def _may_lose(self, loss: PowerLoss) -> bool:
        if self._protected():
            return False
        if self.role == "keeper":
            return True
        return 2 * min(len(loss.nodes), self.claim.replicas) >= self.claim.replicas

    def _guarantee(self, what: str) -> str:
        if self.role == "keeper":
            return ("acknowledged writes are fsynced before they are acknowledged, so they survive power loss of every "
                    "keeper" if self.claim.keeper_fsync else "acknowledged writes survive crashes of keepers")
        if self.claim.flush_each_message:
            return (f"{what} records are flushed before they are acknowledged ({FLUSH_INTERVAL}=1), so they survive "
                    "power loss of every broker")
        return f"{what} records survive crashes and power loss of fewer than half of a partition's replicas"

    def _reason(self, what: str, loss: PowerLoss) -> str:
        if self.role == "keeper":
            return f"{what} but never fsynced ({FORCE_SYNC}=no), {_share(loss, 'keepers')} lost power"
        hit = min(len(loss.nodes), self.claim.replicas)
        share = ("all replicas" if len(loss.nodes) >= loss.of else
                 "a majority of replicas" if 2 * hit > self.claim.replicas else "half of the replicas")
        return f"{what} but never flushed, {share} lost power"


def _share(loss: PowerLoss, nodes: str) -> str:
    if len(loss.nodes) >= loss.of:
        return f"all {nodes}"
    return f"{'a majority' if 2 * len(loss.nodes) > loss.of else 'a minority'} of {nodes} ({', '.join(loss.nodes)})"


def _acks(value: Any) -> str:
    text = str(value).strip().lower()
    if text in ("all", "-1"):
        return "all"
    if text in ("0", "1"):
        return text
    raise ValueError(f"acks must be 0, 1 or all, not {value!r}")


def _isolation_level(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ISOLATION_LEVELS:
        raise ValueError(f"isolation_level must be one of {', '.join(ISOLATION_LEVELS)}, not {value!r}")
    return text


def _flushes_each_message(value: Any) -> bool:
    try:
        return value is not None and int(str(value).strip()) == 1
    except ValueError:
        return False


@dataclass(frozen=True)
class AmqpClaim:
    """What a RabbitMQ queue promises a publisher that waits for confirms and a consumer that acknowledges.

    Quorum queues replicate every message through Raft and confirm it once a majority of the queue's
    members has written it to disk: a confirmed message survives as long as a majority survives.
    A durable classic queue lives on one node, which confirms a persistent message once it is on its
    disk: it survives crashes of that node. A classic queue mirrored on every node (ha-mode all) keeps
    confirmed messages while a majority survives only when a partitioned minority stops
    (pause_minority): with ignore or autoheal both sides of a partition keep serving, and healing
    discards one side's messages, confirmed or not (Jepsen's 2014 analysis), so loss is allowed.
    A classic queue keeps messages across a restart of its node only if it is durable and they are
    persistent: a transient queue is deleted when its node restarts, and transient messages are
    dropped, confirmed or not, so loss is allowed there too (a quorum queue is always durable and keeps
    every message on disk, whatever its delivery mode).
    Where confirmed messages are kept, so is each producer's order (a queue hands out its head;
    redeliveries excepted). None promises exactly-once delivery: a message whose ack was lost with its connection is
    delivered again (at-least-once), so duplicates are allowed.
    """

    queue_type: str
    partition_handling: str = "ignore"
    durable: bool = True
    persistent: bool = True

    @classmethod
    def from_test(cls, test: dict[str, Any]) -> AmqpClaim:
        return cls(str(test.get("queue_type", "quorum")), str(test.get("partition_handling", "ignore")),
                   test.get("durable", True) is not False, test.get("persistent", True) is not False)

    @property
    def survives_restart(self) -> bool:
        """Messages outlive a restart of their node: always in a quorum queue, in a classic one only when the queue is
        durable and the messages persistent."""
        return self.queue_type == "quorum" or (self.durable and self.persistent)

    @property
    def confirmed_durable(self) -> bool:
        """Confirmed messages are never lost: quorum queues while a majority survives, durable classic queues' persistent
        messages through crashes, mirrored classic queues' only where a partitioned minority also pauses."""
        if not self.survives_restart:
            return False
        if self.queue_type == "classic-mirrored":
            return self.partition_handling == "pause_minority"
        return self.queue_type in ("quorum", "classic")

    def allowed_anomalies(self) -> tuple[str, ...]:
        """The weaknesses a run may show without breaking the claim: redelivery, and loss and reordering where nothing
        promises durability. (The checker's other allowed counts, recovered and nacked-delivered, are outcomes an unknown or
        nacked publish may have, not weaknesses of the queue.)"""
        return ("duplicated",) if self.confirmed_durable else ("lost", "duplicated", "reordered")

    def guarantees(self) -> list[str]:
        return [self._durability(), "no message is delivered that was never published",
                "a message may be delivered more than once (at-least-once: an ack lost with its connection)",
                f"cluster_partition_handling = {self.partition_handling}"]

    def _durability(self) -> str:
        if not self.survives_restart:
            return ("confirmed messages may be lost when the queue's node restarts (a transient queue is deleted, "
                    "transient messages are dropped)")
        return {
            "quorum": "confirmed messages are never lost while a majority of the queue's nodes survives (quorum queue, "
                      "Raft)",
            "classic": "confirmed persistent messages survive crashes of the classic queue's node (on its disk before "
                       "the confirm)",
        }.get(self.queue_type, "confirmed messages are never lost while a majority survives (mirrors on every node, "
                               "a partitioned minority pauses)" if self.confirmed_durable else
                               "confirmed messages may be lost when a partition heals (mirrored classic queue, "
                               f"{self.partition_handling}: both sides serve, one side's messages are discarded)")

    def to_dict(self) -> dict[str, Any]:
        return {"queue_type": self.queue_type, "partition_handling": self.partition_handling, "durable": self.durable,
                "persistent": self.persistent, "guarantees": self.guarantees(), "allows": list(self.allowed_anomalies())}
