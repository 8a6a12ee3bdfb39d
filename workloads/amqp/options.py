"""What the AMQP workload's queue is: its type (quorum or classic) and name."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Options, option

QUEUE_TYPES = ("quorum", "classic", "classic-mirrored")
"""RabbitMQ 3.10's queue types the workload declares: quorum (Raft-replicated), classic (one node's), and classic
under a mirroring policy (ha-mode all: a mirror on every node, the setup of Jepsen's 2014 analysis)."""


@dataclass(frozen=True)
class AmqpOptions(Options):
    queue_type: str = option("quorum", "The RabbitMQ queue type (AMQP workload).", choices=QUEUE_TYPES)
    amqp_queue: str = option("logquake", "The queue's name (AMQP workload).")

    @property
    def mirrored(self) -> bool:
        """A classic queue that the cluster's mirroring policy (set when it is deployed) mirrors on every node."""
        return self.queue_type == "classic-mirrored"
