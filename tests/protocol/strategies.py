"""Hypothesis strategies derived from the schema declarations themselves.

Values come from each field's wire type at the given version, so every API
and version is covered without a hand-written generator per message.
"""

from __future__ import annotations

import struct
from typing import Any

from hypothesis import strategies as st

from cluster.broker.protocol.primitives import (
    BOOLEAN,
    BYTES,
    RECORDS,
    STRING,
    Array,
    Fixed,
    TaggedFields,
)
from cluster.broker.protocol.schema import Struct

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)


def _fixed(wire_type: Fixed) -> st.SearchStrategy[Any]:
    if wire_type is BOOLEAN:
        return st.booleans()
    bits = 8 * struct.calcsize(">" + wire_type.format)
    return st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def value_of(wire_type: Any, version: int) -> st.SearchStrategy[Any]:
    """Values a field of `wire_type` can carry at `version`."""
    if isinstance(wire_type, Fixed):
        return _fixed(wire_type)
    if wire_type is STRING:
        return _TEXT
    if wire_type is BYTES:
        return st.binary(max_size=12)
    if wire_type is RECORDS:
        return st.binary(max_size=40)
    if isinstance(wire_type, Array):
        return st.lists(value_of(wire_type.element, version), max_size=2)
    if isinstance(wire_type, TaggedFields):
        return st.dictionaries(st.integers(0, 1 << 31), st.binary(max_size=6), max_size=3)
    if isinstance(wire_type, Struct):
        return message(wire_type, version)
    raise TypeError(f"no strategy for {wire_type!r}")


def message(schema: Struct, version: int) -> st.SearchStrategy[Any]:
    """Instances of `schema` with every field of `version` drawn; other fields keep their defaults."""
    fields = {}
    for f in schema.fields_in(version):
        values = value_of(f.type, version)
        fields[f.name] = st.none() | values if f.nullable_in(version) else values
    return st.builds(schema.cls, **fields)
