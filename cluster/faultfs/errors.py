"""The one error of the fault filesystem's interface."""

from __future__ import annotations


class FaultFSError(RuntimeError):
    """A mount, unmount or control request failed; the message says why."""
