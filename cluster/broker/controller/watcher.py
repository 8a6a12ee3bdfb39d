"""Keeps a broker's ClusterView current from keeper watches.

Watched: the children of /brokers/ids (and each registration's data),
/brokers/topics (then each topic's assignment and config, and every partition's
state znode), /admin/delete_topics and /admin/controlled_shutdown, and the data of
/controller and /controller_epoch. kazoo's DataWatch and ChildrenWatch recipes
re-read after a reconnection or a new session, so the view catches up by itself.

Why every broker watches every state znode, instead of the controller pushing
LeaderAndIsr requests: ZooKeeper already delivers each change, in order, to whoever
asked, and re-arms watches on reconnection; a push would need its own retries,
ordering and fencing for what keeper gives for free. Every broker needs the whole
picture anyway to answer Metadata. The cost is one watch per partition per broker.

kazoo calls back on its own threads, several at once; a lock orders the changes,
and subscribers get each new view under it, so they must only hand it on (a queue,
loop.call_soon_threadsafe), never block.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Callable

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

from cluster.broker.controller import znodes
from cluster.broker.controller.election import Assignment
from cluster.broker.controller.view import ClusterView, TopicInfo
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.metadata.znode_json import ZnodeError

Subscriber = Callable[[ClusterView], None]
DataHandler = Callable[[bytes | None, Any], bool | None]

_log = logging.getLogger(__name__)


@dataclass
class _TopicWatches:
    """One incarnation of a topic: its watches stop once the topic is gone, even if the name comes back."""

    alive: bool = True
    assignment: Assignment | None = None
    configs: dict[str, str] = field(default_factory=dict)
    partitions: set[int] = field(default_factory=set)


class ClusterWatcher:
    def __init__(self, client: KazooClient) -> None:
        self._client = client
        self._lock = threading.RLock()
        self._view = ClusterView()
        self._subscribers: list[Subscriber] = []
        self._topics: dict[str, _TopicWatches] = {}
        self._stopped = False

    @property
    def view(self) -> ClusterView:
        return self._view

    def subscribe(self, subscriber: Subscriber) -> None:
        """`subscriber` gets the current view now, then every new one, in order."""
        with self._lock:
            self._subscribers.append(subscriber)
            subscriber(self._view)

    def start(self) -> None:
        """Sets every watch; kazoo reads each once before returning, so the view is whole afterwards.

        The parents (znodes.PERSISTENT_PARENTS) must exist: a children watch on a missing node ends.
        A ClusterMember creates them; a read-only reader of a fresh keeper sees an empty cluster.
        """
        ChildrenWatch(self._client, znodes.BROKER_IDS, self._brokers_changed)
        ChildrenWatch(self._client, znodes.TOPICS, self._topics_changed)
        ChildrenWatch(self._client, znodes.DELETE_TOPICS, self._deletions_changed)
        ChildrenWatch(self._client, znodes.CONTROLLED_SHUTDOWN, self._shutdowns_changed)
        self._watch_data(znodes.CONTROLLER, self._controller_changed)
        self._watch_data(znodes.CONTROLLER_EPOCH, self._controller_epoch_changed)

    def stop(self) -> None:
        """Every watch stops at its next event; no subscriber hears anything after this."""
        with self._lock:
            self._stopped = True
            self._subscribers.clear()

    def _update(self, **changes: Any) -> bool | None:
        """Publishes a new view; False (kazoo's signal to drop the watch) once stopped."""
        with self._lock:
            if self._stopped:
                return False
            self._view = replace(self._view, **changes)
            for subscriber in self._subscribers:
                subscriber(self._view)
        return None

    def _brokers_changed(self, children: list[str]) -> bool | None:
        brokers, epochs = {}, {}
        for child in children:
            read = self._read_registration(child)
            if read is not None:
                brokers[read[0].broker_id], epochs[read[0].broker_id] = read
        return self._update(brokers=brokers, broker_epochs=epochs)

    def _read_registration(self, child: str) -> tuple[znodes.BrokerRegistration, int] | None:
        if not _is_broker_id(child):
            _log.warning("ignoring %s/%s: not a broker id", znodes.BROKER_IDS, child)
            return None
        broker_id = int(child)
        try:
            data, stat = self._client.retry(self._client.get, znodes.broker_path(broker_id))
            return znodes.BrokerRegistration.from_json(broker_id, data), stat.czxid
        except NoNodeError:
            return None  # gone already; the next children event says so
        except KazooException:  # listed, so alive: a failed read must not make it dead
            known = self._view.brokers.get(broker_id)
            return (known, self._view.broker_epochs[broker_id]) if known else None
        except ZnodeError as error:
            _log.error("ignoring broker %s: bad registration: %s", child, error)
            return None

    def _deletions_changed(self, children: list[str]) -> bool | None:
        return self._update(deleting=frozenset(children))

    def _shutdowns_changed(self, children: list[str]) -> bool | None:
        return self._update(shutting_down=frozenset(int(child) for child in children if _is_broker_id(child)))

    def _controller_changed(self, data: bytes | None, _stat: Any) -> bool | None:
        try:
            controller = znodes.controller_id(data) if data is not None else None
        except ZnodeError as error:
            _log.error("bad /controller znode: %s", error)
            controller = None
        return self._update(controller=controller)

    def _controller_epoch_changed(self, data: bytes | None, _stat: Any) -> bool | None:
        try:
            epoch = znodes.epoch_from_bytes(data) if data is not None else znodes.INITIAL_CONTROLLER_EPOCH
        except ZnodeError as error:
            _log.error("bad /controller_epoch znode: %s", error)
            return None
        return self._update(controller_epoch=epoch)

    def _topics_changed(self, children: list[str]) -> bool | None:
        with self._lock:
            if self._stopped:
                return False
            gone = set(self._topics) - set(children)
            for topic in gone:
                self._topics.pop(topic).alive = False
            if gone:
                self._update(
                    topics={name: info for name, info in self._view.topics.items() if name not in gone},
                    states={key: state for key, state in self._view.states.items() if key[0] not in gone},
                )
            new = {topic: _TopicWatches() for topic in sorted(set(children) - set(self._topics))}
            self._topics.update(new)
        for topic, watches in new.items():  # outside the lock: each watch reads once now, and takes the lock itself
            self._watch_data(znodes.topic_config_path(topic), partial(self._config_changed, topic, watches))
            self._watch_data(znodes.topic_path(topic), partial(self._assignment_changed, topic, watches))
        return None

    def _watch_data(self, path: str, handler: DataHandler) -> None:
        """A DataWatch calling handler(data, stat); kazoo passes its event only to callbacks that take three."""
        def callback(data: bytes | None, stat: Any, _event: Any = None) -> bool | None:
            return handler(data, stat)

        DataWatch(self._client, path, callback)

    def _assignment_changed(self, topic: str, watches: _TopicWatches, data: bytes | None, _stat: Any) -> bool | None:
        if data is None:
            return None  # deleted: the children watch removes the topic
        try:
            assignment = znodes.assignment_from_json(data)
        except ZnodeError as error:
            _log.error("ignoring topic %s: bad assignment: %s", topic, error)
            return None
        with self._lock:
            if not watches.alive or self._stopped:
                return False
            watches.assignment = assignment
            self._publish_topic(topic, watches)
            new = sorted(set(assignment) - watches.partitions)
            watches.partitions.update(new)
        for partition in new:
            handler = partial(self._state_changed, topic, partition, watches)
            self._watch_data(znodes.state_path(topic, partition), handler)
        return None

    def _config_changed(self, topic: str, watches: _TopicWatches, data: bytes | None, _stat: Any) -> bool | None:
        try:
            configs = znodes.topic_config_from_json(data) if data is not None else {}
        except ZnodeError as error:
            _log.error("ignoring topic %s's config: %s", topic, error)
            configs = {}
        with self._lock:
            if not watches.alive or self._stopped:
                return False
            watches.configs = configs
            self._publish_topic(topic, watches)
        return None

    def _publish_topic(self, topic: str, watches: _TopicWatches) -> None:
        if watches.assignment is not None:
            self._update(topics={**self._view.topics, topic: TopicInfo(watches.assignment, watches.configs)})

    def _state_changed(
        self, topic: str, partition: int, watches: _TopicWatches, data: bytes | None, stat: Any
    ) -> bool | None:
        state = None
        if data is not None:
            try:
                state = PartitionState.from_json(data, stat.version)
            except ZnodeError as error:
                _log.error("ignoring the state of %s-%d: %s", topic, partition, error)
        with self._lock:
            if not watches.alive or self._stopped:
                return False
            states = {key: value for key, value in self._view.states.items() if key != (topic, partition)}
            if state is not None:
                states[(topic, partition)] = state
            return self._update(states=states)


def _is_broker_id(name: str) -> bool:
    return name.isascii() and name.isdigit()
