"""A controller's actions carried out as keeper writes, each fenced by the /controller_epoch version it won.

Becoming controller is Kafka's: one multi creates the ephemeral /controller and
moves /controller_epoch on, conditional on the version read just before, so two
candidates cannot both win an epoch. The version /controller_epoch then has is this
controller's fence: every write after that is a multi whose first op checks it, so a
controller that was superseded (its session expired, say, and kazoo quietly opened
a new one) cannot change anything, whatever it still believes.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError

from cluster.broker.controller import znodes
from cluster.broker.controller.core import (
    Action,
    DeleteTopic,
    Elected,
    Event,
    ReadState,
    Resigned,
    StateRead,
    StateUnreadable,
    StateWriteFailed,
    StateWritten,
    TopicDeleteDone,
    WriteState,
)
from cluster.broker.controller.multi import first_failure
from cluster.broker.metadata.partition_state import UNWRITTEN, PartitionState
from cluster.broker.metadata.znode_json import ZnodeError

DELETE_ATTEMPTS = 3
NOT_ELECTED = -1

_log = logging.getLogger(__name__)


class KeeperActions:
    def __init__(self, client: KazooClient, broker_id: int) -> None:
        self.client = client
        self.broker_id = broker_id
        self.epoch_version = NOT_ELECTED
        """The version of /controller_epoch this controller wrote when it won."""

    def campaign(self) -> Elected | None:
        """Kafka's election: one multi creates /controller and moves /controller_epoch on from the version read."""
        stale = self.client.exists(znodes.CONTROLLER)
        if stale is not None:
            if stale.ephemeralOwner != self.client.client_id[0]:
                return None
            self.client.delete(znodes.CONTROLLER, version=stale.version)  # ours, from a write whose reply was lost
        data, stat = self.client.get(znodes.CONTROLLER_EPOCH)
        epoch = znodes.epoch_from_bytes(data) + 1
        transaction = self.client.transaction()
        transaction.create(znodes.CONTROLLER, znodes.controller_json(self.broker_id, int(time.time() * 1000)),
                           ephemeral=True)
        transaction.set_data(znodes.CONTROLLER_EPOCH, znodes.epoch_bytes(epoch), version=stat.version)
        results = transaction.commit()
        if first_failure(results) is not None:
            return None  # another broker won, or the epoch moved: the view will say
        self.epoch_version = results[1].version
        return Elected(epoch)

    def perform(self, action: Action) -> Event:
        if isinstance(action, WriteState):
            return self._write_state(action)
        if isinstance(action, ReadState):
            return self._read_state(action)
        return self._delete_topic(action)

    def _write_state(self, action: WriteState) -> Event:
        path = znodes.state_path(action.topic, action.partition)
        creating = action.state.version == UNWRITTEN
        transaction = self._fenced_transaction()
        if creating:
            for parent in (znodes.partitions_path(action.topic), znodes.partition_path(action.topic, action.partition)):
                if self.client.exists(parent) is None:  # a topic created by a tool that wrote only the assignment
                    transaction.create(parent)
            transaction.create(path, action.state.to_json())
        else:
            transaction.set_data(path, action.state.to_json(), version=action.state.version)
        try:
            results = transaction.commit()
        except KazooException as error:
            _log.warning("state write for %s-%d has an unknown outcome: %r", action.topic, action.partition, error)
            return StateWriteFailed(action.topic, action.partition)
        failure = first_failure(results)
        if failure is None:
            version = 0 if creating else results[-1].version
            return StateWritten(action.topic, action.partition, action.state.stored(version))
        return self._fenced() if failure[0] == 0 else StateWriteFailed(action.topic, action.partition)

    def _read_state(self, action: ReadState) -> Event:
        path = znodes.state_path(action.topic, action.partition)
        try:
            data, stat = self.client.retry(self.client.get, path)
        except NoNodeError:
            return StateRead(action.topic, action.partition, None)
        try:
            return StateRead(action.topic, action.partition, PartitionState.from_json(data, stat.version))
        except ZnodeError as error:
            _log.error("bad state znode %s: %s", path, error)
            return StateUnreadable(action.topic, action.partition)

    def _delete_topic(self, action: DeleteTopic) -> Event:
        for _ in range(DELETE_ATTEMPTS):
            transaction = self._fenced_transaction()
            for path in self._subtree(znodes.topic_path(action.topic)) + [znodes.topic_config_path(action.topic)]:
                if self.client.exists(path) is not None:
                    transaction.delete(path)
            transaction.delete(znodes.delete_topic_path(action.topic))
            failure = first_failure(transaction.commit())
            if failure is None:
                _log.info("deleted topic %s", action.topic)
                break
            if failure[0] == 0:
                return self._fenced()
        return TopicDeleteDone(action.topic)

    def _subtree(self, path: str) -> list[str]:
        """Every znode under `path` and `path` itself, children first, as deletes must go."""
        try:
            children = self.client.get_children(path)
        except NoNodeError:
            return []
        return [node for child in children for node in self._subtree(f"{path}/{child}")] + [path]

    def _fenced_transaction(self) -> Any:
        transaction = self.client.transaction()
        transaction.check(znodes.CONTROLLER_EPOCH, self.epoch_version)
        return transaction

    def _fenced(self) -> Resigned:
        return Resigned(f"fenced: /controller_epoch is past version {self.epoch_version}")
