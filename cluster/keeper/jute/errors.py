"""The one exception for bytes that are not the jute message they claim to be.

A server reading from a socket must be able to drop a bad connection without
guessing which exception a decoder leaks (IndexError, struct.error,
UnicodeDecodeError, MemoryError): every malformed frame, header or record
raises JuteError, and it names the field where decoding stopped.
"""

from __future__ import annotations


class JuteError(ValueError):
    """Malformed or unencodable jute.

    `path` is where it happened, e.g. ["CreateRequest", "acl", "[0]", "id", "scheme"].
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []

    def inside(self, name: str) -> JuteError:
        """Adds the enclosing field or record to the path while the error travels outwards."""
        self.path.insert(0, name)
        return self

    def __str__(self) -> str:
        if not self.path:
            return self.reason
        where = "".join(part if part.startswith("[") else f".{part}" for part in self.path).lstrip(".")
        return f"malformed {where}: {self.reason}"


class UnsupportedOperation(JuteError):
    """A well-framed request whose op code this codec does not read.

    ZooKeeper answers these with UNIMPLEMENTED rather than dropping the
    connection, so the header comes along for the reply.
    """

    def __init__(self, xid: int, op_code: int) -> None:
        super().__init__(f"op code {op_code} is not supported")
        self.xid = xid
        self.op_code = op_code
