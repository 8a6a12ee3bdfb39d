"""A broker's membership of a cluster (zookeeper.connect set), seen from its asyncio loop.

Owns the ClusterMember (registration, controller candidacy, the ClusterView) and makes its
blocking keeper calls on worker threads, so the loop that serves clients never waits on the
keeper: start and controlled shutdown on their own, topic administration on one thread of
its own (creations and deletions then reach the keeper in the order they were asked).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Mapping

from kazoo.exceptions import KazooException, NodeExistsError

from cluster.broker.config import BrokerConfig
from cluster.broker.controller import admin
from cluster.broker.controller.core import ControllerSettings
from cluster.broker.controller.election import AssignmentError, IsrChangeError
from cluster.broker.controller.role_changes import OnState, RoleChangeNotifier
from cluster.broker.controller.runtime import ClusterMember
from cluster.broker.controller.view import ClusterView
from cluster.broker.controller.znodes import BrokerRegistration
from cluster.broker.metadata import znode_json
from cluster.broker.metadata.partition_state import PartitionState
from cluster.broker.protocol.errors import ErrorCode
from cluster.broker.topics import TopicError

CLUSTER_ID_PATH = "/cluster/id"
SHUTDOWN_GRACE_S = 5.0
SESSION_CLOSE_S = 30.0
"""How long leaving waits for the keeper session to close: the member's worker gets a session timeout to
finish, kazoo's close up to 10 s for its connection. A close still going after that (seen once under a
loaded CI, cause not found) is left to finish on a daemon thread, so that the broker still stops."""
"""Beyond controlled.shutdown.timeout.ms, for the keeper round trips around the wait itself."""

_log = logging.getLogger(__name__)


def controller_settings(config: BrokerConfig) -> ControllerSettings:
    """What the controller this broker may become takes from the broker's properties."""
    return ControllerSettings(unclean_leader_election=config.unclean_leader_election)


