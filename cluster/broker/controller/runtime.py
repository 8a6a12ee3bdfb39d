"""A broker's part in the control plane, driven for real through kazoo.

`ClusterMember` is what a Broker owns (start/stop): it registers the ephemeral
/brokers/ids/<id>, keeps the ClusterView current (watcher.py), competes for
/controller and, while it holds it, runs the sans-IO ControllerCore, carrying its
actions out as fenced keeper writes (actions.py); it also offers the leader's
conditional ISR change and controlled shutdown.

Threads: kazoo runs its own; the controller core runs on one worker thread of ours,
fed through a queue, so the core never sees two events at once. The calls here
block (keeper round trips): asyncio code makes them through asyncio.to_thread, and
hears of views through RoleChangeNotifier (role_changes.py) given its loop.
"""

from __future__ import annotations

import enum
import logging
import queue
import threading
import time
from typing import Callable

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError

from cluster.broker.controller import znodes
from cluster.broker.controller.actions import KeeperActions
from cluster.broker.controller.core import ControllerCore, ControllerSettings, Event, Resigned, ViewChanged
from cluster.broker.controller.election import awaits_shutdown, isr_change
from cluster.broker.controller.view import ClusterView, TopicPartition
from cluster.broker.controller.watcher import ClusterWatcher, Subscriber
from cluster.broker.metadata.partition_state import PartitionState

RECONCILE_INTERVAL_S = 1.0
"""How often the worker looks again without being told: retries after keeper errors, and a lost campaign."""

_log = logging.getLogger(__name__)


class RegistrationError(RuntimeError):
    """Another live broker holds this broker id."""


class _Wake(enum.Enum):
    VIEW = "view"
    SESSION_LOST = "session lost"
    SESSION_NEW = "new session"
    STOP = "stop"


