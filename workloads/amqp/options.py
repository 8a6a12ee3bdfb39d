"""What the AMQP workload's queue is: its type (quorum or classic) and name."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Options, option

QUEUE_TYPES = ("quorum", "classic")
"""RabbitMQ 3.10's queue types the workload declares: quorum (Raft-replicated) and classic (one node's)."""


@dataclass(frozen=True)
class AmqpOptions(Options):
    queue_type: str = option("quorum", "The RabbitMQ queue type (AMQP workload).", choices=QUEUE_TYPES)
    amqp_queue: str = option("logquake", "The queue's name (AMQP workload).")
