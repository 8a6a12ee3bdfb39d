"""Jute's binary encoding and the declarative records built on it.

Jute has no versions and seven shapes: int, long, boolean, buffer, ustring,
vector and record, all big-endian; buffers, ustrings and vectors carry an
int32 length or count where -1 means null. A record is declared as a frozen
dataclass whose annotations name each field's jute type
(`czxid: Long`, `children: UStrings`), so a declaration reads like
zookeeper.jute and type checkers still see plain ints, strs and lists.

Decoding never trusts a length or a count: each is checked against the bytes
that remain before anything is sliced or allocated, so hostile input costs at
most one pass over the frame and fails with JuteError.
"""

from __future__ import annotations

import dataclasses
import struct
import typing
from typing import Annotated, Any, Callable, Protocol, TypeVar

from cluster.keeper.jute.errors import JuteError

T = TypeVar("T")
BytesLike = bytes | bytearray | memoryview


class Reader:
    """A position in one frame; every read checks that the bytes are there."""

    __slots__ = ("view", "pos")

    def __init__(self, data: BytesLike) -> None:
        self.view = memoryview(data)
        self.pos = 0

    def remaining(self) -> int:
        return len(self.view) - self.pos

    def unpack(self, codec: struct.Struct) -> Any:
        if codec.size > self.remaining():
            raise JuteError(f"truncated: needs {codec.size} bytes, {self.remaining()} left")
        (value,) = codec.unpack_from(self.view, self.pos)
        self.pos += codec.size
        return value

    def take(self, length: int) -> memoryview:
        """The next `length` bytes; callers have checked `length` against remaining()."""
        start = self.pos
        self.pos += length
        return self.view[start : self.pos]

    def expect_end(self) -> None:
        if self.remaining():
            raise JuteError(f"{self.remaining()} bytes left over after the record")


class JuteType(Protocol[T]):
    """What a record needs from a field's type."""

    min_size: int
    """Fewest bytes any value occupies: bounds how many vector elements a frame can hold."""

    def read(self, reader: Reader) -> T: ...

    def write(self, value: T, out: bytearray) -> None: ...


@dataclasses.dataclass(frozen=True)
class Number:
    """A fixed-width signed big-endian integer: jute's int and long."""

    codec: struct.Struct

    @property
    def min_size(self) -> int:
        return self.codec.size

    def read(self, reader: Reader) -> int:
        return reader.unpack(self.codec)

    def write(self, value: int, out: bytearray) -> None:
        try:
            out += self.codec.pack(value)
        except struct.error as error:
            raise JuteError(f"cannot encode {value!r}: {error}") from None


class Boolean:
    """One byte; like Java's DataInput, any non-zero byte reads as true."""

    min_size = 1

    def read(self, reader: Reader) -> bool:
        return reader.unpack(_BYTE) != 0

    def write(self, value: bool, out: bytearray) -> None:
        out.append(1 if value else 0)


class TrailingBoolean:
    """A boolean that older peers omit at the end of a message: absent reads as None and None writes nothing.

    ConnectRequest and ConnectResponse end this way (the readOnly flag), so it
    is only meaningful as a record's last field.
    """

    min_size = 0

    def read(self, reader: Reader) -> bool | None:
        return BOOLEAN.read(reader) if reader.remaining() else None

    def write(self, value: bool | None, out: bytearray) -> None:
        if value is not None:
            BOOLEAN.write(value, out)


def _read_length(reader: Reader, element_size: int, what: str) -> int | None:
    """An int32 length or count: None for -1 (null), else checked against the bytes left."""
    length = INT.read(reader)
    if length == -1:
        return None
    if length < 0:
        raise JuteError(f"invalid {what} {length}")
    if length * element_size > reader.remaining():
        raise JuteError(f"{what} {length} cannot fit the {reader.remaining()} bytes left")
    return length


@dataclasses.dataclass(frozen=True)
class Sized:
    """Bytes after an int32 length: jute's buffer (bytes) and ustring (UTF-8 text)."""

    to_value: Callable[[memoryview], Any]
    to_bytes: Callable[[Any], bytes]
    min_size: int = 4

    def read(self, reader: Reader) -> Any:
        length = _read_length(reader, 1, "length")
        if length is None:
            return None
        try:
            return self.to_value(reader.take(length))
        except UnicodeDecodeError as error:
            raise JuteError(f"not UTF-8: {error.reason}") from None

    def write(self, value: Any, out: bytearray) -> None:
        if value is None:
            out += _NULL
            return
        try:
            data = self.to_bytes(value)
        except (TypeError, UnicodeEncodeError) as error:
            raise JuteError(f"cannot encode {value!r}: {error}") from None
        INT.write(len(data), out)
        out += data