class ClusterMember:
    def __init__(
        self,
        hosts: str,
        registration: znodes.BrokerRegistration,
        settings: ControllerSettings = ControllerSettings(),
        session_timeout_s: float = 6.0,
    ) -> None:
        self.registration = registration
        self._session_timeout_s = session_timeout_s
        self.client = KazooClient(
            hosts=hosts,
            timeout=session_timeout_s,
            connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0},
            command_retry={"max_tries": 5, "delay": 0.1, "max_delay": 1.0},
        )
        self.watcher = ClusterWatcher(self.client)
        self._core = ControllerCore(settings)
        self._inbox: queue.Queue[_Wake] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name=f"controller-{registration.broker_id}", daemon=True)
        self._actions = KeeperActions(self.client, registration.broker_id)
        self._session_lost = False
        self._view_queued = threading.Event()
        self._view_changed = threading.Condition()

    @property
    def broker_id(self) -> int:
        return self.registration.broker_id

    @property
    def view(self) -> ClusterView:
        return self.watcher.view

    @property
    def is_controller(self) -> bool:
        return self._core.acting

    @property
    def controller_epoch(self) -> int | None:
        return self._core.epoch

    def start(self, timeout_s: float = 15.0) -> None:
        """Connects, loads the view, registers the broker and starts competing for controller."""
        deadline = time.monotonic() + timeout_s
        try:
            self.client.start(timeout=timeout_s)
            self.client.add_listener(self._session_changed)
            self._create_layout()
            self.watcher.start()
            self._register(deadline)
        except BaseException:
            self.stop()
            raise
        self._worker.start()
        self.watcher.subscribe(self._notice_view)

    def stop(self) -> None:
        """Stops acting, then closes the session: the registration and any /controller claim vanish at once.

        A worker stuck in a keeper call (keeper unreachable) is released by closing the client.
        """
        if self._worker.is_alive():
            self._inbox.put(_Wake.STOP)
            self._worker.join(self._session_timeout_s)
        self.watcher.stop()
        self.client.stop()
        self.client.close()
        if self._worker.is_alive():
            self._worker.join()

    def subscribe(self, subscriber: Subscriber) -> None:
        self.watcher.subscribe(subscriber)

    def wait_for(self, condition: Callable[[ClusterView], bool], timeout_s: float) -> ClusterView:
        """Blocks until the view satisfies `condition` and returns that view; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout_s
        with self._view_changed:
            while not condition(self.view):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"broker {self.broker_id}: the view did not get there in {timeout_s} s")
                self._view_changed.wait(remaining)
            return self.view

    def alter_isr(
        self, topic: str, partition: int, current: PartitionState, new_isr: tuple[int, ...]
    ) -> PartitionState | None:
        """The leader's ISR change, conditional on the version of `current`: the stored state, or None.

        None means the change is not known to have happened (another writer got there first,
        or the connection dropped mid-write): wait for the next state from the view and decide
        again. IsrChangeError when this broker may not make the change at all.
        """
        view = self.view
        proposed = isr_change(view.replicas(topic, partition), current, self.broker_id, new_isr, view.live)
        try:
            stat = self.client.set(znodes.state_path(topic, partition), proposed.to_json(), version=current.version)
        except (BadVersionError, NoNodeError):
            return None
        except KazooException as error:
            _log.warning("ISR change of %s-%d has an unknown outcome: %r", topic, partition, error)
            return None
        return proposed.stored(stat.version)

    def controlled_shutdown(self, timeout_s: float) -> list[TopicPartition]:
        """Asks the controller to move leaderships and ISR places away; returns the partitions still led.

        Call stop() afterwards: the request lasts as long as the session does.
        """
        try:
            self.client.create(znodes.controlled_shutdown_path(self.broker_id), ephemeral=True)
        except NodeExistsError:
            pass
        try:
            self.wait_for(self._shutdown_done, timeout_s)
        except TimeoutError:
            _log.warning("broker %d: controlled shutdown timed out", self.broker_id)
        return self.view.led_by(self.broker_id)

    def _shutdown_done(self, view: ClusterView) -> bool:
        me = self.broker_id
        pending = (awaits_shutdown(state, view.live, view.shutting_down, me) for state in view.states.values())
        return me in view.shutting_down and not any(pending)

    def _create_layout(self) -> None:
        for path in znodes.PERSISTENT_PARENTS:
            self.client.ensure_path(path)
        try:
            self.client.create(znodes.CONTROLLER_EPOCH, znodes.epoch_bytes(znodes.INITIAL_CONTROLLER_EPOCH))
        except NodeExistsError:
            pass

    def _register(self, deadline: float) -> None:
        """Creates /brokers/ids/<id>; a previous session's node may linger until that session expires."""
        path = znodes.broker_path(self.broker_id)
        data = self.registration.to_json(int(time.time() * 1000))
        while True:
            try:
                self.client.create(path, data, ephemeral=True)
                return
            except NodeExistsError:
                stat = self.client.exists(path)
                if stat is not None and stat.ephemeralOwner == self.client.client_id[0]:
                    return
            if time.monotonic() > deadline:
                raise RegistrationError(f"broker id {self.broker_id} is registered by another live session")
            time.sleep(0.2)

    def _session_changed(self, state: str) -> None:
        """kazoo's listener: it must not block, so it only wakes the worker."""
        if state == KazooState.LOST:
            self._session_lost = True
            self._inbox.put(_Wake.SESSION_LOST)
        elif state == KazooState.CONNECTED and self._session_lost:
            self._session_lost = False
            self._inbox.put(_Wake.SESSION_NEW)

    def _notice_view(self, _view: ClusterView) -> None:
        if not self._view_queued.is_set():  # many view changes queued up are one: the core reads the latest
            self._view_queued.set()
            self._inbox.put(_Wake.VIEW)
        with self._view_changed:
            self._view_changed.notify_all()

    def _run(self) -> None:
        while True:
            try:
                wake = self._inbox.get(timeout=RECONCILE_INTERVAL_S)
            except queue.Empty:
                wake = _Wake.VIEW
            if wake is _Wake.STOP:
                self._drive(Resigned("stopping"))
                return
            try:
                self._handle(wake)
            except Exception as error:  # the worker must outlive any one step, or the cluster loses its controller
                _log.log(logging.WARNING if isinstance(error, KazooException) else logging.ERROR,
                         "broker %d: controller step failed, starting over shortly", self.broker_id, exc_info=True)
                self._core.handle(Resigned(f"step failed: {error!r}"))  # a clean slate: a new epoch re-reads all

    def _handle(self, wake: _Wake) -> None:
        if wake is _Wake.SESSION_LOST:
            self._drive(Resigned("keeper session lost"))
        elif wake is _Wake.SESSION_NEW:
            self._register(time.monotonic() + self._session_timeout_s)
        else:
            self._view_queued.clear()
            view = self.view
            self._drive(ViewChanged(view))
            if not self._core.acting and view.controller in (None, self.broker_id):
                self._campaign()

    def _campaign(self) -> None:
        elected = self._actions.campaign()
        if elected is not None:
            _log.info("broker %d is controller with epoch %d", self.broker_id, elected.epoch)
            self._drive(ViewChanged(self.view))
            self._drive(elected)

    def _drive(self, event: Event) -> None:
        """Hands the core an event and carries out what it asks, feeding each outcome back, until it is quiet."""
        events = [event]
        while events:
            for action in self._core.handle(events.pop(0)):
                events.append(self._actions.perform(action))
