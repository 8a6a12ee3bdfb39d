"""pyporcupine: Porcupine's linearizability checker in Python, with a compiled search for its built-in models.

Wing & Gong's search with Lowe's cache and P-compositionality (histories split by key and the
parts searched side by side), bounded in time and memory, with the models a Kafka-like system
needs and a self-contained HTML view of each check.

    from pyporcupine import CheckResult, Operation, check_operations
    from pyporcupine.models import UNKNOWN, CasRegisterModel

    history = [
        Operation(client_id=0, input=("write", 1), call=0, output=None, return_time=10),
        Operation(client_id=1, input=("read",), call=5, output=1, return_time=15),
        Operation(client_id=2, input=("cas", 1, 2), call=12, output=UNKNOWN, return_time=None),
    ]
    assert check_operations(CasRegisterModel(), history, timeout=10) is CheckResult.OK

An operation's interval [call, return_time] is closed; `return_time=None` means its outcome is
unknown (it may take effect any time after its call, or never). Times are any comparable
numbers, e.g. time.monotonic_ns() taken before sending and after the reply.
"""

from pyporcupine.checker import (
    DEFAULT_MEMORY_LIMIT,
    CheckResult,
    LinearizationInfo,
    PartitionInfo,
    check_events,
    check_events_verbose,
    check_operations,
    check_operations_verbose,
)
from pyporcupine.history import Event, EventKind, MalformedHistory, Operation
from pyporcupine.model import Model, NondeterministicModel

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "CheckResult",
    "Event",
    "EventKind",
    "MalformedHistory",
    "LinearizationInfo",
    "Model",
    "NondeterministicModel",
    "Operation",
    "PartitionInfo",
    "check_events",
    "check_events_verbose",
    "check_operations",
    "check_operations_verbose",
]
