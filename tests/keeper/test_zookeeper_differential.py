"""The same seeded operations against Apache ZooKeeper 3.8 (through kazoo) and against our tree.

Every answer must agree: data, error codes, sequential names, the stat fields
that do not depend on clocks or session ids, and how zxids order (raw zxid
values and session ids differ between the two and are not compared). So must
the watch events, in order, and the tree left once the session's ephemerals go.
"""

from __future__ import annotations

import random
import time
from dataclasses import astuple
from typing import Any, Callable, Iterator

import pytest

from cluster.deploy.keeper_ensemble import KeeperEnsemble, unavailable_reason
from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.jute.codes import EventType
from cluster.keeper.reads import ChildrenRead, DataRead
from cluster.keeper.replica import Created
from cluster.keeper.requests import Check, CloseSession, Create, Delete, Multi, MultiRequestOp, SetData
from cluster.keeper.tree import Stat
from tests.facilities import require
from tests.keeper.test_tree import Keeper

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import ZookeeperError
    from kazoo.protocol.states import ZnodeStat
except ImportError:  # the fixture reports it: a skip here, a failure under CI
    KAZOO_MISSING = True
else:
    KAZOO_MISSING = False

OPERATIONS = 400
KAZOO_EVENT_TYPES = {
    EventType.NODE_CREATED: "CREATED",
    EventType.NODE_DELETED: "DELETED",
    EventType.NODE_DATA_CHANGED: "CHANGED",
    EventType.NODE_CHILDREN_CHANGED: "CHILD",
}
PATHS = ["/t/a", "/t/b", "/t/a/c", "/t/a/d", "/t/b/e", "/t/a/c/f"]


@pytest.fixture(scope="module")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Apache ZooKeeper 3.8 server, started the way every test and benchmark starts one."""
    require(not KAZOO_MISSING, "kazoo", "pip install 'kazoo>=2.9' into the venv")
    reason = unavailable_reason("zookeeper")
    require(reason is None, "Apache ZooKeeper", reason or "")
    with KeeperEnsemble("zookeeper", 1, tmp_path_factory.mktemp("zookeeper")) as server:
        yield server.connect_string


class Outcomes:
    """Both sides' answers in a comparable form; zxids are collected apart and compared by order."""

    def __init__(self) -> None:
        self.answers: list[Any] = []
        self.zxids: list[int] = []

    def stat(self, stat: Any) -> tuple[int, ...]:
        stat = astuple(stat) if isinstance(stat, Stat) else tuple(stat)
        self.zxids += [stat[0], stat[1], stat[10]]
        return (stat[4], stat[5], stat[6], stat[8], stat[9], stat[7] != 0)

    def record(self, call: Callable[[], Any], error_type: type[Exception]) -> None:
        try:
            self.answers.append(self.normal(call()))
        except error_type as error:
            self.answers.append(self.normal(error))

    def normal(self, value: Any) -> Any:
        if isinstance(value, (Stat, ZnodeStat)):
            return self.stat(value)
        if isinstance(value, Created):
            return value.path
        if isinstance(value, Exception):
            return ("error", int(getattr(value, "code")))  # kazoo's errors and KeeperError both carry ZooKeeper's code
        if isinstance(value, ErrorCode):
            return ("error", int(value)) if value else True
        if isinstance(value, tuple) and any(isinstance(item, ErrorCode) and item for item in value):
            return [("error", int(item)) for item in value]  # a refused multi: OK means rolled back
        if isinstance(value, (tuple, list)):
            return [self.normal(item) for item in value]
        return value

    def zxid_order(self) -> list[int]:
        ranks = {zxid: rank for rank, zxid in enumerate(sorted(set(self.zxids)))}
        return [ranks[zxid] for zxid in self.zxids]


