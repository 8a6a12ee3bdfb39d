"""Every API the broker speaks, one module each, and the registry the server dispatches on."""

from __future__ import annotations

import enum

from cluster.broker.protocol.apis.add_offsets_to_txn import ADD_OFFSETS_TO_TXN
from cluster.broker.protocol.apis.add_partitions_to_txn import ADD_PARTITIONS_TO_TXN
from cluster.broker.protocol.apis.api_versions import API_VERSIONS
from cluster.broker.protocol.apis.create_topics import CREATE_TOPICS
from cluster.broker.protocol.apis.delete_topics import DELETE_TOPICS
from cluster.broker.protocol.apis.end_txn import END_TXN
from cluster.broker.protocol.apis.describe_groups import DESCRIBE_GROUPS
from cluster.broker.protocol.apis.fetch import FETCH
from cluster.broker.protocol.apis.find_coordinator import FIND_COORDINATOR
from cluster.broker.protocol.apis.heartbeat import HEARTBEAT
from cluster.broker.protocol.apis.init_producer_id import INIT_PRODUCER_ID
from cluster.broker.protocol.apis.join_group import JOIN_GROUP
from cluster.broker.protocol.apis.leave_group import LEAVE_GROUP
from cluster.broker.protocol.apis.list_groups import LIST_GROUPS
from cluster.broker.protocol.apis.list_offsets import LIST_OFFSETS
from cluster.broker.protocol.apis.metadata import METADATA
from cluster.broker.protocol.apis.offset_commit import OFFSET_COMMIT
from cluster.broker.protocol.apis.offset_fetch import OFFSET_FETCH
from cluster.broker.protocol.apis.offset_for_leader_epoch import OFFSET_FOR_LEADER_EPOCH
from cluster.broker.protocol.apis.produce import PRODUCE
from cluster.broker.protocol.apis.sync_group import SYNC_GROUP
from cluster.broker.protocol.apis.txn_offset_commit import TXN_OFFSET_COMMIT
from cluster.broker.protocol.apis.write_txn_markers import WRITE_TXN_MARKERS
from cluster.broker.protocol.schema import Api


class ApiKey(enum.IntEnum):
    PRODUCE = 0
    FETCH = 1
    LIST_OFFSETS = 2
    METADATA = 3
    OFFSET_COMMIT = 8
    OFFSET_FETCH = 9
    FIND_COORDINATOR = 10
    JOIN_GROUP = 11
    HEARTBEAT = 12
    LEAVE_GROUP = 13
    SYNC_GROUP = 14
    DESCRIBE_GROUPS = 15
    LIST_GROUPS = 16
    API_VERSIONS = 18
    CREATE_TOPICS = 19
    DELETE_TOPICS = 20
    INIT_PRODUCER_ID = 22
    OFFSET_FOR_LEADER_EPOCH = 23
    ADD_PARTITIONS_TO_TXN = 24
    ADD_OFFSETS_TO_TXN = 25
    END_TXN = 26
    WRITE_TXN_MARKERS = 27
    TXN_OFFSET_COMMIT = 28


APIS: dict[ApiKey, Api] = {
    ApiKey(api.key): api
    for api in (
        PRODUCE,
        FETCH,
        LIST_OFFSETS,
        METADATA,
        OFFSET_COMMIT,
        OFFSET_FETCH,
        FIND_COORDINATOR,
        JOIN_GROUP,
        HEARTBEAT,
        LEAVE_GROUP,
        SYNC_GROUP,
        DESCRIBE_GROUPS,
        LIST_GROUPS,
        API_VERSIONS,
        CREATE_TOPICS,
        DELETE_TOPICS,
        INIT_PRODUCER_ID,
        OFFSET_FOR_LEADER_EPOCH,
        ADD_PARTITIONS_TO_TXN,
        ADD_OFFSETS_TO_TXN,
        END_TXN,
        WRITE_TXN_MARKERS,
        TXN_OFFSET_COMMIT,
    )
}
"""The advertised table: each API with the version range the broker answers (ApiVersions reads it)."""