class Membership:
    def __init__(self, config: BrokerConfig) -> None:
        assert config.zookeeper_connect is not None
        self._config = config
        self.member = ClusterMember(
            config.zookeeper_connect,
            BrokerRegistration(config.broker_id, config.listeners.registered()),
            controller_settings(config),
            session_timeout_s=config.zookeeper_session_timeout_ms / 1000,
        )
        self._admin_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"topic-admin-{config.broker_id}")

    @property
    def view(self) -> ClusterView:
        return self.member.view

    async def start(self, on_state: OnState, proposed_cluster_id: str) -> str:
        """Registers and starts hearing partition states (on this loop, in order); returns the cluster id.

        The cluster id is Kafka's /cluster/id: the first broker's proposal, then every member's,
        so clients see one cluster whichever broker they ask.
        """
        self.member.subscribe(RoleChangeNotifier(self._config.broker_id, on_state, asyncio.get_running_loop()))
        await asyncio.to_thread(self.member.start)
        cluster_id = await asyncio.to_thread(self._agree_cluster_id, proposed_cluster_id)
        _log.info("broker %d joined cluster %s at %s", self._config.broker_id, cluster_id,
                  self._config.zookeeper_connect)
        return cluster_id

    def _agree_cluster_id(self, proposed: str) -> str:
        client = self.member.client
        try:
            client.create(CLUSTER_ID_PATH, znode_json.dump({"version": "1", "id": proposed}), makepath=True)
        except NodeExistsError:
            pass
        data, _ = client.get(CLUSTER_ID_PATH)
        stored = znode_json.load(data).get("id")
        if not isinstance(stored, str) or not stored:
            raise znode_json.ZnodeError(f"{CLUSTER_ID_PATH} holds no cluster id: {bytes(data)[:80]!r}")
        return stored

    async def stop(self) -> None:
        """Controlled shutdown (leaderships move away first), then the session closes.

        Bounded even when the keeper cannot be reached (its calls would wait for a connection
        forever): closing the session then releases the thread still waiting in one."""
        timeout_s = self._config.controlled_shutdown_timeout_ms / 1000
        try:
            still_led = await asyncio.wait_for(
                asyncio.to_thread(self.member.controlled_shutdown, timeout_s), timeout_s + SHUTDOWN_GRACE_S
            )
        except (asyncio.TimeoutError, KazooException) as error:
            _log.warning("broker %d: controlled shutdown did not finish (%r); stopping anyway",
                         self._config.broker_id, error)
        else:
            if still_led:
                _log.warning("broker %d leaves while still leading %s", self._config.broker_id, still_led)
        await self._close_session()
        self._admin_thread.shutdown(wait=False, cancel_futures=True)

    async def _close_session(self) -> None:
        closing = threading.Thread(target=self.member.stop, name=f"close-session-{self._config.broker_id}",
                                   daemon=True)
        closing.start()
        await asyncio.to_thread(closing.join, SESSION_CLOSE_S)
        if closing.is_alive():
            _log.warning("broker %d: the keeper session did not close within %g s; stopping anyway",
                         self._config.broker_id, SESSION_CLOSE_S)

    def alter_isr(self, topic: str, partition: int, current: PartitionState, new_isr: tuple[int, ...]) -> PartitionState | None:
        """The leader's ISR change; a broker in controlled shutdown may not join (KIP-841's INELIGIBLE_REPLICA).

        It still fetches until it stops, and re-adding it would undo what the controller does for
        its shutdown, which then never completes. The refusal is answered with `current`, the
        state as it stands, which tells the core its change was not made, so it proposes again at
        the follower's next fetch. A change the member refuses before writing is answered the same
        way: a restarted follower that caught up before its registration reached this broker's
        view is "not alive" for a moment, and a change left unanswered would wait out the core's
        resend timeout (30 s) before it is tried again.
        """
        if (set(new_isr) - set(current.isr)) & self.view.shutting_down:
            return current
        try:
            return self.member.alter_isr(topic, partition, current, new_isr)
        except IsrChangeError as error:
            _log.info("%s-%d: ISR change to %s not made: %s", topic, partition, list(new_isr), error)
            return current

    def address_of(self, broker_id: int) -> tuple[str, int] | None:
        """Where this broker reaches another: its endpoint on inter.broker.listener.name (None: not registered,
        or registered without that listener)."""
        registration = self.view.brokers.get(broker_id)
        endpoint = registration.endpoint(self._config.listeners.inter_broker) if registration is not None else None
        return (endpoint.host, endpoint.port) if endpoint is not None else None

    async def create_topic(self, name: str, partitions: int, replication_factor: int, configs: Mapping[str, str],
                           leaders_within_ms: int = 0) -> None:
        """Stores the topic in the keeper (the controller then elects its leaders); TopicError when refused.

        With `leaders_within_ms` > 0 it returns once every partition has a leader, as Kafka's
        CreateTopics does within the request's timeout (so a client producing right away finds
        them), and raises REQUEST_TIMED_OUT when they take longer: the topic exists regardless.
        """
        try:
            await self._on_admin_thread(admin.create_topic, self.member.client, name, self.view.live, partitions,
                                        replication_factor, dict(configs))
        except admin.TopicExistsError as error:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, str(error)) from None
        except AssignmentError as error:
            raise TopicError(ErrorCode.INVALID_REPLICATION_FACTOR, str(error)) from None
        _log.info("created topic %s: %d partition(s), replication factor %d %s", name, partitions,
                  replication_factor, dict(configs) or "")
        if leaders_within_ms > 0:
            await self._wait_for_leaders(name, partitions, leaders_within_ms / 1000)

    async def _wait_for_leaders(self, name: str, partitions: int, timeout_s: float) -> None:
        def led(view: ClusterView) -> bool:
            states = [view.states.get((name, index)) for index in range(partitions)]
            return all(state is not None and state.online for state in states)

        try:
            await asyncio.to_thread(self.member.wait_for, led, timeout_s)
        except TimeoutError:
            raise TopicError(ErrorCode.REQUEST_TIMED_OUT,
                             f"topic {name!r} was created, but its leaders were not elected within {timeout_s:g} s") from None

    async def delete_topic(self, name: str) -> None:
        try:
            await self._on_admin_thread(admin.delete_topic, self.member.client, name)
        except admin.UnknownTopicError as error:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, str(error)) from None

    async def _on_admin_thread(self, function: object, *args: object) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._admin_thread, function, *args)  # type: ignore[arg-type]
        except KazooException as error:
            raise TopicError(ErrorCode.REQUEST_TIMED_OUT, f"the keeper did not take the change: {error!r}") from None