def _random_op(rng: random.Random, paths: list[str]) -> MultiRequestOp:
    path = rng.choice(paths)
    version = rng.choice([-1, -1, 0, 1, 2])
    kind = rng.randrange(4)
    if kind == 0:
        return Create(path, rng.randbytes(rng.randrange(4)), ephemeral=rng.random() < 0.3, sequential=rng.random() < 0.3)
    if kind == 1:
        return Delete(path, version)
    if kind == 2:
        return SetData(path, rng.randbytes(rng.randrange(6)), version)
    return Check(path, version)


class Sides:
    def __init__(self, zk: Any, keeper: Keeper, session: int) -> None:
        self.zk, self.keeper, self.session = zk, keeper, session
        self.theirs, self.ours = Outcomes(), Outcomes()
        self.their_events: list[tuple[str, str, str]] = []
        # One callback object per kind: kazoo keeps a set of callbacks per path, as the server keeps one watch.
        self._data_callback = self._callback("data")
        self._child_callback = self._callback("child")

    def both(self, theirs: Callable[[], Any], ours: Callable[[], Any]) -> None:
        self.theirs.record(theirs, ZookeeperError)
        self.ours.record(ours, KeeperError)

    def write(self, request: Any) -> Any:
        return self.keeper.write(request, self.session)

    def op(self, op: MultiRequestOp) -> None:
        if isinstance(op, Create):
            self.both(lambda: self.zk.create(op.path, op.data, ephemeral=op.ephemeral, sequence=op.sequential), lambda: self.write(op))
        elif isinstance(op, Delete):
            self.both(lambda: self.zk.delete(op.path, op.version), lambda: self.write(op))
        elif isinstance(op, SetData):
            self.both(lambda: self.zk.set(op.path, op.data, op.version), lambda: self.write(op))
        else:
            self.multi([op])

    def multi(self, ops: list[MultiRequestOp]) -> None:
        def theirs() -> Any:
            transaction = self.zk.transaction()
            for op in ops:
                if isinstance(op, Create):
                    transaction.create(op.path, op.data, ephemeral=op.ephemeral, sequence=op.sequential)
                elif isinstance(op, Delete):
                    transaction.delete(op.path, op.version)
                elif isinstance(op, SetData):
                    transaction.set_data(op.path, op.data, op.version)
                else:
                    transaction.check(op.path, op.version)
            return transaction.commit()

        self.both(theirs, lambda: self.write(Multi(tuple(ops))))

    def read(self, path: str, kind: int, watch: bool) -> None:
        """A read, maybe leaving a watch: kazoo's data and child callbacks stand for our two watchers."""
        reader = self.keeper.reader
        data_callback = self._data_callback if watch else None
        child_callback = self._child_callback if watch else None
        data_watcher = "data" if watch else None
        child_watcher = "child" if watch else None
        if kind == 0:
            self.both(lambda: list(self.zk.get(path, data_callback)), lambda: self._data(reader.get_data(path, data_watcher)))
        elif kind == 1:
            self.both(lambda: self.zk.exists(path, data_callback), lambda: reader.exists(path, data_watcher).stat)
        else:
            self.both(
                lambda: self._children(*self.zk.get_children(path, child_callback, include_data=True)),
                lambda: self._listing(reader.get_children(path, child_watcher)),
            )

    def _callback(self, watcher: str) -> Callable[[Any], None]:
        return lambda event: self.their_events.append((watcher, event.type, event.path))

    @staticmethod
    def _data(read: DataRead) -> list[Any]:
        return [read.data, read.stat]

    @staticmethod
    def _children(names: list[str], stat: Any) -> list[Any]:
        return [sorted(names), stat]

    @classmethod
    def _listing(cls, read: ChildrenRead) -> list[Any]:
        return cls._children(read.children, read.stat)

    def our_events(self) -> list[tuple[str, str, str]]:
        return [(str(watcher), KAZOO_EVENT_TYPES[change.type], change.path) for watcher, change in self.keeper.notifications]

    def wait_for_their_events(self) -> None:
        """ZooKeeper sent every notification before its last reply; kazoo runs callbacks on its own thread."""
        deadline = time.monotonic() + 5
        while len(self.their_events) < len(self.our_events()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_operations_answer_like_zookeeper(zookeeper: str, seed: int) -> None:
    rng = random.Random(seed)
    root = f"/t{seed}"
    zk = KazooClient(hosts=zookeeper, timeout=10)
    zk.start(timeout=15)
    keeper = Keeper()
    session = keeper.session()
    sides = Sides(zk, keeper, session)
    try:
        sides.both(lambda: zk.create(root), lambda: keeper.write(Create(root), session))
        paths = [root + path[2:] for path in PATHS]
        for _ in range(OPERATIONS):
            choice = rng.random()
            if choice < 0.5:
                sides.op(_random_op(rng, paths))
            elif choice < 0.65:
                sides.multi([_random_op(rng, paths) for _ in range(rng.randrange(1, 4))])
            else:
                sides.read(rng.choice(paths), rng.randrange(3), watch=rng.random() < 0.5)
            if isinstance(sides.theirs.answers[-1], str) and sides.theirs.answers[-1] not in paths:
                paths.append(sides.theirs.answers[-1])
        assert sides.ours.answers == sides.theirs.answers
        assert sides.ours.zxid_order() == sides.theirs.zxid_order()
        sides.wait_for_their_events()
        assert sides.our_events() and sides.our_events() == sides.their_events
    finally:
        zk.stop()
        zk.close()
    _assert_ephemerals_left_with_the_session(zookeeper, keeper, session, root)


def _assert_ephemerals_left_with_the_session(zookeeper: str, keeper: Keeper, session: int, root: str) -> None:
    keeper.write(CloseSession(), session)
    observer = KazooClient(hosts=zookeeper, timeout=10)
    observer.start(timeout=15)
    try:
        def theirs(path: str) -> list[tuple[str, tuple[int, ...]]]:
            names = sorted(observer.get_children(path))
            return [(path, Outcomes().stat(observer.exists(path)))] + [
                entry for name in names for entry in theirs(f"{path}/{name}")
            ]

        ours = [(p, Outcomes().stat(n.stat())) for p, n in keeper.replica.tree.items() if p == root or p.startswith(root + "/")]
        assert sorted(theirs(root)) == ours
    finally:
        observer.stop()
        observer.close()


def test_closing_a_session_deletes_its_ephemerals_and_fires_watches_like_zookeeper(zookeeper: str) -> None:
    """ZooKeeper deletes a closed session's ephemerals in no promised order, so events compare as sets."""
    keeper = Keeper()
    watcher_session, owner_session = keeper.session(), keeper.session()
    watching, owning = KazooClient(hosts=zookeeper, timeout=10), KazooClient(hosts=zookeeper, timeout=10)
    watching.start(timeout=15)
    owning.start(timeout=15)
    their_events: list[tuple[str, str]] = []

    def heard(event: Any) -> None:
        their_events.append((event.type, event.path))

    try:
        owning.create("/u")
        keeper.write(Create("/u"), owner_session)
        for name in ("/u/e", "/u/s-"):
            created = owning.create(name, ephemeral=True, sequence=name.endswith("-"))
            our_create = keeper.write(Create(name, ephemeral=True, sequential=name.endswith("-")), owner_session)
            assert isinstance(our_create, Created) and our_create.path == created
        watching.exists("/u/e", heard)
        watching.get("/u/s-0000000001", heard)
        watching.get_children("/u", heard)
        for path in ("/u/e", "/u/s-0000000001"):
            keeper.reader.exists(path, watcher_session)
        keeper.reader.get_children("/u", watcher_session)
        owning.stop()
        keeper.write(CloseSession(), owner_session)
        deadline = time.monotonic() + 5
        while len(their_events) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        our_events = sorted((KAZOO_EVENT_TYPES[change.type], change.path) for _, change in keeper.notifications)
        assert our_events == sorted(their_events) and len(our_events) == 3
        theirs = watching.exists("/u")
        assert Outcomes().stat(theirs) == Outcomes().stat(keeper.stat("/u"))
    finally:
        owning.close()
        watching.stop()
        watching.close()
