"""kazoo against a 3-server ensemble: znodes, their stats, sequential names, multi and versions."""

from __future__ import annotations

import re

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import ZnodeStat

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from tests.keeper_ensemble.conftest import Connect


def test_create_read_update_delete_keep_every_stat_field(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    zk = connect(ensemble.connect_string)
    zk.create(root)
    empty_root = zk.exists(root)

    assert zk.create(f"{root}/a", b"v1") == f"{root}/a"
    data, created = zk.get(f"{root}/a")
    assert data == b"v1"
    assert created == zk.exists(f"{root}/a")
    assert created.czxid == created.mzxid == created.pzxid > empty_root.czxid
    assert created.ctime == created.mtime > 0
    assert (created.version, created.cversion, created.aversion) == (0, 0, 0)
    assert (created.ephemeralOwner, created.dataLength, created.numChildren) == (0, 2, 0)
    parent = zk.exists(root)
    assert (parent.cversion, parent.numChildren, parent.pzxid) == (1, 1, created.czxid)
    assert parent.mzxid == empty_root.mzxid and parent.version == 0

    updated = zk.set(f"{root}/a", b"value two", version=0)
    assert updated.mzxid > created.mzxid and updated.mtime >= created.mtime
    assert (updated.czxid, updated.ctime, updated.pzxid) == (created.czxid, created.ctime, created.pzxid)
    assert (updated.version, updated.dataLength, updated.cversion) == (1, 9, 0)
    assert zk.get(f"{root}/a") == (b"value two", updated)

    zk.create(f"{root}/a/child")
    child = zk.exists(f"{root}/a/child")
    with_child = zk.exists(f"{root}/a")
    assert (with_child.cversion, with_child.numChildren, with_child.pzxid) == (1, 1, child.czxid)
    assert with_child.mzxid == updated.mzxid and with_child.version == 1
    assert zk.get_children(f"{root}/a") == ["child"]
    assert sorted(zk.get_children(root)) == ["a"]

    with pytest.raises(NotEmptyError):
        zk.delete(f"{root}/a")
    zk.delete(f"{root}/a/child")
    assert zk.exists(f"{root}/a/child") is None
    without_child = zk.exists(f"{root}/a")
    assert (without_child.cversion, without_child.numChildren) == (2, 0)
    assert without_child.pzxid > child.czxid
    zk.delete(f"{root}/a", version=1)
    assert zk.exists(f"{root}/a") is None
    assert zk.get_children(root) == []


def test_errors_carry_their_codes(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    zk = connect(ensemble.connect_string)
    zk.create(root, b"x")
    with pytest.raises(NodeExistsError):
        zk.create(root)
    with pytest.raises(NoNodeError):
        zk.create(f"{root}/missing/child")
    with pytest.raises(NoNodeError):
        zk.get(f"{root}/missing")
    with pytest.raises(NoNodeError):
        zk.set(f"{root}/missing", b"")
    with pytest.raises(NoNodeError):
        zk.delete(f"{root}/missing")
    zk.create(f"{root}/ephemeral", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(f"{root}/ephemeral/child")
    assert zk.get(root)[0] == b"x" and zk.get_children(root) == ["ephemeral"]


def test_ephemeral_nodes_name_their_session(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    owner, other = connect(ensemble.connect_string), connect(ensemble.connect_string)
    owner.create(root)
    owner.create(f"{root}/mine", b"e", ephemeral=True)
    other.sync(f"{root}/mine")
    stat = other.exists(f"{root}/mine")
    assert stat.ephemeralOwner == owner.client_id[0] != other.client_id[0]
    owner.stop()
    other.sync(root)
    assert other.exists(f"{root}/mine") is None


def test_sequential_names_share_one_counter_per_parent(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    first, second = connect(ensemble.connect_string), connect(ensemble.connect_string)
    first.create(root)
    first.create(f"{root}/queue")
    first.create(f"{root}/other")
    names = [
        first.create(f"{root}/queue/job-", sequence=True),
        second.create(f"{root}/queue/job-", b"data", sequence=True),
        first.create(f"{root}/queue/lock-", ephemeral=True, sequence=True),
        second.create(f"{root}/queue/job-", sequence=True),
    ]
    for name in names:
        assert re.fullmatch(rf"{root}/queue/(job|lock)-\d{{10}}", name), name
    assert [int(name[-10:]) for name in names] == [0, 1, 2, 3]
    assert first.create(f"{root}/other/job-", sequence=True) == f"{root}/other/job-0000000000"
    first.delete(names[3])
    later = first.create(f"{root}/queue/job-", sequence=True)
    assert int(later[-10:]) > 3
    second.sync(f"{root}/queue")
    assert sorted(second.get_children(f"{root}/queue")) == sorted(n.rsplit("/", 1)[1] for n in names[:3] + [later])


def test_set_and_delete_with_a_stale_version_raise_bad_version(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    writer, racer = connect(ensemble.connect_string), connect(ensemble.connect_string)
    writer.create(root, b"0")
    _, seen = writer.get(root)
    racer.set(root, b"1", version=seen.version)
    with pytest.raises(BadVersionError):
        writer.set(root, b"lost update", version=seen.version)
    with pytest.raises(BadVersionError):
        writer.delete(root, version=seen.version)
    writer.sync(root)
    data, now = writer.get(root)
    assert (data, now.version) == (b"1", 1)
    assert writer.set(root, b"2", version=now.version).version == 2


def test_multi_applies_every_operation_under_one_zxid(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    zk = connect(ensemble.connect_string)
    zk.create(root)
    zk.create(f"{root}/gone")
    transaction = zk.transaction()
    transaction.create(f"{root}/a", b"a")
    transaction.create(f"{root}/b", b"b", ephemeral=True)
    transaction.set_data(f"{root}/a", b"A", version=0)
    transaction.check(f"{root}/b", version=0)
    transaction.delete(f"{root}/gone")
    results = transaction.commit()
    assert results[:2] == [f"{root}/a", f"{root}/b"]
    assert isinstance(results[2], ZnodeStat) and results[2].version == 1
    assert results[3:] == [True, True]
    a, b = zk.exists(f"{root}/a"), zk.exists(f"{root}/b")
    assert a.czxid == a.mzxid == b.czxid == results[2].mzxid
    assert zk.get(f"{root}/a")[0] == b"A" and zk.exists(f"{root}/gone") is None


def test_a_failing_multi_leaves_nothing_behind(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    zk = connect(ensemble.connect_string)
    zk.create(root)
    zk.create(f"{root}/a", b"before")
    zk.set(f"{root}/a", b"before")
    before = (zk.get(f"{root}/a"), zk.exists(root))
    transaction = zk.transaction()
    transaction.create(f"{root}/new")
    transaction.set_data(f"{root}/a", b"after")
    transaction.check(f"{root}/a", version=0)
    transaction.create(f"{root}/newer")
    results = transaction.commit()
    assert [type(result) for result in results] == [RolledBackError, RolledBackError, BadVersionError, RuntimeInconsistency]
    assert (zk.get(f"{root}/a"), zk.exists(root)) == before
    assert zk.get_children(root) == ["a"]


def test_a_read_after_sync_on_another_server_sees_the_write(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    """The reader is a follower, whose sync passes through the leader's stream of commits, behind the write's.
    With the last node as reader (usually Apache ZooKeeper's leader, whose sync of its own client does not pass
    through that stream) one CI run under load read the write before the last."""
    followers = [node for node in ensemble.nodes if node.mode() == "follower"]
    reader_node = followers[-1]
    writer_node = next(node for node in ensemble.nodes if node is not reader_node)
    writer = connect(writer_node.address)
    reader = connect(reader_node.address)
    writer.create(root)
    for round_ in range(20):
        written = writer.set(root, str(round_).encode())
        reader.sync(root)
        assert reader.get(root) == (str(round_).encode(), written)


def test_every_server_holds_the_same_stat(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    writer = connect(ensemble.connect_string)
    writer.create(root, b"same everywhere")
    writer.create(f"{root}/child")
    readers: list[KazooClient] = [connect(node.address) for node in ensemble.nodes]
    for reader in readers:
        reader.sync(root)
    answers = [(reader.get(root), reader.get_children(root)) for reader in readers]
    assert answers == [answers[0]] * len(readers)
