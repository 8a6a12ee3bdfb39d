"""The partition log: Kafka's on-disk format, recovery, retention and leader-epoch cache."""

from cluster.broker.log.config import LogConfig
from cluster.broker.log.epoch_cache import UNDEFINED_EPOCH, UNDEFINED_OFFSET, LeaderEpochCache
from cluster.broker.log.errors import (
    BatchTooLargeError,
    Corruption,
    CorruptLogError,
    InvalidBatchError,
    LogError,
    NonContiguousAppendError,
    OffsetOutOfRangeError,
)
from cluster.broker.log.partition_log import AppendInfo, PartitionLog
from cluster.broker.log.region import FileRegion
from cluster.broker.log.retention import DeletedSegment

__all__ = [
    "AppendInfo",
    "BatchTooLargeError",
    "Corruption",
    "CorruptLogError",
    "DeletedSegment",
    "FileRegion",
    "InvalidBatchError",
    "LeaderEpochCache",
    "LogConfig",
    "LogError",
    "NonContiguousAppendError",
    "OffsetOutOfRangeError",
    "PartitionLog",
    "UNDEFINED_EPOCH",
    "UNDEFINED_OFFSET",
]
