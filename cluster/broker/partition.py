"""A partition as its leader sees it: the log, idempotence state, the ISR and the high watermark.

The high watermark is the end of what every in-sync replica holds, and it is
what consumers may read. With this broker alone in the ISR it follows the log
end; replication later adds followers' positions, and this class stays the one
place where the rule is applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterator

from cluster.broker.log.partition_log import PartitionLog
from cluster.broker.log.region import FileRegion
from cluster.broker.producer_state import ProducerStateTable
from cluster.broker.protocol.record_batch import BatchHeader, iter_batches

REPLAY_CHUNK_BYTES = 1 << 20

_log = logging.getLogger(__name__)


class SingleBatchRequired(ValueError):
    """Produce v3+ carries exactly one batch per partition (Kafka INVALID_RECORD, 87)."""


@dataclass(frozen=True)
class AppendResult:
    base_offset: int
    last_offset: int
    duplicate: bool = False


class Partition:
    def __init__(self, topic: str, index: int, log: PartitionLog, broker_id: int, leader_epoch: int = 0) -> None:
        self.topic = topic
        self.index = index
        self.log = log
        self.leader_epoch = leader_epoch
        self.isr = frozenset({broker_id})
        self.producers = ProducerStateTable()
        for header in log.batch_headers():
            self.producers.record(header)
        self.high_watermark = self._isr_log_end()

    @property
    def name(self) -> str:
        return f"{self.topic}-{self.index}"

    def append(self, records: bytes | bytearray | memoryview) -> AppendResult:
        """Appends one producer batch as leader; a retried idempotent batch is not written twice.

        Kafka takes exactly one batch per partition from Produce v3 on, which
        is what makes the retry check well defined. Raises the log's errors
        (invalid batch, too large), SingleBatchRequired, and SequenceError for
        idempotence violations; nothing is written then.
        """
        headers = [header for _, header in iter_batches(records)]
        if len(headers) != 1:
            raise SingleBatchRequired(f"{self.name}: a produce request carries {len(headers)} batches, expected 1")
        header = headers[0]
        duplicate = self.producers.check(header)
        if duplicate is not None:
            _log.debug("%s: duplicate of offsets %d-%d", self.name, duplicate.first_offset, duplicate.last_offset)
            return AppendResult(duplicate.first_offset, duplicate.last_offset, duplicate=True)
        info = self.log.append(records, self.leader_epoch)
        self.producers.record(header._replace(base_offset=info.first_offset))
        self.high_watermark = self._isr_log_end()
        return AppendResult(info.first_offset, info.last_offset)

    def read(self, offset: int, max_bytes: int, committed_only: bool) -> FileRegion:
        """Whole batches from `offset`; consumers see only what is below the high watermark."""
        return self.log.read(offset, max_bytes, self.high_watermark if committed_only else None)

    def batches(self, start: int | None = None) -> Iterator[tuple[bytes, BatchHeader]]:
        """(bytes, header) of every stored batch from `start`, for replaying internal topics."""
        offset = self.log.log_start_offset if start is None else start
        while offset < self.log.log_end_offset:
            region = self.log.read(offset, REPLAY_CHUNK_BYTES)
            if region.length == 0:
                return
            data = region.read_bytes()
            for position, header in iter_batches(data):
                yield data[position : position + header.size], header
            offset = region.next_offset

    def _isr_log_end(self) -> int:
        """With this broker alone in the ISR, everything it holds is committed."""
        return self.log.log_end_offset

