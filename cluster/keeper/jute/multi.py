"""Multi requests and responses: a run of (MultiHeader, record) pairs closed by a header with done set.

Neither is a jute record: MultiHeader.type says which record follows, some
types are followed by none (delete and check results), and the run has no
count. The request's headers carry err -1; a response's carry the error
code for an ErrorResponse and 0 otherwise, as ZooKeeper writes them. A
failed transaction is still a reply with err 0: its results are all
ErrorResponses, the failing op's with its own code.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Mapping, NamedTuple

from cluster.keeper.jute.codes import OpCode
from cluster.keeper.jute.errors import JuteError
from cluster.keeper.jute.records import (
    CheckVersionRequest,
    Create2Response,
    CreateRequest,
    CreateResponse,
    CreateTTLRequest,
    DeleteRequest,
    ErrorResponse,
    GetChildrenRequest,
    GetChildrenResponse,
    GetDataRequest,
    GetDataResponse,
    MultiHeader,
    SetDataRequest,
    SetDataResponse,
)
from cluster.keeper.jute.wire import Reader, jute_type


class MultiOp(NamedTuple):
    """One entry of a multi: its op code and the record that follows its header (None where none does)."""

    type: int
    record: Any


_HEADER = jute_type(MultiHeader)
_END = MultiHeader(-1, True, -1)

MULTI_OPS: Mapping[int, type | None] = {
    OpCode.CREATE: CreateRequest,
    OpCode.CREATE2: CreateRequest,
    OpCode.CREATE_CONTAINER: CreateRequest,
    OpCode.CREATE_TTL: CreateTTLRequest,
    OpCode.DELETE: DeleteRequest,
    OpCode.SET_DATA: SetDataRequest,
    OpCode.CHECK: CheckVersionRequest,
    OpCode.GET_CHILDREN: GetChildrenRequest,
    OpCode.GET_DATA: GetDataRequest,
}
"""What may follow a header in a multi (write ops) or multiRead (reads) request."""

MULTI_RESULTS: Mapping[int, type | None] = {
    OpCode.CREATE: CreateResponse,
    OpCode.CREATE2: Create2Response,
    OpCode.DELETE: None,
    OpCode.SET_DATA: SetDataResponse,
    OpCode.CHECK: None,
    OpCode.GET_CHILDREN: GetChildrenResponse,
    OpCode.GET_DATA: GetDataResponse,
    OpCode.ERROR: ErrorResponse,
}
"""What follows a header in a multi response."""


class MultiRun:
    """One direction's codec: which record each op code brings, and what err its headers carry."""

    min_size = _HEADER.min_size

    def __init__(self, cls: type, records: Mapping[int, type | None], header_err: Callable[[Any], int]) -> None:
        self.cls = cls
        self.field = dataclasses.fields(cls)[0].name
        self.records = records
        self.header_err = header_err

    def read(self, reader: Reader) -> Any:
        ops: list[MultiOp] = []
        while True:
            try:
                header = _HEADER.read(reader)
                if header.done:
                    return self.cls(ops)
                ops.append(MultiOp(header.type, self._read_record(header.type, reader)))
            except JuteError as error:
                raise error.inside(f"{self.field}[{len(ops)}]") from None

    def _read_record(self, op_type: int, reader: Reader) -> Any:
        cls = self._record_class(op_type)
        return None if cls is None else jute_type(cls).read(reader)

    def write(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, self.cls):
            raise JuteError(f"{type(value).__name__} given, expected {self.cls.__name__}")
        for index, (op_type, record) in enumerate(getattr(value, self.field)):
            try:
                self._write_op(op_type, record, out)
            except JuteError as error:
                raise error.inside(f"{self.field}[{index}]") from None
        _HEADER.write(_END, out)

    def _write_op(self, op_type: int, record: Any, out: bytearray) -> None:
        cls = self._record_class(op_type)
        if cls is None and record is not None:
            raise JuteError(f"op code {op_type} carries no record, {type(record).__name__} given")
        _HEADER.write(MultiHeader(op_type, False, self.header_err(record)), out)
        if cls is not None:
            jute_type(cls).write(record, out)

    def _record_class(self, op_type: int) -> type | None:
        if op_type not in self.records:
            raise JuteError(f"op code {op_type} cannot appear in a {self.cls.__name__}")
        return self.records[op_type]


@dataclasses.dataclass(frozen=True, slots=True)
class MultiRequest:
    """The body of a multi (14) or multiRead (22) request."""

    ops: list[MultiOp]
    __jute__: ClassVar[MultiRun]


@dataclasses.dataclass(frozen=True, slots=True)
class MultiResponse:
    """The body of a multi or multiRead reply: one result per op, in order."""

    results: list[MultiOp]
    __jute__: ClassVar[MultiRun]


def _result_err(record: Any) -> int:
    """An error result's header repeats its code; every other result's says 0."""
    return record.err if isinstance(record, ErrorResponse) else 0


MultiRequest.__jute__ = MultiRun(MultiRequest, MULTI_OPS, lambda record: -1)
MultiResponse.__jute__ = MultiRun(MultiResponse, MULTI_RESULTS, _result_err)
