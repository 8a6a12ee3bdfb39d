"""A listener's endpoint, `NAME://host:port`, as Kafka writes it in listeners, advertised.listeners and
the endpoints of a broker's registration (/brokers/ids/<id>).

Kafka normalises listener names to upper case (listeners=client://... names the listener CLIENT), so
two spellings of a name are one listener everywhere: in the properties, in the registration, and in
the listener a connection came in on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENDPOINT = re.compile(r"(?P<name>[^:/,\s]+)://(?P<host>\[[0-9a-fA-F:.%]*\]|[^\[\]/\s]*):(?P<port>[0-9]+)")
MAX_PORT = 65535
PLAINTEXT = "PLAINTEXT"
"""The only security protocol this broker speaks, and the name of Kafka's default listener."""


@dataclass(frozen=True)
class Endpoint:
    listener: str
    """The listener's name, upper case."""
    host: str
    """Empty in `listeners`: every interface; empty in advertised.listeners: this machine's name."""
    port: int

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        """`NAME://host:port`; an IPv6 host in brackets. ValueError says what is wrong."""
        match = _ENDPOINT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not NAME://host:port")
        port = int(match["port"])
        if port > MAX_PORT:
            raise ValueError(f"{text!r}: port {port} is above {MAX_PORT}")
        return cls(normalised(match["name"]), match["host"].strip("[]"), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listener}://{host}:{self.port}"


def normalised(listener: str) -> str:
    """Kafka's ListenerName.normalised: names compare without regard to case."""
    return listener.strip().upper()
