"""How a broker learns to lead or follow: each change to the state of a partition it replicates, as a call.

Subscribe one to a ClusterMember (member.subscribe(notifier)). It compares each new
view with the last and calls on_state(topic, partition, state) for every partition
this broker is a replica of whose state changed, and on_state(topic, partition, None)
when a partition it heard of is gone (topic deleted, or this broker no longer a
replica). state.leader == broker id: lead at state.leader_epoch with state.isr;
another id: follow it; NO_LEADER: the partition is offline.

Views arrive on kazoo's threads; with a loop, each call is made on that loop
(call_soon_threadsafe keeps their order), otherwise on the calling thread, at once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

from cluster.broker.controller.view import ClusterView, TopicPartition
from cluster.broker.metadata.partition_state import PartitionState

OnState = Callable[[str, int, "PartitionState | None"], None]


class RoleChangeNotifier:
    def __init__(self, broker_id: int, on_state: OnState, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.broker_id = broker_id
        self._on_state = on_state
        self._loop = loop
        self._lock = threading.Lock()
        self._told: dict[TopicPartition, PartitionState] = {}

    def __call__(self, view: ClusterView) -> None:
        with self._lock:
            mine = {
                key: state for key, state in view.states.items() if self.broker_id in view.replicas(*key)
            }
            for key in sorted(set(self._told) - set(mine)):
                del self._told[key]
                self._tell(key, None)
            for key, state in sorted(mine.items()):
                if self._told.get(key) != state:
                    self._told[key] = state
                    self._tell(key, state)

    def _tell(self, key: TopicPartition, state: PartitionState | None) -> None:
        if self._loop is None:
            self._on_state(*key, state)
        else:
            self._loop.call_soon_threadsafe(self._on_state, *key, state)
