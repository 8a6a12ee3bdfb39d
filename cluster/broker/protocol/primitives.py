"""The protocol's primitive types (non-flexible encodings) and their encoders.

A type describes its values (Python annotation, zero value, fixed width or
not) and turns itself, once per schema version, into an encoder closure
`(value, out)` that appends the value's wire parts to `out`. Decoding is
generated as straight-line source by codegen.py from these same descriptions;
only the tag section keeps a decoder closure of its own.

Records fields are special in both directions: decoding returns a memoryview
of the frame (never a copy), and encoding accepts, besides bytes, a sequence of
parts where each part is bytes or a *region*: any object with a `length`, such
as a file range the server will hand to os.sendfile.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.varint import VarintError, decode_unsigned_varint, encode_unsigned_varint

Decoder = Callable[[memoryview, int, list], int]
Encoder = Callable[[Any, list], None]

I16 = struct.Struct(">h")
I32 = struct.Struct(">i")
NULL_I32 = I32.pack(-1)


class Region(Protocol):
    """A stretch of bytes held elsewhere (e.g. in a segment file), written by the server itself."""

    length: int


@dataclass(frozen=True, slots=True)
class FieldPath:
    """Where a codec sits: the message it belongs to and the path of the field inside it."""

    message: str
    field: str = ""

    def child(self, name: str) -> FieldPath:
        return FieldPath(self.message, f"{self.field}.{name}" if self.field else name)

    def item(self) -> FieldPath:
        return FieldPath(self.message, f"{self.field}[]")

    def error(self, reason: str) -> ProtocolError:
        return ProtocolError(self.message, self.field, reason)


class WireType(Protocol):
    """What a schema needs from a field's type."""

    def annotation(self) -> Any: ...

    def zero(self) -> Any: ...

    def fixed_format(self, version: int) -> str | None:
        """struct format characters when every encoding has the same width, else None."""

    def min_size(self, version: int) -> int: ...

    def encoder(self, version: int, nullable: bool, where: FieldPath) -> Encoder:
        """Fixed-width types have none: schemas pack each run of them with one struct call."""


@runtime_checkable
class OwnDecoder(Protocol):
    """A type whose values generated decoders cannot read inline: structs and tag sections."""

    def decoder(self, version: int, nullable: bool, where: FieldPath) -> Decoder: ...


@dataclass(frozen=True)
class Fixed:
    """A fixed-width big-endian number.

    It has no codec of its own: schemas pack and unpack each run of fixed
    fields, and arrays each run of fixed elements, with one struct call.
    """

    name: str
    format: str
    python_type: type

    def annotation(self) -> Any:
        return self.python_type

    def zero(self) -> Any:
        return self.python_type()

    def fixed_format(self, version: int) -> str:
        return self.format

    def min_size(self, version: int) -> int:
        return struct.calcsize(">" + self.format)


INT8 = Fixed("int8", "b", int)
INT16 = Fixed("int16", "h", int)
INT32 = Fixed("int32", "i", int)
INT64 = Fixed("int64", "q", int)
BOOLEAN = Fixed("bool", "?", bool)


@dataclass(frozen=True)
class LengthPrefixed:
    """A run of bytes after a length prefix: strings, bytes and records differ only in how they look."""

    name: str
    prefix: struct.Struct
    python_type: Any
    empty: Any
    convert: Callable[[memoryview], Any] | None
    """Turns the slice of the frame into the value; None keeps the view itself."""

    def annotation(self) -> Any:
        return self.python_type

    def zero(self) -> Any:
        return self.empty

    def fixed_format(self, version: int) -> None:
        return None

    def min_size(self, version: int) -> int:
        return self.prefix.size

    def encoder(self, version: int, nullable: bool, where: FieldPath) -> Encoder:
        pack, null = self.prefix.pack, self.prefix.pack(-1)
        limit = (1 << (8 * self.prefix.size - 1)) - 1

        def encode(value: Any, out: list) -> None:
            if value is None:
                if not nullable:
                    raise where.error("None given, but the field is not nullable in this version")
                out.append(null)
                return
            data = value.encode() if isinstance(value, str) else value
            if not isinstance(data, (bytes, bytearray, memoryview)):
                return self._encode_parts(data, out, where)
            if len(data) > limit:
                raise where.error(f"{len(data)} bytes do not fit a {self.prefix.size}-byte length")
            out.append(pack(len(data)))
            out.append(data)

        return encode

    def _encode_parts(self, parts: Sequence[Any], out: list, where: FieldPath) -> None:
        if self is not RECORDS:
            raise where.error(f"{type(parts).__name__} given, expected {self.name}")
        out.append(I32.pack(sum(map(part_length, parts))))
        out.extend(parts)


