"""Between jute records and keeper's requests and results: which ops are writes, how to answer each.

Writes become `cluster.keeper.requests` values for the leader's Preparer; their
`Applied` results become reply frames. Reads run against a `Reader` and become
reply frames at once. A request keeper does not implement gets UNIMPLEMENTED;
a null path, which a Java server answers with an error, gets BADARGUMENTS.
"""

from __future__ import annotations

from typing import Any, Hashable

from cluster.keeper.errors import ErrorCode, KeeperError
from cluster.keeper.jute import CreateMode, MultiOp, MultiRequest, MultiResponse, OpCode, encode_reply
from cluster.keeper.jute import records as jr
from cluster.keeper.reads import Reader
from cluster.keeper.replica import Applied, Created, OpResult, SessionCreated
from cluster.keeper.requests import Check, CloseSession, Create, Delete, Multi, MultiRequestOp, SetData, WriteRequest
from cluster.keeper.tree import Stat

WRITE_OPS = frozenset({OpCode.CREATE, OpCode.CREATE2, OpCode.DELETE, OpCode.SET_DATA, OpCode.MULTI,
                       OpCode.CLOSE_SESSION})
READ_OPS = frozenset({OpCode.EXISTS, OpCode.GET_DATA, OpCode.GET_CHILDREN, OpCode.GET_CHILDREN2, OpCode.GET_ACL,
                      OpCode.MULTI_READ})
_CREATE_MODES = {
    CreateMode.PERSISTENT: (False, False),
    CreateMode.EPHEMERAL: (True, False),
    CreateMode.PERSISTENT_SEQUENTIAL: (False, True),
    CreateMode.EPHEMERAL_SEQUENTIAL: (True, True),
}
OPEN_ACL = [jr.ACL(31, jr.Id("world", "anyone"))]
"""What getACL reports for every node: keeper has no ACLs, so everyone may do everything."""


def write_request(op: int, record: Any) -> WriteRequest:
    """The request a jute write asks for; KeeperError for what keeper refuses before the log, an op that
    is no write included (a follower forwards only writes, but a peer's forward is read as it comes)."""
    if op not in WRITE_OPS:
        raise KeeperError(ErrorCode.UNIMPLEMENTED)
    if op == OpCode.CLOSE_SESSION:
        return CloseSession()
    if op == OpCode.MULTI:
        return Multi(tuple(_multi_op(item.type, item.record) for item in record.ops))
    return _single_op(op, record)


def _single_op(op: int, record: Any) -> MultiRequestOp:
    path = _path(record.path)
    if op in (OpCode.CREATE, OpCode.CREATE2):
        if record.flags not in _CREATE_MODES:
            raise KeeperError(ErrorCode.UNIMPLEMENTED, path)
        ephemeral, sequential = _CREATE_MODES[record.flags]
        return Create(path, record.data or b"", ephemeral, sequential)
    if op == OpCode.DELETE:
        return Delete(path, record.version)
    if op == OpCode.SET_DATA:
        return SetData(path, record.data or b"", record.version)
    if op == OpCode.CHECK:
        return Check(path, record.version)
    raise KeeperError(ErrorCode.UNIMPLEMENTED, path)


def _multi_op(op: int, record: Any) -> MultiRequestOp:
    if op not in (OpCode.CREATE, OpCode.CREATE2, OpCode.DELETE, OpCode.SET_DATA, OpCode.CHECK):
        raise KeeperError(ErrorCode.UNIMPLEMENTED)
    return _single_op(op, record)


def _path(path: str | None) -> str:
    if path is None:
        raise KeeperError(ErrorCode.BADARGUMENTS)
    return path


def write_reply(xid: int, op: int, record: Any, applied: Applied) -> bytes:
    result = applied.result
    if isinstance(result, ErrorCode) and result is not ErrorCode.OK:
        return encode_reply(xid, applied.zxid, result)
    if op == OpCode.MULTI:
        assert isinstance(result, tuple)
        return encode_reply(xid, applied.zxid, 0, _multi_response(record, result))
    if op in (OpCode.CREATE, OpCode.CREATE2):
        assert isinstance(result, Created)
        return encode_reply(xid, applied.zxid, 0, _created(op, result))
    if op == OpCode.SET_DATA:
        assert isinstance(result, Stat)
        return encode_reply(xid, applied.zxid, 0, jr.SetDataResponse(jute_stat(result)))
    return encode_reply(xid, applied.zxid, 0)


