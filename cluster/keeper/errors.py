"""The exception that carries one of ZooKeeper's result codes through prepare and reads.

The codes themselves are the jute layer's (`cluster.keeper.jute.codes.ErrorCode`):
clients map those exact numbers to their exceptions.
"""

from __future__ import annotations

from cluster.keeper.jute.codes import ErrorCode

__all__ = ["ErrorCode", "KeeperError"]


class KeeperError(Exception):
    """A request that ZooKeeper would refuse with `code`."""

    def __init__(self, code: ErrorCode, path: str = "") -> None:
        super().__init__(f"{code.name} {path}".strip())
        self.code = code
        self.path = path
