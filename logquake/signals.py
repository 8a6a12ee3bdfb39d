"""Ctrl-C held off while a cluster is brought down: an interrupted teardown would leave nodes behind."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT is ignored inside the block (only the main thread can change signal handlers; elsewhere, nothing)."""
    previous = (signal.signal(signal.SIGINT, signal.SIG_IGN)
                if threading.current_thread() is threading.main_thread() else None)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