def _created(op: int, created: Created) -> Any:
    if op == OpCode.CREATE2:
        return jr.Create2Response(created.path, jute_stat(created.stat))
    return jr.CreateResponse(created.path)


def _multi_response(request: MultiRequest, results: tuple[OpResult, ...]) -> MultiResponse:
    """A failed multi (some code other than OK) answers every op with an ErrorResponse."""
    if any(isinstance(r, ErrorCode) and r is not ErrorCode.OK for r in results):
        return MultiResponse([MultiOp(OpCode.ERROR, jr.ErrorResponse(int(r))) for r in results])  # type: ignore[arg-type]
    answers = []
    for item, result in zip(request.ops, results):
        if isinstance(result, Created):
            answers.append(MultiOp(item.type, _created(item.type, result)))
        elif isinstance(result, Stat):
            answers.append(MultiOp(OpCode.SET_DATA, jr.SetDataResponse(jute_stat(result))))
        else:
            answers.append(MultiOp(item.type, None))
    return MultiResponse(answers)


def session_of(applied: Applied) -> SessionCreated:
    assert isinstance(applied.result, SessionCreated)
    return applied.result


def read_reply(xid: int, op: int, record: Any, reader: Reader, watcher: Hashable) -> bytes:
    """Runs a read now; a refused read answers with its code and no record, as ZooKeeper does."""
    try:
        if op == OpCode.MULTI_READ:
            results = [_multi_read_result(item.type, item.record, reader) for item in record.ops]
            return encode_reply(xid, reader.last_zxid, 0, MultiResponse(results))
        return encode_reply(xid, reader.last_zxid, 0, _read(op, record, reader, watcher))
    except KeeperError as error:
        return encode_reply(xid, reader.last_zxid, error.code)


def _read(op: int, record: Any, reader: Reader, watcher: Hashable) -> Any:
    path = _path(record.path)
    watch = watcher if getattr(record, "watch", False) else None
    if op == OpCode.EXISTS:
        stat = reader.exists(path, watch).stat
        if stat is None:
            raise KeeperError(ErrorCode.NONODE, path)
        return jr.ExistsResponse(jute_stat(stat))
    if op == OpCode.GET_DATA:
        data = reader.get_data(path, watch)
        return jr.GetDataResponse(data.data, jute_stat(data.stat))
    if op == OpCode.GET_CHILDREN:
        return jr.GetChildrenResponse(_names(reader.get_children(path, watch).children))
    if op == OpCode.GET_CHILDREN2:
        children = reader.get_children(path, watch)
        return jr.GetChildren2Response(_names(children.children), jute_stat(children.stat))
    return jr.GetACLResponse(OPEN_ACL, jute_stat(reader.get_data(path).stat))


def _multi_read_result(op: int, record: Any, reader: Reader) -> MultiOp:
    try:
        if op not in (OpCode.GET_DATA, OpCode.GET_CHILDREN):
            raise KeeperError(ErrorCode.UNIMPLEMENTED)
        if op == OpCode.GET_DATA:
            data = reader.get_data(_path(record.path))
            return MultiOp(op, jr.GetDataResponse(data.data, jute_stat(data.stat)))
        return MultiOp(op, jr.GetChildrenResponse(_names(reader.get_children(_path(record.path)).children)))
    except KeeperError as error:
        return MultiOp(OpCode.ERROR, jr.ErrorResponse(error.code))


def _names(children: list[str]) -> list[str | None]:
    """jute's vector of ustrings may hold nulls; ours never does."""
    return list(children)


def jute_stat(stat: Stat) -> jr.Stat:
    return jr.Stat(stat.czxid, stat.mzxid, stat.ctime, stat.mtime, stat.version, stat.cversion, stat.aversion,
                   stat.ephemeral_owner, stat.data_length, stat.num_children, stat.pzxid)
