"""Request handlers, one module per area, and the table the server dispatches on.

A handler takes the broker, the decoded request and the Client (its host and
the listener its connection came in on), and
returns the response body, an awaitable of it (when the answer must wait: a
long-poll fetch, a rebalance), NO_RESPONSE (acks=0) or CLOSE_CONNECTION.
Handlers change broker state before their first await, so requests pipelined
on one connection take effect in the order they were sent.
"""

from __future__ import annotations

from typing import Any, Callable

from cluster.broker.handlers import admin, fetch, groups, produce, transactions
from cluster.broker.handlers.client import Client
from cluster.broker.handlers.outcomes import CLOSE_CONNECTION, NO_RESPONSE
from cluster.broker.protocol.apis import ApiKey

Handler = Callable[..., Any]

HANDLERS: dict[ApiKey, Handler] = {
    ApiKey.PRODUCE: produce.handle_produce,
    ApiKey.INIT_PRODUCER_ID: produce.handle_init_producer_id,
    ApiKey.FETCH: fetch.handle_fetch,
    ApiKey.LIST_OFFSETS: fetch.handle_list_offsets,
    ApiKey.OFFSET_FOR_LEADER_EPOCH: fetch.handle_offset_for_leader_epoch,
    ApiKey.API_VERSIONS: admin.handle_api_versions,
    ApiKey.METADATA: admin.handle_metadata,
    ApiKey.CREATE_TOPICS: admin.handle_create_topics,
    ApiKey.DELETE_TOPICS: admin.handle_delete_topics,
    ApiKey.FIND_COORDINATOR: groups.handle_find_coordinator,
    ApiKey.JOIN_GROUP: groups.handle_join_group,
    ApiKey.SYNC_GROUP: groups.handle_sync_group,
    ApiKey.HEARTBEAT: groups.handle_heartbeat,
    ApiKey.LEAVE_GROUP: groups.handle_leave_group,
    ApiKey.OFFSET_COMMIT: groups.handle_offset_commit,
    ApiKey.OFFSET_FETCH: groups.handle_offset_fetch,
    ApiKey.DESCRIBE_GROUPS: groups.handle_describe_groups,
    ApiKey.LIST_GROUPS: groups.handle_list_groups,
    ApiKey.ADD_PARTITIONS_TO_TXN: transactions.handle_add_partitions_to_txn,
    ApiKey.ADD_OFFSETS_TO_TXN: transactions.handle_add_offsets_to_txn,
    ApiKey.END_TXN: transactions.handle_end_txn,
    ApiKey.WRITE_TXN_MARKERS: transactions.handle_write_txn_markers,
    ApiKey.TXN_OFFSET_COMMIT: transactions.handle_txn_offset_commit,
}

__all__ = ["CLOSE_CONNECTION", "HANDLERS", "NO_RESPONSE", "Client", "Handler"]
