"""The register client: one kazoo session per process, reading and writing one znode per key.

A znode's data is the register's value as decimal text; an absent znode, or empty data, is the
register's initial "nothing" (null). What each op does, so that the history says exactly that:
- read: optionally `sync` first, then `get`. A read that returns nothing changed nothing: `fail`.
- write: `set` (unconditional); the key's first write finds no znode and `create`s it instead
  (if another client created it meanwhile, `set` again). Exactly one of these requests can have
  written the value, so the write is one atomic step.
- cas(from, to): `get`, then, if it read `from`, `set` conditional on the version it read. The
  version makes the set fail (BadVersion) if anything was written since the read, so a cas that
  succeeds held `from` right up to its write; one that did not write is a `fail` whatever the
  reason (and the checker learns nothing from it).
A request that was sent but whose answer never came (a timeout, a lost connection, an expired
session) may or may not have taken effect: `info`, never `fail`, for the writes. Connecting is
retried (it cannot hide an outcome); requests never are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError, NoNodeError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.retry import KazooRetry

from harness.seams import Completion, failed, ok, unknown

ROOT = "/logquake/register"
SESSION_TIMEOUT = 10.0
NO_ANSWER = (KazooException, KazooTimeoutError)
"""What a request raises when its answer did not come: a lost connection or session, or our own deadline."""
_log = logging.getLogger(__name__)


def path_of(key: Any) -> str:
    return f"{ROOT}/{key}"


def encode(value: int) -> bytes:
    return str(value).encode()


def decode(data: bytes) -> int | str | None:
    """Decimal text as an int; empty data is the register's initial null; anything else is kept as text."""
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    try:
        return int(text)
    except ValueError:
        return text


def connect(hosts: str, timeout: float) -> KazooClient:
    """A started kazoo client; reconnections (never requests) are retried for as long as it lives."""
    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT, logger=_log,
                         connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1))
    try:
        client.start(timeout=timeout)
    except BaseException:
        _close(client)
        raise
    return client


class RegisterClient:
    def __init__(self, hosts: str, op_timeout: float, sync_reads: bool) -> None:
        self.op_timeout = op_timeout
        self.sync_reads = sync_reads
        self._kazoo = connect(hosts, op_timeout)

    def invoke(self, op: dict[str, Any]) -> Completion:
        handlers: dict[str, Callable[[Any, Any], Completion]] = {"read": self.read, "write": self.write,
                                                                 "cas": self.cas}
        handler = handlers.get(op["f"])
        if handler is None:
            return failed(f"the register client has no operation {op['f']!r}")
        return handler(op["value"]["key"], op["value"]["value"])

    def read(self, key: Any, _value: None) -> Completion:
        path = path_of(key)
        try:
            if self.sync_reads:
                self._await(self._kazoo.sync_async(path))
            data, _stat = self._await(self._kazoo.get_async(path))
        except NoNodeError:
            return ok({"key": key, "value": None})
        except NO_ANSWER as error:
            return failed(f"read nothing: {_name(error)}")
        return ok({"key": key, "value": decode(data)})

    def write(self, key: Any, value: int) -> Completion:
        path = path_of(key)
        try:
            try:
                self._await(self._kazoo.set_async(path, encode(value)))
            except NoNodeError:
                try:
                    self._await(self._kazoo.create_async(path, encode(value)))
                except NodeExistsError:
                    self._await(self._kazoo.set_async(path, encode(value)))
        except NO_ANSWER as error:
            return unknown(_name(error))
        return ok({"key": key, "value": value})

    def cas(self, key: Any, value: list[int]) -> Completion:
        expected, new = value
        path = path_of(key)
        try:
            data, stat = self._await(self._kazoo.get_async(path))
        except NoNodeError:
            return failed(f"not written: the register is empty, not {expected}")
        except NO_ANSWER as error:
            return failed(f"not written: the read before the write failed: {_name(error)}")
        if decode(data) != expected:
            return failed(f"not written: read {decode(data)!r}, not {expected}")
        try:
            self._await(self._kazoo.set_async(path, encode(new), version=stat.version))
        except BadVersionError:
            return failed(f"not written: version {stat.version} (which held {expected}) was no longer current")
        except NO_ANSWER as error:
            return unknown(_name(error))
        return ok({"key": key, "value": value})

    def _await(self, result: Any) -> Any:
        return result.get(timeout=self.op_timeout)

    def close(self) -> None:
        _close(self._kazoo)


def _close(client: KazooClient) -> None:
    """Stop the session's thread, whatever state the connection is in."""
    try:
        client.stop()
    finally:
        client.close()


def _name(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
