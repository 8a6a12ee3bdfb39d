"""ZooKeeper's client-facing records, declared field for field as zookeeper.jute has them.

Field order is the wire order; names are Python's spelling of jute's.
Buffers, ustrings and vectors may arrive null (None): kazoo, for one, sends
an empty string as a null ustring, and a Java server answers a null path with
an error reply rather than a dropped connection, so the server must see it.
"""

from __future__ import annotations

from typing import Annotated

from cluster.keeper.jute.wire import (
    Bool,
    Bytes,
    Int,
    Long,
    OptionalTrailingBool,
    UString,
    UStrings,
    VectorOf,
    jute_type,
    record,
)


@record
class Id:
    scheme: UString
    id: UString


@record
class ACL:
    perms: Int
    id: Id


ACLs = Annotated[list[ACL] | None, VectorOf(jute_type(ACL))]


@record
class Stat:
    czxid: Long
    mzxid: Long
    ctime: Long
    mtime: Long
    version: Int
    cversion: Int
    aversion: Int
    ephemeral_owner: Long
    data_length: Int
    num_children: Int
    pzxid: Long


@record
class ConnectRequest:
    """The first frame on a connection, with no RequestHeader before it.

    `read_only` is None when an old client sent no flag: such a client must
    get a ConnectResponse without one.
    """

    protocol_version: Int
    last_zxid_seen: Long
    time_out: Int
    session_id: Long
    passwd: Bytes
    read_only: OptionalTrailingBool = None


@record
class ConnectResponse:
    protocol_version: Int
    time_out: Int
    session_id: Long
    passwd: Bytes
    read_only: OptionalTrailingBool = None


@record
class RequestHeader:
    xid: Int
    type: Int


@record
class ReplyHeader:
    xid: Int
    zxid: Long
    err: Int


@record
class MultiHeader:
    type: Int
    done: Bool
    err: Int


@record
class AuthPacket:
    type: Int
    scheme: UString
    auth: Bytes


@record
class WatcherEvent:
    type: Int
    state: Int
    path: UString


@record
class ErrorResponse:
    err: Int


@record
class CreateRequest:
    path: UString
    data: Bytes
    acl: ACLs
    flags: Int


@record
class CreateTTLRequest:
    path: UString
    data: Bytes
    acl: ACLs
    flags: Int
    ttl: Long


@record
class CreateResponse:
    path: UString


@record
class Create2Response:
    path: UString
    stat: Stat


@record
class DeleteRequest:
    path: UString
    version: Int


@record
class ExistsRequest:
    path: UString
    watch: Bool


@record
class ExistsResponse:
    stat: Stat


@record
class GetDataRequest:
    path: UString
    watch: Bool


@record
class GetDataResponse:
    data: Bytes
    stat: Stat


@record
class SetDataRequest:
    path: UString
    data: Bytes
    version: Int


@record
class SetDataResponse:
    stat: Stat


@record
class GetACLRequest:
    path: UString


@record
class GetACLResponse:
    acl: ACLs
    stat: Stat


@record
class SetACLRequest:
    path: UString
    acl: ACLs
    version: Int


@record
class SetACLResponse:
    stat: Stat


@record
class GetChildrenRequest:
    path: UString
    watch: Bool


@record
class GetChildrenResponse:
    children: UStrings


@record
class GetChildren2Request:
    path: UString
    watch: Bool


@record
class GetChildren2Response:
    children: UStrings
    stat: Stat


@record
class SyncRequest:
    path: UString


@record
class SyncResponse:
    path: UString


@record
class CheckVersionRequest:
    path: UString
    version: Int


@record
class ReconfigRequest:
    joining_servers: UString
    leaving_servers: UString
    new_members: UString
    cur_config_id: Long


@record
class SetWatches:
    relative_zxid: Long
    data_watches: UStrings
    exist_watches: UStrings
    child_watches: UStrings


@record
class SetWatches2:
    relative_zxid: Long
    data_watches: UStrings
    exist_watches: UStrings
    child_watches: UStrings
    persistent_watches: UStrings
    persistent_recursive_watches: UStrings


@record
class CheckWatchesRequest:
    path: UString
    type: Int


@record
class RemoveWatchesRequest:
    path: UString
    type: Int


@record
class AddWatchRequest:
    path: UString
    mode: Int


@record
class GetEphemeralsRequest:
    prefix_path: UString


@record
class GetEphemeralsResponse:
    ephemerals: UStrings


@record
class GetAllChildrenNumberRequest:
    path: UString


@record
class GetAllChildrenNumberResponse:
    total_number: Int


@record
class GetSASLRequest:
    token: Bytes


@record
class SetSASLResponse:
    token: Bytes


@record
class ClientInfo:
    auth_scheme: UString
    user: UString


@record
class WhoAmIResponse:
    client_info: Annotated[list[ClientInfo] | None, VectorOf(jute_type(ClientInfo))]
