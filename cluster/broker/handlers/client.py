"""Who sent a request, as Kafka's RequestContext tells its handlers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Client:
    host: str
    """The peer's address, which a group member's description shows."""
    listener: str
    """The listener the connection came in on: Metadata and FindCoordinator name brokers by their endpoints
    on this listener, so a client that came in through a proxy's address is told the other proxies'."""
