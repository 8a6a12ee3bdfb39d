"""Kafka's listener settings (KIP-103): where a broker listens, what it tells others, and which listener
brokers use among themselves.

- `listeners`: the endpoints the broker binds, `NAME://host:port,...`, each name at most once and
  each port at most once (port 0, any free port, excepted); an empty host binds every interface.
- `advertised.listeners`: what the broker registers and so what clients and other brokers are told
  (by default the listeners themselves). It may differ from what is bound, e.g. a proxy's address in
  front of the broker; its names are some or all of the listeners'.
- `listener.security.protocol.map`: each listener name's security protocol (Kafka's default maps
  PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL to themselves). This broker speaks only PLAINTEXT, so a
  listener mapped to anything else is refused; entries for names no listener uses are allowed, as in Kafka.
- `inter.broker.listener.name` (or Kafka's older `security.inter.broker.protocol`, the listener named
  after the protocol; at most one of the two): the listener replica fetchers connect to on the
  leader (default PLAINTEXT); it must be an advertised listener.

Errors carry Kafka's wording where Kafka has one, so an operator's search finds the same advice.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from typing import Mapping

from cluster import config_values
from cluster.broker.endpoints import PLAINTEXT, Endpoint, normalised

LISTENERS = "listeners"
ADVERTISED_LISTENERS = "advertised.listeners"
PROTOCOL_MAP = "listener.security.protocol.map"
INTER_BROKER_LISTENER = "inter.broker.listener.name"
INTER_BROKER_PROTOCOL = "security.inter.broker.protocol"
PROPERTY_NAMES = frozenset({LISTENERS, ADVERTISED_LISTENERS, PROTOCOL_MAP, INTER_BROKER_LISTENER, INTER_BROKER_PROTOCOL})

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
DEFAULT_PROTOCOL_MAP = {protocol: protocol for protocol in SECURITY_PROTOCOLS}
DEFAULT_LISTENERS = (Endpoint(PLAINTEXT, "127.0.0.1", 9092),)
"""Ours: Kafka binds PLAINTEXT://:9092 (every interface); a test broker stays on the loopback."""
_META_ADDRESSES = ("0.0.0.0", "::")


@dataclass(frozen=True)
class Listeners:
    bound: tuple[Endpoint, ...] = DEFAULT_LISTENERS
    advertised: tuple[Endpoint, ...] = DEFAULT_LISTENERS
    inter_broker: str = PLAINTEXT
    protocols: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PROTOCOL_MAP))

    def __post_init__(self) -> None:
        _check_bound(self.bound, self.protocols)
        _check_advertised(self.advertised, self.bound)
        names = [endpoint.listener for endpoint in self.advertised]
        if self.inter_broker not in names:
            raise ValueError(f"{INTER_BROKER_LISTENER} must be a listener name defined in {ADVERTISED_LISTENERS}. "
                             f"The valid options based on currently configured listeners are {','.join(names)}")

    @classmethod
    def from_properties(cls, properties: Mapping[str, object]) -> Listeners:
        """The listener properties among `properties` (others are ignored), with Kafka's defaults."""
        protocols = (_protocol_map(properties[PROTOCOL_MAP]) if PROTOCOL_MAP in properties
                     else dict(DEFAULT_PROTOCOL_MAP))
        bound = _endpoints(LISTENERS, properties[LISTENERS]) if LISTENERS in properties else DEFAULT_LISTENERS
        advertised = (_endpoints(ADVERTISED_LISTENERS, properties[ADVERTISED_LISTENERS])
                      if ADVERTISED_LISTENERS in properties else bound)
        return cls(bound, advertised, _inter_broker_listener(properties), protocols)

    def registered(self) -> tuple[Endpoint, ...]:
        """What the broker registers: the advertised endpoints, an empty host replaced by this machine's
        name, as Kafka does (an empty host in `listeners` means every interface, which no client can dial)."""
        return tuple(replace(endpoint, host=endpoint.host or socket.getfqdn()) for endpoint in self.advertised)