@dataclasses.dataclass(frozen=True)
class VectorOf:
    """An int32 count (-1 for null), then that many elements."""

    element: JuteType[Any]
    min_size: int = 4

    def read(self, reader: Reader) -> list[Any] | None:
        count = _read_length(reader, max(1, self.element.min_size), "count")
        if count is None:
            return None
        read = self.element.read
        items = []
        for index in range(count):
            try:
                items.append(read(reader))
            except JuteError as error:
                raise error.inside(f"[{index}]") from None
        return items

    def write(self, value: list[Any] | None, out: bytearray) -> None:
        if value is None:
            out += _NULL
            return
        INT.write(len(value), out)
        write = self.element.write
        for index, item in enumerate(value):
            try:
                write(item, out)
            except JuteError as error:
                raise error.inside(f"[{index}]") from None


def _buffer_bytes(value: BytesLike) -> bytes:
    return bytes(memoryview(value))


def _utf8_text(view: memoryview) -> str:
    try:
        return str(view, "utf-8")
    except UnicodeDecodeError:
        return _java_text(bytes(view))


def _java_text(data: bytes) -> str:
    """Reads the way ZooKeeper's Java clients write text outside the Basic Multilingual Plane.

    Jute's Java writer encodes each UTF-16 char on its own, so a character
    such as an emoji arrives as two 3-byte surrogates (CESU-8) rather than
    UTF-8's 4 bytes. Joined back into the character the client meant; a lone
    surrogate or any other invalid byte still raises UnicodeDecodeError.
    """
    return data.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _utf8_bytes(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"{type(text).__name__} is not str")
    return text.encode("utf-8")


_BYTE = struct.Struct(">B")
_NULL = struct.pack(">i", -1)
INT = Number(struct.Struct(">i"))
LONG = Number(struct.Struct(">q"))
BOOLEAN = Boolean()
BUFFER = Sized(bytes, _buffer_bytes)
USTRING = Sized(_utf8_text, _utf8_bytes)

Int = Annotated[int, INT]
Long = Annotated[int, LONG]
Bool = Annotated[bool, BOOLEAN]
OptionalTrailingBool = Annotated[bool | None, TrailingBoolean()]
Bytes = Annotated[bytes | None, BUFFER]
UString = Annotated[str | None, USTRING]
UStrings = Annotated[list[str | None] | None, VectorOf(USTRING)]


@dataclasses.dataclass(frozen=True)
class RecordType:
    """A record's fields in wire order; reads build the dataclass, writes read its attributes."""

    cls: type
    fields: tuple[tuple[str, JuteType[Any]], ...]

    @property
    def min_size(self) -> int:
        return sum(field.min_size for _, field in self.fields)

    def read(self, reader: Reader) -> Any:
        values = []
        for name, field in self.fields:
            try:
                values.append(field.read(reader))
            except JuteError as error:
                raise error.inside(name) from None
        return self.cls(*values)

    def write(self, value: Any, out: bytearray) -> None:
        if not isinstance(value, self.cls):
            raise JuteError(f"{type(value).__name__} given, expected {self.cls.__name__}")
        for name, field in self.fields:
            try:
                field.write(getattr(value, name), out)
            except JuteError as error:
                raise error.inside(name) from None


def jute_type(annotation: Any) -> JuteType[Any]:
    """The jute type an annotation names: Annotated aliases carry it, record classes hold it."""
    if typing.get_origin(annotation) is Annotated:
        return annotation.__metadata__[0]
    jute = getattr(annotation, "__jute__", None)
    if jute is None:
        raise TypeError(f"{annotation!r} names no jute type")
    return jute


@typing.dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Makes `cls` a frozen dataclass and compiles its annotations into its wire codec."""
    made: Any = dataclasses.dataclass(frozen=True, slots=True)(cls)
    hints = typing.get_type_hints(made, include_extras=True)
    fields = tuple((f.name, jute_type(hints[f.name])) for f in dataclasses.fields(made))
    made.__jute__ = RecordType(made, fields)
    return made


def encode(value: Any) -> bytes:
    """A record's bytes, without a frame length."""
    jute = getattr(type(value), "__jute__", None)
    if jute is None:
        raise JuteError(f"{type(value).__name__} is not a jute record")
    out = bytearray()
    try:
        jute.write(value, out)
    except JuteError as error:
        raise error.inside(type(value).__name__) from None
    return bytes(out)


def decode(cls: type[T], data: BytesLike) -> T:
    """Reads exactly one `cls` from `data`; bytes left over are an error, as a short read is."""
    reader = Reader(data)
    try:
        value = cls.__jute__.read(reader)  # type: ignore[attr-defined]
        reader.expect_end()
    except JuteError as error:
        raise error.inside(cls.__name__) from None
    return value