def part_length(part: bytes | bytearray | memoryview | Region) -> int:
    """Bytes a response part occupies on the wire."""
    if isinstance(part, memoryview):
        return part.nbytes
    if isinstance(part, (bytes, bytearray)):
        return len(part)
    return part.length


STRING = LengthPrefixed("string", I16, str, "", functools.partial(str, encoding="utf-8"))
BYTES = LengthPrefixed("bytes", I32, bytes, b"", bytes)
RECORDS = LengthPrefixed("records", I32, memoryview | bytes | Sequence[Any], None, None)
"""Records stay a view of the frame: the log validates and appends them without a copy."""


@dataclass(frozen=True)
class Array:
    """An int32 count followed by that many elements; -1 is a null array where allowed."""

    element: Any

    def annotation(self) -> Any:
        return list[self.element.annotation()]

    def zero(self) -> list:
        return []

    def fixed_format(self, version: int) -> None:
        return None

    def min_size(self, version: int) -> int:
        return I32.size

    def encoder(self, version: int, nullable: bool, where: FieldPath) -> Encoder:
        encode_items = self._items_encoder(version, where)

        def encode(value: Any, out: list) -> None:
            if value is None:
                if not nullable:
                    raise where.error("None given, but the array is not nullable in this version")
                out.append(NULL_I32)
                return
            encode_items(value, out)

        return encode

    def _items_encoder(self, version: int, where: FieldPath) -> Encoder:
        """Encodes the count and the elements; numbers go out in one struct call."""
        if isinstance(self.element, Fixed):
            element_format = self.element.format

            def encode_numbers(items: Sequence[Any], out: list) -> None:
                try:
                    out.append(struct.pack(f">i{len(items)}{element_format}", len(items), *items))
                except struct.error as exc:
                    raise where.item().error(f"cannot encode {items!r}: {exc}") from None

            return encode_numbers
        encode_item = self.element.encoder(version, False, where.item())

        def encode_each(items: Sequence[Any], out: list) -> None:
            out.append(I32.pack(len(items)))
            for item in items:
                encode_item(item, out)

        return encode_each


def read_unsigned_varint(buf: memoryview, pos: int, where: FieldPath) -> tuple[int, int]:
    """Reads an unsigned varint of at most 32 bits (tag section counts, tags and sizes)."""
    try:
        return decode_unsigned_varint(buf, pos)
    except VarintError as error:
        raise where.error(f"varint {error.reason}") from None


@dataclass(frozen=True)
class TaggedFields:
    """The tag section that ends flexible headers: a count, then (tag, size, bytes) in ascending tag order.

    No field this broker reads is tagged, so the section decodes to {tag: raw bytes}.
    """

    def annotation(self) -> Any:
        return dict[int, bytes]

    def zero(self) -> dict[int, bytes]:
        return {}

    def fixed_format(self, version: int) -> None:
        return None

    def min_size(self, version: int) -> int:
        return 1

    def decoder(self, version: int, nullable: bool, where: FieldPath) -> Decoder:
        def decode(buf: memoryview, pos: int, out: list) -> int:
            count, pos = read_unsigned_varint(buf, pos, where)
            if count > (len(buf) - pos) // 2:
                raise where.error(f"{count} tagged fields cannot fit the {len(buf) - pos} bytes left")
            fields: dict[int, bytes] = {}
            previous = -1
            for _ in range(count):
                tag, pos = read_unsigned_varint(buf, pos, where)
                size, pos = read_unsigned_varint(buf, pos, where)
                if tag <= previous:
                    raise where.error(f"tag {tag} after tag {previous}: tags must ascend")
                if pos + size > len(buf):
                    raise where.error(f"tagged field of {size} bytes but {len(buf) - pos} left")
                fields[tag] = bytes(buf[pos : pos + size])
                previous, pos = tag, pos + size
            out.append(fields)
            return pos

        return decode

    def encoder(self, version: int, nullable: bool, where: FieldPath) -> Encoder:
        def encode(value: dict[int, bytes], out: list) -> None:
            out.append(encode_unsigned_varint(len(value)))
            for tag in sorted(value):
                out.append(encode_unsigned_varint(tag) + encode_unsigned_varint(len(value[tag])))
                out.append(value[tag])

        return encode


TAGGED_FIELDS = TaggedFields()
