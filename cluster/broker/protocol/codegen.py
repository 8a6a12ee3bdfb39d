"""Generated decoders: one straight-line Python function per struct and version.

Chained closures cost a Python call per field, and on Produce and Fetch
messages those calls were half the decoding time. So each struct's decoder is
written out as source once, when its API is declared: a fixed run is one
unpack into locals, strings, bytes and records read their length inline,
arrays of numbers or of fixed-width structs decode with one struct call, and
other arrays loop over their element's own generated decoder. Every length
and count is checked against the bytes that remain before anything is sliced
or allocated; the slow paths (nulls and errors) are the helper functions
below, so every failure is a ProtocolError naming the message and the field.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Sequence

from cluster.broker.protocol.errors import ProtocolError
from cluster.broker.protocol.primitives import I32, Array, Decoder, FieldPath, Fixed, LengthPrefixed, OwnDecoder


def truncated_length(prefix: struct.Struct, buf: memoryview, pos: int, where: FieldPath) -> ProtocolError:
    return where.error(f"truncated: the length needs {prefix.size} bytes, {len(buf) - pos} left")


def null_or_refuse(length: int, nullable: bool, buf: memoryview, pos: int, where: FieldPath) -> None:
    """The slow path of a length (`pos` just after it): None for a null the field allows, or an error."""
    if length == -1 and nullable:
        return None
    if length < 0:
        raise where.error(f"invalid length {length}")
    raise where.error(f"length {length} exceeds the {len(buf) - pos} bytes left")


def null_or_refuse_count(count: int, nullable: bool, buf: memoryview, pos: int, where: FieldPath) -> None:
    """The slow path of an array count (`pos` just after it): None for a null the field allows, or an error."""
    if count == -1 and nullable:
        return None
    if count < 0:
        raise where.error(f"invalid count {count}")
    raise where.error(f"count {count} cannot fit the {len(buf) - pos} bytes left")


class _Source:
    """The lines of one generated function, and the objects they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "error": struct.error,
            "unpack_from": struct.unpack_from,
            "I32": I32,
            "truncated_length": truncated_length,
            "null_or_refuse": null_or_refuse,
            "null_or_refuse_count": null_or_refuse_count,
        }

    def name(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def emit(self, *lines: str) -> None:
        self.lines.extend("    " + line for line in lines)

    def build(self, label: str) -> Decoder:
        source = "\n".join(["def decode(buf, pos, out):", *self.lines])
        exec(compile(source, f"<decoder for {label}>", "exec"), self.namespace)
        return self.namespace["decode"]


def struct_decoder(
    cls: type,
    runs: Sequence[Sequence[Any]],
    version: int,
    where: FieldPath,
    truncated: Callable[[Sequence[Any], int], ProtocolError],
    all_fields_present: bool,
) -> Decoder:
    """Generates `decode(buf, pos, out) -> pos` that appends one `cls` built from the fields in `runs`.

    `runs` are the version's fields grouped into fixed-width runs and single
    variable fields; `truncated(run, left)` names the field a short run cuts off.
    """
    source = _Source()
    names: list[str] = []
    for run in runs:
        first = run[0]
        if first.type.fixed_format(version) is not None:
            _fixed_run(source, run, version, truncated, len(names))
        else:
            _value(source, first.type, version, first.nullable_in(version), where.child(first.name), f"v{len(names)}")
        names.extend(f.name for f in run)
    if all_fields_present:
        arguments = ", ".join(f"v{i}" for i in range(len(names)))
    else:
        arguments = ", ".join(f"{name}=v{i}" for i, name in enumerate(names))
    source.emit(f"out.append({source.name(cls)}({arguments}))", "return pos")
    return source.build(f"{where.message} {cls.__name__}")


def _item_decoder(wire_type: Any, version: int, where: FieldPath) -> Decoder:
    """A decoder for one array element: the type's own (structs), or a generated one."""
    if isinstance(wire_type, OwnDecoder):
        return wire_type.decoder(version, False, where)
    source = _Source()
    _value(source, wire_type, version, False, where, "value")
    source.emit("out.append(value)", "return pos")
    return source.build(where.message + " " + where.field)


def _fixed_run(
    source: _Source,
    run: Sequence[Any],
    version: int,
    truncated: Callable[[Sequence[Any], int], ProtocolError],
    first: int,
) -> None:
    codec = struct.Struct(">" + "".join(f.type.fixed_format(version) for f in run))
    targets = "".join(f"v{first + i}, " for i in range(len(run)))
    refuse = source.name(lambda buf, pos: truncated(run, len(buf) - pos))
    source.emit(
        "try:",
        f"    {targets}= {source.name(codec.unpack_from)}(buf, pos)",
        "except error:",
        f"    raise {refuse}(buf, pos) from None",
        f"pos += {codec.size}",
    )


def _value(source: _Source, wire_type: Any, version: int, nullable: bool, where: FieldPath, target: str) -> None:
    """Emits the code reading one variable-width value into the local `target`."""
    if isinstance(wire_type, LengthPrefixed):
        _length_prefixed(source, wire_type, nullable, where, target)
    elif isinstance(wire_type, Array):
        _array(source, wire_type, version, nullable, where, target)
    else:
        assert isinstance(wire_type, OwnDecoder), f"{wire_type!r} has no decoder"
        decode = source.name(wire_type.decoder(version, nullable, where))
        source.emit("value = []", f"pos = {decode}(buf, pos, value)", f"{target} = value[0]")


def _length_prefixed(source: _Source, wire_type: LengthPrefixed, nullable: bool, where: FieldPath, target: str) -> None:
    prefix, path = source.name(wire_type.prefix), source.name(where)
    source.emit(
        "try:",
        f"    (length,) = {prefix}.unpack_from(buf, pos)",
        "except error:",
        f"    raise truncated_length({prefix}, buf, pos, {path}) from None",
        f"pos += {wire_type.prefix.size}",
        "end = pos + length",
        "if length < 0 or end > len(buf):",
        f"    {target} = null_or_refuse(length, {nullable}, buf, pos, {path})",
    )
    if wire_type.convert is None:
        source.emit("else:", f"    {target} = buf[pos:end]", "    pos = end")
        return
    source.emit(
        "else:",
        "    try:",
        f"        {target} = {source.name(wire_type.convert)}(buf[pos:end])",
        "    except UnicodeDecodeError as exc:",
        f"        raise {path}.error('not UTF-8: ' + exc.reason) from None",
        "    pos = end",
    )


def _array(source: _Source, wire_type: Array, version: int, nullable: bool, where: FieldPath, target: str) -> None:
    element, path = wire_type.element, source.name(where)
    item_format = element.fixed_format(version)
    item_size = max(1, element.min_size(version))
    source.emit(
        "try:",
        "    (count,) = I32.unpack_from(buf, pos)",
        "except error:",
        f"    raise truncated_length(I32, buf, pos, {path}) from None",
        "pos += 4",
        f"if count < 0 or count > (len(buf) - pos) // {item_size}:",
        f"    {target} = null_or_refuse_count(count, {nullable}, buf, pos, {path})",
    )
    if isinstance(element, Fixed):
        source.emit(
            "else:",
            f"    {target} = list(unpack_from('>%d{item_format}' % count, buf, pos))",
            f"    pos += count * {item_size}",
        )
    elif item_format is not None:
        item = struct.Struct(">" + item_format)
        make = source.name(element.constructor(version))
        source.emit(
            "else:",
            f"    end = pos + count * {item.size}",
            f"    {target} = [{make}(*values) for values in {source.name(item.iter_unpack)}(buf[pos:end])]",
            "    pos = end",
        )
    else:
        decode_item = source.name(_item_decoder(element, version, where.item()))
        source.emit(
            "else:",
            f"    {target} = []",
            "    for _ in range(count):",
            f"        pos = {decode_item}(buf, pos, {target})",
        )
