"""A partition's open and aborted transactions and its last stable offset, against a simple model."""

from hypothesis import given
from hypothesis import strategies as st

from cluster.broker.protocol.record_batch import BatchHeader, attributes_for
from cluster.broker.protocol.compression import Compression
from cluster.broker.transactions.partition_state import AbortedTransaction, PartitionTransactions

PRODUCERS = [1, 2, 3]


def _header(offset: int, producer_id: int, transactional: bool, control: bool) -> BatchHeader:
    return BatchHeader(offset, 0, 0, 2, 0, attributes_for(Compression.NONE, transactional, control), 0, 0, 0,
                       producer_id, 0, -1 if control else 0, 1)


# each step: (producer, kind) with kind data, plain (non-transactional), commit or abort
steps = st.lists(st.tuples(st.sampled_from(PRODUCERS), st.sampled_from(["data", "plain", "commit", "abort"])),
                 max_size=30)


@given(steps, st.data())
def test_stable_offset_and_aborted_list_follow_the_log(log, data):
    state = PartitionTransactions()
    open_first: dict[int, int] = {}
    ended: list[tuple[int, int]] = []  # (first offset, marker offset)
    aborted = []
    for offset, (producer, kind) in enumerate(log):
        control = kind in ("commit", "abort")
        state.record(_header(offset, producer, kind != "plain", control), kind == "commit" if control else None)
        if kind == "data":
            open_first.setdefault(producer, offset)
        elif control and producer in open_first:
            first = open_first.pop(producer)
            ended.append((first, offset))
            if kind == "abort":
                stable = min([offset + 1, *open_first.values()])
                aborted.append(AbortedTransaction(producer, first, offset, stable))
    high_watermark = data.draw(st.integers(0, len(log)))
    unsure = [first for first, marker in ended if marker >= high_watermark]
    assert state.last_stable_offset(high_watermark) == min([high_watermark, *open_first.values(), *unsure])
    assert state.aborted == aborted
    start, end = sorted(data.draw(st.tuples(st.integers(0, len(log)), st.integers(0, len(log)))))
    assert state.aborted_between(start, end) == [a for a in aborted if a.last_offset >= start and a.first_offset < end]
