"""Checks a simulated client history for linearizability with pyporcupine, one register per key.

Failed operations are left out (they definitely did not happen); writes with unknown outcome stay
open to the end of the history (they may or may not have happened); reads with unknown outcome
say nothing and are left out.
"""

from __future__ import annotations

from pyporcupine import CheckResult, Operation, check_operations_verbose
from pyporcupine.models import UNKNOWN, Independent, RegisterModel

from cluster.sim.raft.kv_client import OK, History, HistoryOp

_MODEL = Independent(RegisterModel())


def _operation(op: HistoryOp) -> Operation | None:
    if op.kind == "get":
        if op.outcome != OK:
            return None
        return Operation(op.process, (op.key, ("read",)), op.call, op.value, op.ret)
    if op.outcome == OK:
        return Operation(op.process, (op.key, ("write", op.value)), op.call, None, op.ret)
    if op.outcome is None or op.outcome == "info":
        return Operation(op.process, (op.key, ("write", op.value)), op.call, UNKNOWN, None)
    return None


def check_kv_history(history: History) -> str | None:
    """Why the history is not linearizable, or None when it is."""
    operations = [operation for op in history.ops if (operation := _operation(op)) is not None]
    result, info = check_operations_verbose(_MODEL, operations)
    if result is CheckResult.OK:
        return None
    for partition in info.partitions:
        if partition.result is not CheckResult.OK:
            key = partition.operations[0].input[0]
            shown = ", ".join(
                f"p{o.client_id} {_MODEL.describe_operation(o.input, o.output)} [{o.call}, {o.return_time}]"
                for o in partition.operations[:12]
            )
            return (
                f"{result.value} on key {key}: {len(partition.operations)} operations, the longest linearizable "
                f"prefix has {len(partition.longest_linearization())}; first operations: {shown}"
            )
    return f"{result.value}"
