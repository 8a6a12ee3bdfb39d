"""logquake: Jepsen-style fault injection for Kafka-like replicated logs."""

__version__ = "0.1.0"
