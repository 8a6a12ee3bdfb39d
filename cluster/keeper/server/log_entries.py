"""What keeper puts in a Raft log entry: the txns the leader prepared in one loop iteration, each
with the client request (if any) it answers.

Every server applies every txn, but only the server holding the requesting
client's connection answers it: the request id says which server that is and
which of its requests this is. Expiries the leader proposes answer nobody.
Batching txns into one entry makes a burst of writes one Raft entry, one
append per follower and one log record, instead of one of each per write.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from cluster.keeper.server.peer_messages import RequestId
from cluster.keeper.transactions import Txn, decode_txn, encode_txn

_HEADER = struct.Struct(">IIQQ")  # length of the txn bytes, origin server (0: nobody), incarnation, number
_NOBODY = RequestId(0, 0, 0)


def encode_item(txn: Txn, request: RequestId | None) -> bytes:
    """One txn of a batch; an entry's data is its items concatenated."""
    request = request or _NOBODY
    raw = encode_txn(txn)
    return _HEADER.pack(len(raw), request.origin, request.incarnation, request.number) + raw


def decode_entry(data: bytes) -> Iterator[tuple[Txn, RequestId | None]]:
    position = 0
    while position < len(data):
        length, origin, incarnation, number = _HEADER.unpack_from(data, position)
        start = position + _HEADER.size
        position = start + length
        request = RequestId(origin, incarnation, number) if origin else None
        yield decode_txn(data[start:position]), request
