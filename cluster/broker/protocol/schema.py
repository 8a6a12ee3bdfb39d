"""Declarative message schemas, compiled once per version into fast codecs.

A schema is declared the way Kafka's message JSON does it: a struct of fields,
each present in a range of versions ("3+", "0-2") and perhaps nullable in
another. Each struct becomes one dataclass holding the fields of *every*
version, so a handler reads `request.transactional_id` whatever version
arrived (fields a version lacks keep their Kafka defaults). For each version
the struct compiles once, when its API is declared: decoding to one generated
straight-line function (codegen.py), encoding to a chain of closures. Either
way consecutive fixed-width fields become one precompiled struct.Struct, so a
partition of a Fetch request is a single unpack.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import operator
import struct
from typing import Any, Callable, Iterator, Mapping, Sequence

from cluster.broker.protocol.codegen import struct_decoder
from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.primitives import (
    Array,
    Decoder,
    Encoder,
    FieldPath,
    Region,
    WireType,
    part_length,
)

NEWEST = 0x7FFF
"""Stands for "every later version" in a version range."""

VersionRange = tuple[int, int]
_MISSING = object()


def parse_versions(spec: str | None) -> VersionRange | None:
    """Reads Kafka's version notation: "3+", "0-2", "5", or None for never."""
    if spec is None:
        return None
    if spec.endswith("+"):
        return int(spec[:-1]), NEWEST
    low, _, high = spec.partition("-")
    return int(low), int(high or low)


def _within(version: int, versions: VersionRange | None) -> bool:
    return versions is not None and versions[0] <= version <= versions[1]


class Field:
    """One field of a struct: its name, wire type, the versions carrying it and its default."""

    def __init__(
        self,
        name: str,
        wire_type: WireType,
        versions: str = "0+",
        *,
        nullable: str | None = None,
        default: Any = _MISSING,
    ) -> None:
        self.name = name
        self.type = wire_type
        self.versions = parse_versions(versions)
        self.nullable_versions = parse_versions(nullable)
        self.default = wire_type.zero() if default is _MISSING else default

    def present_in(self, version: int) -> bool:
        return _within(version, self.versions)

    def nullable_in(self, version: int) -> bool:
        return _within(version, self.nullable_versions)

    def dataclass_field(self) -> tuple[str, Any, Any]:
        annotation = self.type.annotation()
        if self.nullable_versions is not None:
            annotation = annotation | None
        if isinstance(self.default, (list, dict)):
            return self.name, annotation, dataclasses.field(default_factory=functools.partial(copy.copy, self.default))
        return self.name, annotation, dataclasses.field(default=self.default)


class Struct:
    """A named group of fields; its `cls` is the dataclass that decoded values arrive in."""

    def __init__(self, name: str, *fields: Field) -> None:
        self.name = name
        self.fields = fields
        self.cls = dataclasses.make_dataclass(name, [f.dataclass_field() for f in fields], slots=True)

    def __call__(self, **values: Any) -> Any:
        """Builds an instance, so a declaration reads like a class: `ProduceResponse(responses=[...])`."""
        return self.cls(**values)

    def fields_in(self, version: int) -> list[Field]:
        return [f for f in self.fields if f.present_in(version)]

    def annotation(self) -> type:
        return self.cls

    def fixed_format(self, version: int) -> str | None:
        formats = [f.type.fixed_format(version) for f in self.fields_in(version)]
        return None if None in formats else "".join(formats)

    def min_size(self, version: int) -> int:
        return sum(f.type.min_size(version) for f in self.fields_in(version))

    def constructor(self, version: int) -> Callable[..., Any]:
        """Builds an instance from the values of `version`'s fields, as positional arguments in wire order."""
        cls = self.cls
        present = [f.name for f in self.fields_in(version)]
        if len(present) == len(self.fields):
            return cls
        return lambda *values: cls(**dict(zip(present, values)))

    def decoder(self, version: int, nullable: bool, where: FieldPath) -> Decoder:
        """A generated decoder: see codegen.py."""
        fields = self.fields_in(version)
        return struct_decoder(
            self.cls,
            list(_runs(fields, version)),
            version,
            where,
            lambda run, left: _truncated(run, version, where, left),
            all_fields_present=len(fields) == len(self.fields),
        )

    def encoder(self, version: int, nullable: bool, where: FieldPath) -> Encoder:
        steps = [_run_encoder(run, version, where) for run in _runs(self.fields_in(version), version)]

        def encode(value: Any, out: list) -> None:
            for step in steps:
                step(value, out)

        return encode


def _runs(fields: list[Field], version: int) -> Iterator[list[Field]]:
    """Groups consecutive fixed-width fields; every other field stands alone."""
    run: list[Field] = []
    for f in fields:
        if f.type.fixed_format(version) is not None:
            run.append(f)
            continue
        if run:
            yield run
            run = []
        yield [f]
    if run:
        yield run


def _truncated(run: list[Field], version: int, where: FieldPath, left: int) -> ProtocolError:
    """Names the first field of a fixed run that the remaining bytes cannot hold."""
    for f in run:
        size = f.type.min_size(version)
        if size > left:
            return where.child(f.name).error(f"needs {size} bytes, {left} left")
        left -= size
    raise AssertionError("a run that fits cannot be truncated")


