"""What the AMQP workload's queue is: its type (quorum or classic), its name, and whether it and its messages are
meant to outlive a restart of their node."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Options, SpecError, option

QUEUE_TYPES = ("quorum", "classic", "classic-mirrored")
"""RabbitMQ 3.10's queue types the workload declares: quorum (Raft-replicated), classic (one node's), and classic
under a mirroring policy (ha-mode all: a mirror on every node, the setup of Jepsen's 2014 analysis)."""


@dataclass(frozen=True)
class AmqpOptions(Options):
    queue_type: str = option("quorum", "The RabbitMQ queue type (AMQP workload).", choices=QUEUE_TYPES)
    amqp_queue: str = option("logquake", "The queue's name (AMQP workload).")
    durable: bool = option(True, "Declare the queue durable, so that it outlives a restart of its node (AMQP "
                                 "workload; a quorum queue always is).")
    persistent: bool = option(True, "Publish persistent messages (delivery mode 2), which a classic queue writes to "
                                    "disk before confirming (AMQP workload; a quorum queue keeps every message so).")

    def check(self) -> None:
        if self.queue_type == "quorum" and not self.durable:
            raise SpecError("durable must be true for a quorum queue: RabbitMQ has no transient quorum queues")

    @property
    def mirrored(self) -> bool:
        """A classic queue that the cluster's mirroring policy (set when it is deployed) mirrors on every node."""
        return self.queue_type == "classic-mirrored"
