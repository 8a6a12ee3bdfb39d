"""One run of a comparison, measured from its results.json and its history, the same way for both systems.

- acknowledged: writes acknowledged (sends ok, or enqueues confirmed);
- lost: acknowledged writes never read by the end, final reads or drain included (the queue checker's
  lost-write and unseen; the total-queue checker's lost);
- duplicates: values read at more than one offset (Kafka) or delivered more than once (RabbitMQ);
- ordering: the queue checker's order anomalies (nonmonotonic-send, poll-skip, nonmonotonic-poll and
  their within-one-poll forms), or the total-queue checker's reordered (checkers.amqp_order);
- replay: of the values consumed before the faults were healed, the share read again afterwards by a
  reader that starts from the beginning (Kafka's final reads assign every partition from its start;
  RabbitMQ's drain gets what the queue still holds);
- throughput and latency outside faults: acknowledged writes per second, and the p50/p99 latency of
  acknowledged writes, counting only writes that began and ended while no fault was active, before
  the heal (the offered rate bounds the throughput: it measures what a system kept up with);
- unavailability: the longest window, under each fault, from the fault's start to the first
  acknowledged write after it took effect (checkers.availability), and how many never recovered.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from checkers.faults import fault_intervals
from checkers.queue_ops import parse_poll
from checkers.stats import quantile
from harness.history import NEMESIS, Op

KAFKA_LOSS = ("lost-write", "unseen")
KAFKA_ORDER = ("nonmonotonic-send", "poll-skip", "nonmonotonic-poll", "int-poll-skip", "int-nonmonotonic-poll")
WRITES = {"queue": "send", "amqp": "enqueue"}


@dataclass(frozen=True)
class Measured:
    system: str
    fault: str
    verdict: str
    acknowledged: int
    lost: int
    duplicates: int
    ordering: int
    replayed: float | None
    """Share of the values consumed before the heal that were read again after it."""
    throughput_per_s: float | None
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    unavailable_max_s: float | None
    never_recovered: int
    run_dir: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(system: str, fault: str, test: dict[str, Any], results: dict[str, Any], ops: list[Op],
            run_dir: str) -> Measured:
    workload = str(test.get("workload"))
    checked = results.get(workload) if isinstance(results.get(workload), dict) else {}
    counts = {name: int(a.get("count", 0)) for name, a in (checked.get("anomalies") or {}).items()}
    heal = min((op.start for op in ops if op.process == NEMESIS and op.f == "heal"), default=None)
    writes = [op for op in ops if op.f == WRITES.get(workload) and op.process != NEMESIS]
    quiet = _outside_faults(writes, ops, heal)
    latencies = sorted((op.end - op.start) / 1e6 for op in quiet if op.end is not None)
    kafka = workload == "queue"
    availability = ((results.get("availability") or {}).get("by_fault") or {}).get(fault) or {}
    return Measured(
        system, fault, _verdict(results.get("valid")), sum(op.type == "ok" for op in writes),
        sum(counts.get(name, 0) for name in KAFKA_LOSS) if kafka else counts.get("lost", 0),
        counts.get("duplicate" if kafka else "duplicated", 0),
        sum(counts.get(name, 0) for name in KAFKA_ORDER) if kafka else counts.get("reordered", 0),
        _replayed(ops, heal, kafka), _throughput(quiet, ops, heal), quantile(latencies, 0.5), quantile(latencies, 0.99),
        (availability.get("window_s") or {}).get("max"), int(availability.get("never_recovered", 0)), run_dir)


def _verdict(valid: Any) -> str:
    return "valid" if valid is True else "invalid" if valid is False else "unknown"


def _fault_spans(ops: list[Op], until: int) -> list[tuple[int, int]]:
    return [(interval.start, interval.end if interval.end is not None else until) for interval in fault_intervals(ops)]


def _outside_faults(writes: list[Op], ops: list[Op], heal: int | None) -> list[Op]:
    """Acknowledged writes that began and ended before the heal with no fault active at any moment between."""
    until = heal if heal is not None else max((op.end or op.start for op in ops), default=0)
    spans = _fault_spans(ops, until)
    return [op for op in writes if op.type == "ok" and op.end is not None and op.end <= until
            and not any(op.start < end and op.end > start for start, end in spans)]


def _throughput(quiet: list[Op], ops: list[Op], heal: int | None) -> float | None:
    """Acknowledged writes outside faults per second of the main phase outside faults."""
    client = [op for op in ops if op.process != NEMESIS]
    if not client or heal is None:
        return None
    begin = min(op.start for op in client)
    faulty = sum(min(end, heal) - max(start, begin) for start, end in _fault_spans(ops, heal) if end > begin)
    seconds = (heal - begin - faulty) / 1e9
    return len(quiet) / seconds if seconds > 0 else None


def _replayed(ops: list[Op], heal: int | None, kafka: bool) -> float | None:
    if heal is None:
        return None
    before = set().union(*(_read(op, kafka) for op in ops if op.end is not None and op.end <= heal and op.type == "ok"))
    after = set().union(*(_read(op, kafka) for op in ops if op.start >= heal))
    return len(before & after) / len(before) if before else None


def _read(op: Op, kafka: bool) -> set[Any]:
    """The values a read op got: a poll's records, a dequeue's message, a drain's messages."""
    if op.process == NEMESIS or op.value is None:
        return set()
    if kafka:
        return {record[1] for records in parse_poll(op).reads.values() for record in records} if op.f == "poll" else set()
    if op.f == "dequeue":
        return {op.value}
    return set(op.value) if op.f == "drain" else set()
