"""What a broker does when its log dir fails: it halts (Kafka's LogDirFailureChannel, one log dir).

Kafka takes a log dir that met an I/O error offline, stops serving its partitions, and halts the
broker with exit code 1 once every log dir has failed, after logging "Shutdown broker because all
log dirs in ... have failed". This broker has one log dir (`log.dirs`), so an I/O error other than
a full disk halts it at once, from whatever was writing or reading: a produce, a follower's
append, the flush task, a checkpoint. Every log operation runs on the event loop's one thread,
so halting there means no request after it runs: nothing a failed write may have torn is served
and the produce that met the error is never answered. The keeper then drops the broker's session
and the controller moves its leaderships; at the next start every batch is checked and the log
cut where it was torn. A full disk is not a failure: the operation is undone and refused
(LogDirFullError, KAFKA_STORAGE_ERROR to clients), and writes work again once space returns.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from cluster.broker.log.errors import LogDirFailedError, storage_error

EXIT_CODE = 1

_log = logging.getLogger(__name__)


class LogDirFailure:
    def __init__(self, log_dir: Path, halt: Callable[[int], object] = os._exit) -> None:
        """`halt` ends the process without unwinding (os._exit, as Kafka's Exit.halt): cleanup
        code would flush and close files on a disk that just failed."""
        self.log_dir = log_dir
        self._halt = halt

    def __call__(self, failure: LogDirFailedError) -> None:
        _log.error("Error while %s in %s: %s; log dir %s is offline", failure.doing, failure.directory,
                   failure.error.strerror or failure.error, self.log_dir)
        _log.critical("Shutdown broker because all log dirs in %s have failed", self.log_dir)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        self._halt(EXIT_CODE)

    @contextmanager
    def guarding(self, doing: str, path: Path) -> Iterator[None]:
        """The same reactions for the broker's own files in the log dir (partition directories, topic
        configs, producer ids): a full disk raises LogDirFullError, any other OSError halts."""
        try:
            yield
        except OSError as error:
            failure = storage_error(path, doing, error)
            if isinstance(failure, LogDirFailedError):
                self(failure)
            raise failure from error