def _endpoints(name: str, value: object) -> tuple[Endpoint, ...]:
    endpoints = []
    for item in config_values.comma_list(name, value):
        try:
            endpoints.append(Endpoint.parse(item))
        except ValueError as error:
            raise ValueError(f"property {name}: {error}") from None
    if not endpoints:
        raise ValueError(f"property {name}: no listener given; expected NAME://host:port,...")
    return tuple(endpoints)


def _protocol_map(value: object) -> dict[str, str]:
    """`NAME:PROTOCOL,...`, names normalised; a protocol Kafka does not know is refused."""
    protocols: dict[str, str] = {}
    for entry in config_values.comma_list(PROTOCOL_MAP, value):
        name, colon, protocol = entry.rpartition(":")
        listener, protocol = normalised(name), protocol.strip().upper()
        if not colon or not listener:
            raise ValueError(f"property {PROTOCOL_MAP}: {entry!r} is not NAME:PROTOCOL")
        if protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"property {PROTOCOL_MAP}: {entry!r}: unknown security protocol {protocol!r} "
                             f"(Kafka's are {', '.join(SECURITY_PROTOCOLS)})")
        if listener in protocols:
            raise ValueError(f"property {PROTOCOL_MAP}: listener {listener} is mapped twice")
        protocols[listener] = protocol
    return protocols


def _inter_broker_listener(properties: Mapping[str, object]) -> str:
    if INTER_BROKER_LISTENER in properties and INTER_BROKER_PROTOCOL in properties:
        raise ValueError(f"Only one of {INTER_BROKER_LISTENER} and {INTER_BROKER_PROTOCOL} should be set.")
    if INTER_BROKER_PROTOCOL in properties:
        protocol = config_values.text(INTER_BROKER_PROTOCOL, properties[INTER_BROKER_PROTOCOL]).upper()
        if protocol != PLAINTEXT:
            raise ValueError(f"property {INTER_BROKER_PROTOCOL}: only {PLAINTEXT} is supported, got {protocol!r}")
        return protocol
    if INTER_BROKER_LISTENER in properties:
        name = normalised(config_values.text(INTER_BROKER_LISTENER, properties[INTER_BROKER_LISTENER]))
        if not name:
            raise ValueError(f"property {INTER_BROKER_LISTENER} is empty")
        return name
    return PLAINTEXT


def _check_bound(bound: tuple[Endpoint, ...], protocols: Mapping[str, str]) -> None:
    _check_distinct(LISTENERS, "name", [endpoint.listener for endpoint in bound])
    _check_distinct(LISTENERS, "port", [endpoint.port for endpoint in bound if endpoint.port != 0])
    for endpoint in bound:
        protocol = protocols.get(endpoint.listener)
        if protocol is None:
            raise ValueError(f"property {LISTENERS}: No security protocol defined for listener {endpoint.listener} "
                             f"(add {endpoint.listener}:PLAINTEXT to {PROTOCOL_MAP})")
        if protocol != PLAINTEXT:
            raise ValueError(f"property {LISTENERS}: listener {endpoint.listener} uses security protocol {protocol}; "
                             f"this broker speaks only {PLAINTEXT}")


def _check_advertised(advertised: tuple[Endpoint, ...], bound: tuple[Endpoint, ...]) -> None:
    _check_distinct(ADVERTISED_LISTENERS, "name", [endpoint.listener for endpoint in advertised])
    names = {endpoint.listener for endpoint in bound}
    for endpoint in advertised:
        if endpoint.listener not in names:
            raise ValueError(f"{ADVERTISED_LISTENERS} listener names must be equal to or a subset of the ones "
                             f"defined in {LISTENERS}: {endpoint.listener} is not among {', '.join(sorted(names))}")
        if endpoint.host in _META_ADDRESSES:
            raise ValueError(f"{ADVERTISED_LISTENERS} cannot use the nonroutable meta-address {endpoint.host} "
                             f"({endpoint}). Use a routable IP address.")


def _check_distinct(name: str, what: str, values: list[object]) -> None:
    repeated = sorted({str(value) for value in values if values.count(value) > 1})
    if repeated:
        raise ValueError(f"property {name}: each listener must have a different {what}; "
                         f"{', '.join(repeated)} given more than once")
