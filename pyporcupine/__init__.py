"""pyporcupine: Porcupine's linearizability checker (Wing & Gong search, Lowe's cache,
P-compositionality) in pure Python, with models and an HTML visualization.

    from pyporcupine import Operation, check_operations, CheckResult
    from pyporcupine.models import CasRegisterModel

    result = check_operations(CasRegisterModel(), history, timeout=10)
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
from pyporcupine.history import Event, EventKind, HistoryError, Operation
from pyporcupine.model import Model, NondeterministicModel

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "CheckResult",
    "Event",
    "EventKind",
    "HistoryError",
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
