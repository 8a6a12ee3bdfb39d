"""How the Kafka workloads' clients produce and consume, and the topic they share (queue's, log's and txn's options).

KafkaTopicOptions is what the Kafka workloads share; KafkaOptions adds the choice of client (confluent-kafka or
kafka-python), which queue, log and txn offer."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Options, SpecError, option

ACKS = ("0", "1", "all")
MODES = ("assign", "subscribe")
CLIENTS = ("confluent-kafka", "kafka-python")


@dataclass(frozen=True)
class KafkaTopicOptions(Options):
    acks: str = option("all", choices=ACKS)
    idempotence: bool = option(False)
    retries: int = option(0, "Producer retries.", minimum=0)
    replication_factor: int = option(3, minimum=1)
    min_insync: int = option(2, "min.insync.replicas of the topic.", minimum=1)
    partitions: int = option(3, minimum=1)
    topic: str = option("queue")
    mode: str = option("assign", "How consumers get partitions.", choices=MODES)

    def check(self) -> None:
        if self.min_insync > self.replication_factor:
            raise SpecError(f"min_insync {self.min_insync} exceeds replication_factor {self.replication_factor}")
        if self.idempotence and self.acks != "all":
            raise SpecError("idempotence needs acks all (as in Kafka's producer)")


@dataclass(frozen=True)
class KafkaOptions(KafkaTopicOptions):
    client: str = option("confluent-kafka", choices=CLIENTS)
