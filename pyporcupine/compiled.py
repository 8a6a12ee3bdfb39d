"""The compiled search (native/porcupine_search, Rust) for the built-in models, and their operations
numbered for it.

The compiled walk is search.py's walk move for move, so verdicts and partial linearizations are the
same whichever runs; what it needs is a model it can step without Python. The registers' values
are numbered here with a dict, so Python's equality (and hashing) still decides which values are
the same, and the string store's strings are copied as they are. A model that is not exactly one
of these classes (a subclass may step differently), or a history whose values cannot be numbered
(unhashable, or unequal to themselves, like NaN), are not strings or ints where the model expects
them, ints beyond 64 bits or strings with lone surrogates, gets None: the Python walk then searches it.
"""

from __future__ import annotations

from typing import Any, Hashable, Sequence

from pyporcupine import search_core
from pyporcupine.history import Operation
from pyporcupine.model import Model
from pyporcupine.models import UNKNOWN, CasRegisterModel, Independent, KvModel, LogModel, RegisterModel

EntryLists = tuple[list[int], list[int], list[int], list[int], list[int], list[int]]
"""The entry list's next, previous, matching return, operation, follower and original previous."""


class _NotCompilable(Exception):
    """A value the compiled models cannot stand for."""


def compiled_search(model: Model, operations: Sequence[Operation], entries: EntryLists,
                    keep_longest: bool) -> search_core.Search | None:
    """The compiled search of this partition, or None if its model or values need Python."""
    inner, inputs = model, [op.input for op in operations]
    if type(model) is Independent:
        inner, inputs = model.model, [input[1] for input in inputs]
    outputs = [op.output for op in operations]
    try:
        if type(inner) in (RegisterModel, CasRegisterModel):
            return _register_search(inner, inputs, outputs, entries, keep_longest)
        if type(inner) is KvModel:
            return _kv_search(inputs, outputs, entries, keep_longest)
        if type(inner) is LogModel:
            return _log_search(inputs, outputs, entries, keep_longest)
    except (_NotCompilable, OverflowError, UnicodeEncodeError):
        pass
    return None


def _register_search(model: RegisterModel, inputs: list[Any], outputs: list[Any], entries: EntryLists,
                     keep_longest: bool) -> search_core.Search:
    """RegisterModel reads ("read") and writes (anything else); CasRegisterModel reads, writes and
    compare-and-sets (anything else). Values are numbered in order of appearance, equal ones alike."""
    numbers: dict[Hashable, int] = {model.initial: 0} if _numberable(model.initial) else {}
    number = numbers.setdefault
    read, write, cas, unknown = search_core.READ, search_core.WRITE, search_core.CAS, search_core.UNKNOWN_VALUE
    swapped, failed = search_core.CAS_SWAPPED, search_core.CAS_FAILED
    with_cas = type(model) is CasRegisterModel
    f, a, b, out = [], [], [], []
    try:
        for input, output in zip(inputs, outputs):
            name = input[0]
            if name == "read":
                f.append(read)
                a.append(0)
                b.append(0)
                out.append(unknown if output is UNKNOWN else number(output, len(numbers)))
            elif name == "write" or not with_cas:
                f.append(write)
                a.append(number(input[1], len(numbers)))
                b.append(0)
                out.append(0)
            else:
                f.append(cas)
                a.append(number(input[1], len(numbers)))
                b.append(number(input[2], len(numbers)))
                out.append(swapped if output is True else failed if output is False else unknown)
    except TypeError:
        raise _NotCompilable from None
    if not numbers or not all(_numberable(value) for value in numbers):
        raise _NotCompilable
    return search_core.Search.register(entries, 0, f, a, b, out, keep_longest)


def _numberable(value: Any) -> bool:
    """Hashable and equal to itself (NaN is not), so a number can stand for it."""
    try:
        hash(value)
    except TypeError:
        return False
    return value == value


def _kv_search(inputs: list[Any], outputs: list[Any], entries: EntryLists, keep_longest: bool) -> search_core.Search:
    """get compares its output with the string; put replaces it; anything else appends."""
    f, arg, unknown = [], [], []
    for input, output in zip(inputs, outputs):
        name = input[0]
        code = search_core.GET if name == "get" else search_core.PUT if name == "put" else search_core.APPEND
        is_get = code == search_core.GET
        value = output if is_get else input[2]
        f.append(code)
        unknown.append(is_get and output is UNKNOWN)
        if unknown[-1]:
            value = ""
        if type(value) is not str:
            raise _NotCompilable
        arg.append(value)
    return search_core.Search.kv(entries, f, arg, unknown, keep_longest)


_NEVER_AN_OFFSET = -2
"""An append's output that equals no log's length."""


def _log_search(inputs: list[Any], outputs: list[Any], entries: EntryLists, keep_longest: bool) -> search_core.Search:
    """append checks the offset it got (an int, or unknown); anything else reads an int offset and gets
    a value, None past the end. Values are numbered as the registers' are, None first."""
    numbers: dict[Hashable, int] = {None: 0}
    number = numbers.setdefault
    f, a, out = [], [], []
    try:
        for input, output in zip(inputs, outputs):
            if input[0] == "append":
                f.append(search_core.APPEND)
                a.append(number(input[2], len(numbers)))
                if output is UNKNOWN:
                    out.append(search_core.UNKNOWN_VALUE)
                elif type(output) is int:
                    out.append(output if output >= 0 else _NEVER_AN_OFFSET)
                else:
                    raise _NotCompilable
            else:
                if type(input[2]) is not int:
                    raise _NotCompilable
                f.append(search_core.READ)
                a.append(input[2])
                out.append(search_core.UNKNOWN_VALUE if output is UNKNOWN else number(output, len(numbers)))
    except TypeError:
        raise _NotCompilable from None
    if not all(_numberable(value) for value in numbers):
        raise _NotCompilable
    return search_core.Search.log(entries, f, a, out, 0, keep_longest)

