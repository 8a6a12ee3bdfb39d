"""A toxic as the API knows it (name, type, stream, toxicity, attributes): parsed from and shown as JSON.

Parsing is stricter than Toxiproxy's where Toxiproxy would silently do something else: an unknown
attribute, a negative or non-integer value, a toxicity outside [0, 1] are refused with 400 instead
of being ignored, so a typo in a test's toxic never passes for a working fault.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

from cluster.proxy.errors import bad_request, invalid_stream, invalid_toxic_type
from cluster.proxy.toxics import TOXIC_TYPES, Effect, ToxicModel

STREAMS = ("upstream", "downstream")
"""upstream: client → server bytes; downstream: server → client bytes (Toxiproxy's default)."""

LARGEST_ATTRIBUTE = 2**63 - 1
"""Toxiproxy's attributes are Go int64s."""


@dataclass(frozen=True)
class Toxic:
    name: str
    kind: str
    stream: str
    toxicity: float
    model: ToxicModel

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "stream": self.stream, "toxicity": self.toxicity,
                "attributes": dataclasses.asdict(self.model)}

    def effect(self, now: float, rng: random.Random) -> Effect:
        """The toxic on a new link: with probability `toxicity` its effect, otherwise a pass-through
        (drawn once per link, as Toxiproxy does: a toxicity of 0.3 poisons about 30% of connections)."""
        return self.model.effect(now, rng) if rng.random() < self.toxicity else Effect()


def parse_toxic(body: object) -> Toxic:
    """A new toxic from a POST /proxies/{proxy}/toxics body; raises ApiError (400) if it is not one."""
    fields = _object(body)
    kind = fields.get("type")
    if not isinstance(kind, str) or kind not in TOXIC_TYPES:
        raise invalid_toxic_type(kind)
    stream = fields.get("stream", "downstream")
    if stream not in STREAMS:
        raise invalid_stream(stream)
    name = fields.get("name") or f"{kind}_{stream}"
    if not isinstance(name, str):
        raise bad_request(f"name must be a string, not {name!r}")
    model = _model(TOXIC_TYPES[kind](), kind, fields.get("attributes"))
    return Toxic(name, kind, stream, _toxicity(fields.get("toxicity", 1.0)), model)


def update_toxic(toxic: Toxic, body: object) -> Toxic:
    """The toxic with a POST /proxies/{proxy}/toxics/{toxic} body's attributes and toxicity applied;
    attributes not named keep their values, and name, type and stream cannot change."""
    fields = _object(body)
    model = _model(toxic.model, toxic.kind, fields.get("attributes"))
    return dataclasses.replace(toxic, model=model, toxicity=_toxicity(fields.get("toxicity", toxic.toxicity)))


def _object(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"expected a JSON object, got {type(body).__name__}")
    return body


def _toxicity(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise bad_request(f"toxicity must be a number from 0 to 1, not {value!r}")
    return float(value)


def _model(base: ToxicModel, kind: str, attributes: object) -> ToxicModel:
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise bad_request(f"attributes must be a JSON object, not {attributes!r}")
    known = [attribute.name for attribute in dataclasses.fields(base)]
    unknown = sorted(set(attributes) - set(known))
    if unknown:
        raise bad_request(f"unknown attribute(s) {', '.join(unknown)} for {kind}; it has {', '.join(known)}")
    values = {name: _count(kind, name, value) for name, value in attributes.items()}
    model = dataclasses.replace(base, **values)
    validate = getattr(model, "validate", None)
    if validate is not None:
        try:
            validate()
        except ValueError as error:
            raise bad_request(f"{kind}: {error}") from None
    return model


def _count(kind: str, name: str, value: object) -> int:
    """Toxiproxy's attributes are whole numbers (milliseconds, bytes, KB/s, microseconds), never negative."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (isinstance(value, float) and not value.is_integer()):
        raise bad_request(f"{kind} attribute {name} must be a whole number, not {value!r}")
    if not 0 <= value <= LARGEST_ATTRIBUTE:
        raise bad_request(f"{kind} attribute {name} must be from 0 to {LARGEST_ATTRIBUTE}, not {value!r}")
    return int(value)