def _run_encoder(run: list[Field], version: int, where: FieldPath) -> Encoder:
    first = run[0]
    if first.type.fixed_format(version) is None:
        encode_field = first.type.encoder(version, first.nullable_in(version), where.child(first.name))
        read = operator.attrgetter(first.name)
        return lambda value, out: encode_field(read(value), out)
    pack = struct.Struct(">" + "".join(f.type.fixed_format(version) for f in run)).pack
    names = [f.name for f in run]
    read_all = operator.attrgetter(*names) if len(names) > 1 else (lambda value: (getattr(value, names[0]),))

    def encode(value: Any, out: list) -> None:
        fields = read_all(value)
        try:
            out.append(pack(*fields))
        except struct.error:
            raise _unencodable(run, fields, version, where) from None

    return encode


def _unencodable(run: list[Field], values: Sequence[Any], version: int, where: FieldPath) -> ProtocolError:
    """Names the first field of a fixed run whose value its wire type cannot hold."""
    for f, value in zip(run, values):
        try:
            struct.pack(">" + f.type.fixed_format(version), value)
        except struct.error as exc:
            return where.child(f.name).error(f"cannot encode {value!r}: {exc}")
    raise AssertionError("a run whose values all fit cannot fail")


class MessageCodec:
    """One struct at one version, read from and written to whole buffers."""

    def __init__(self, schema: Struct, version: int, description: str) -> None:
        self.schema = schema
        self.version = version
        self.description = description
        where = FieldPath(description)
        self._decode = schema.decoder(version, False, where)
        self._encode = schema.encoder(version, False, where)

    def __repr__(self) -> str:
        return f"MessageCodec({self.description})"

    def decode(self, data: bytes | bytearray | memoryview, offset: int = 0) -> Any:
        """Decodes exactly the bytes from `offset` to the end; leftovers are an error.

        Records fields come back as memoryviews of `data`.
        """
        value, end = self.decode_prefix(data, offset)
        if end != len(data):
            raise ProtocolError(self.description, "", f"{len(data) - end} bytes left over after the message")
        return value

    def decode_prefix(self, data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[Any, int]:
        """Decodes the message starting at `offset`; returns it and the offset just after it."""
        view = data if isinstance(data, memoryview) else memoryview(data)
        out: list = []
        end = self._decode(view, offset, out)
        return out[0], end

    def encode(self, value: Any) -> bytes:
        """The common case: every records field given as bytes."""
        out: list = []
        self._encode(value, out)
        try:
            return b"".join(out)
        except TypeError:
            raise ValueError(f"{self.description}: records given as regions need encode_parts()") from None

    def encode_parts(self, value: Any) -> list[bytes | Region]:
        """Wire parts in order: bytes, and records regions for the server to sendfile between them."""
        out: list = []
        self._encode(value, out)
        return coalesce(out)


def coalesce(out: list) -> list[bytes | Region]:
    """Joins neighbouring byte strings so the server makes one write per stretch of bytes."""
    parts: list[bytes | Region] = []
    pending: list = []
    for part in out:
        if isinstance(part, (bytes, bytearray, memoryview)):
            pending.append(part)
            continue
        if pending:
            parts.append(b"".join(pending))
            pending = []
        parts.append(part)
    if pending:
        parts.append(b"".join(pending))
    return parts


def wire_size(parts: Sequence[bytes | Region]) -> int:
    return sum(map(part_length, parts))


class Codecs(Mapping[int, MessageCodec]):
    """A schema's codecs by version, each compiled on first use.

    Compiling every version of every API up front took half a second at
    import; a broker only ever meets the few versions its clients speak.
    """

    def __init__(self, schema: Struct, versions: range, description: str) -> None:
        self._schema = schema
        self._versions = versions
        self._description = description
        self._compiled: dict[int, MessageCodec] = {}

    def __getitem__(self, version: int) -> MessageCodec:
        codec = self._compiled.get(version)
        if codec is None:
            if version not in self._versions:
                raise KeyError(version)
            codec = self._compiled[version] = MessageCodec(self._schema, version, self._description.format(version))
        return codec

    def __iter__(self) -> Iterator[int]:
        return iter(self._versions)

    def __len__(self) -> int:
        return len(self._versions)


class Api:
    """One Kafka API: its key, the versions we speak, and a request and response schema."""

    def __init__(self, key: int, name: str, versions: str, request: Struct, response: Struct) -> None:
        low, high = parse_versions(versions)  # type: ignore[misc]
        self.key = key
        self.name = name
        self.min_version = low
        self.max_version = high
        self.request = request
        self.response = response
        self.request_codecs = Codecs(request, range(low, high + 1), f"{name} v{{}} request")
        self.response_codecs = Codecs(response, range(low, high + 1), f"{name} v{{}} response")

    def __repr__(self) -> str:
        return f"Api({self.key}, {self.name}, {self.min_version}-{self.max_version})"

    def supports(self, version: int) -> bool:
        return self.min_version <= version <= self.max_version


__all__ = ["Api", "Array", "Field", "MessageCodec", "NEWEST", "Struct", "coalesce", "parse_versions", "wire_size"]
