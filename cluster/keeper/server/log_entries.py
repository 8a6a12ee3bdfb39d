"""What keeper puts in a Raft log entry: a txn, and which client request (if any) it answers.

Every server applies every entry, but only the server holding the requesting
client's connection answers it: the request id says which server that is and
which of its requests this is. Expiries the leader proposes answer nobody.
"""

from __future__ import annotations

import struct

from cluster.keeper.server.peer_messages import RequestId
from cluster.keeper.transactions import Txn, decode_txn, encode_txn

_HEADER = struct.Struct(">IQQ")  # origin server (0: nobody), incarnation, request number
_NOBODY = RequestId(0, 0, 0)


def encode_entry(txn: Txn, request: RequestId | None) -> bytes:
    request = request or _NOBODY
    return _HEADER.pack(request.origin, request.incarnation, request.number) + encode_txn(txn)


def decode_entry(data: bytes) -> tuple[Txn, RequestId | None]:
    origin, incarnation, number = _HEADER.unpack_from(data)
    request = RequestId(origin, incarnation, number) if origin else None
    return decode_txn(data[_HEADER.size :]), request
