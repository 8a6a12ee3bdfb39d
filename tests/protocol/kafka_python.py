"""kafka-python 3.x's own message classes, and conversions between its objects and ours.

Its classes are generated from Apache Kafka's message JSON, so agreeing with
them byte for byte is agreeing with the reference schemas.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import kafka.protocol
from kafka.protocol.api_message import ApiMessage

from cluster.broker.protocol.primitives import Array
from cluster.broker.protocol.schema import Struct


def _message_classes() -> dict[tuple[int, str], type]:
    found = {}
    for module in pkgutil.walk_packages(kafka.protocol.__path__, "kafka.protocol."):
        if module.name.startswith(("kafka.protocol.old", "kafka.protocol.schemas", "kafka.protocol.generate")):
            continue
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, type) and issubclass(value, ApiMessage) and getattr(value, "_json", None):
                found[(value.API_KEY, value.type)] = value
    return found


CLASSES = _message_classes()


def knows(api_key: int, version: int, direction: str) -> bool:
    """kafka-python can encode any version up to its JSON's maximum (it treats the minimum as 0)."""
    cls = CLASSES.get((api_key, direction))
    return cls is not None and version <= cls.max_version


def _in_version(kp_struct: Any, version: int) -> dict[str, Any]:
    return {name: f for name, f in kp_struct.fields.items() if f.for_version_q(version) and f.tag is None}


def to_kafka_python(value: Any, kp_struct: Any, version: int) -> dict[str, Any]:
    """Our message as keyword arguments for kafka-python's class; a field we lack raises AttributeError."""
    kwargs = {}
    for name, f in _in_version(kp_struct, version).items():
        field_value = getattr(value, name)
        if f.is_struct_array() and field_value is not None:
            field_value = [f.data_class(**to_kafka_python(item, f, version)) for item in field_value]
        kwargs[name] = field_value
    return kwargs


def encode_request(api_key: int, version: int, value: Any) -> bytes:
    cls = CLASSES[(api_key, "request")]
    return bytes(cls[version](**to_kafka_python(value, cls._struct, version)).encode(header=False))


REINTERPRETED = {"cluster_authorized_operations", "topic_authorized_operations", "authorized_operations"}
"""kafka-python renames these int32 bitfields and decodes them into sets of ACL operations."""


def decode_response(api_key: int, version: int, data: bytes) -> tuple[dict[str, Any], bytes]:
    """kafka-python's reading of a response, and its own encoding of what it read.

    The second proves it consumed exactly our bytes (its decoder ignores leftovers).
    """
    decoded = CLASSES[(api_key, "response")].decode(data, version=version)
    reencoded = decoded._struct.encode(decoded, version=version, compact=False, tagged=False)
    return _without_reinterpreted(decoded.to_dict(json=False)), bytes(reencoded)


def _without_reinterpreted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_reinterpreted(v) for k, v in value.items() if k not in REINTERPRETED}
    if isinstance(value, list):
        return [_without_reinterpreted(item) for item in value]
    return value


def as_plain(value: Any, wire_type: Any, version: int) -> Any:
    """Our value in the shape of kafka-python's to_dict(): dicts for structs, only `version`'s fields."""
    if value is None:
        return None
    if isinstance(wire_type, Struct):
        return {
            f.name: as_plain(getattr(value, f.name), f.type, version)
            for f in wire_type.fields_in(version)
            if f.name not in REINTERPRETED
        }
    if isinstance(wire_type, Array):
        return [as_plain(item, wire_type.element, version) for item in value]
    return value
