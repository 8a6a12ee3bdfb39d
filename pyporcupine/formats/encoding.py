"""Turn Jepsen-style records into the inputs and outputs of a shipped model.

Each model names the `f`s it understands and how an invocation value and an `ok` result become
its input and output. Common to all: an unknown outcome (`info`) has output UNKNOWN; a failed
CAS is a CAS that returned false (only jepsen-log keeps failures: the other formats drop them).
A read whose result is unknown constrains nothing and changes nothing, so it is left out: kept,
it would only multiply the search, since it could go anywhere after its call.

What each model reads (`value` of the invoke -> `value` of the ok completion):
  register, cas-register  read: null -> the value read (null: never written)
                          write: v -> (ignored)
                          cas: [expected, new] -> (ignored; ok = swapped, fail = dropped in jsonl)
                          With a `key` field on every record, each key is its own register.
  kv                      get: null -> the string read ("" or null: the key is absent)
                          put, append: a string -> (ignored). Every record needs a `key`.
  log                     append: the message -> the offset it was written at (an int >= 0)
                          read: the offset to read -> the message there, or null if the log is
                          not that long yet. `key` names the topic-partition (optional: one log).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from pyporcupine.formats.records import JepsenOp
from pyporcupine.history import MalformedHistory, Operation
from pyporcupine.model import Model
from pyporcupine.models import UNKNOWN, CasRegisterModel, Independent, KvModel, LogModel, RegisterModel

Encoder = Callable[[JepsenOp], tuple[tuple, Any]]
"""(record) -> (model input, model output for an ok completion)."""


def _register_read(op: JepsenOp) -> tuple[tuple, Any]:
    return ("read",), op.result


def _register_write(op: JepsenOp) -> tuple[tuple, Any]:
    return ("write", op.value), None


def _cas(op: JepsenOp) -> tuple[tuple, Any]:
    if not (isinstance(op.value, (tuple, list)) and len(op.value) == 2):
        raise MalformedHistory(f"{op.where}: a cas value must be [expected, new], not {op.value!r}")
    return ("cas", op.value[0], op.value[1]), op.type == "ok"


def _kv_get(op: JepsenOp) -> tuple[tuple, Any]:
    result = "" if op.result is None else op.result
    if not isinstance(result, str):
        raise MalformedHistory(f"{op.where}: a get reads a string, not {result!r}")
    return ("get", op.key), result


def _kv_write(op: JepsenOp) -> tuple[tuple, Any]:
    if not isinstance(op.value, str):
        raise MalformedHistory(f"{op.where}: {op.f} takes a string, not {op.value!r}")
    return (op.f, op.key, op.value), None


def _log_append(op: JepsenOp) -> tuple[tuple, Any]:
    if op.type == "ok" and not _is_offset(op.result):
        raise MalformedHistory(f"{op.where}: an append's ok value is its offset (an int >= 0), not {op.result!r}")
    return ("append", op.key, op.value), op.result


def _log_read(op: JepsenOp) -> tuple[tuple, Any]:
    if not _is_offset(op.value):
        raise MalformedHistory(f"{op.where}: a read's value is the offset to read (an int >= 0), not {op.value!r}")
    return ("read", op.key, op.value), op.result


def _is_offset(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class _Keys(enum.Enum):
    REQUIRED = "required"
    """The model's inputs carry the key, and every operation needs one (kv)."""
    OPTIONAL = "optional"
    """The model's inputs carry the key; without one, the key is None (one log)."""
    INDEPENDENT = "independent"
    """With keys, the history is checked as Independent(model), one register per key."""


@dataclass(frozen=True)
class _Encoding:
    model: Callable[[], Model]
    encoders: dict[str, Encoder]
    keys: _Keys
    read: str
    """The f that only observes."""


_REGISTER = {"read": _register_read, "write": _register_write}
_ENCODINGS = {
    "register": _Encoding(RegisterModel, _REGISTER, _Keys.INDEPENDENT, "read"),
    "cas-register": _Encoding(CasRegisterModel, {**_REGISTER, "cas": _cas}, _Keys.INDEPENDENT, "read"),
    "kv": _Encoding(KvModel, {"get": _kv_get, "put": _kv_write, "append": _kv_write}, _Keys.REQUIRED, "get"),
    "log": _Encoding(LogModel, {"append": _log_append, "read": _log_read}, _Keys.OPTIONAL, "read"),
}
MODEL_NAMES = tuple(_ENCODINGS)


def encode(model_name: str, records: list[JepsenOp]) -> tuple[Model, list[Operation]]:
    """The model for `model_name` and the records as its operations.

    Register models become `Independent` per key when the records carry keys (all must, or none).
    """
    encoding = _ENCODINGS[model_name]
    keyless = [op for op in records if op.key is None]
    if encoding.keys is _Keys.REQUIRED and keyless:
        raise MalformedHistory(f"{keyless[0].where}: a {model_name} operation needs a key")
    if encoding.keys is _Keys.INDEPENDENT and 0 < len(keyless) < len(records):
        raise MalformedHistory(f"{keyless[0].where}: an operation without a key in a history with keys: "
                                 "cannot tell which register it is")
    independent = encoding.keys is _Keys.INDEPENDENT and not keyless
    model = Independent(encoding.model()) if independent else encoding.model()
    operations = []
    for op in records:
        encoder = encoding.encoders.get(op.f)
        if encoder is None:
            raise MalformedHistory(f"{op.where}: the {model_name} model has no operation {op.f!r} "
                                     f"(it knows {', '.join(encoding.encoders)})")
        input, output = encoder(op)
        if op.type == "info":
            if op.f == encoding.read:
                continue
            output = UNKNOWN
        operations.append(Operation(op.process, (op.key, input) if independent else input,
                                    op.call, output, op.return_time))
    return model, operations
