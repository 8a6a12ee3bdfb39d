"""The transactional workload's setup: the transaction coordinators ready before any fault.

A broker creates __transaction_state (50 partitions, replication factor 3, as Kafka's defaults) on the first
FindCoordinator for a transaction. Made during the main phase, that creation races the nemesis: with brokers
killed every few seconds it took longer than an op's timeout here, and every init_transactions of the run
failed. Kafka clusters have the topic long before a test starts, so the setup makes it: one transactional
producer's init_transactions, retried, then a wait until every partition of the topic has a leader.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from workloads.queue.admin import AdminError
from workloads.queue.options import KafkaTopicOptions

TRANSACTION_STATE = "__transaction_state"
_log = logging.getLogger(__name__)


def prepare_coordinators(options: KafkaTopicOptions, bootstrap: str, timeout: float = 60) -> int:
    """Creates __transaction_state through a transaction coordinator and waits for its leaders; returns its
    partition count. Nothing of the test's is written: the setup's producer commits no transaction."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap, "logger": _log}
    producer = Producer({**config, "transactional.id": f"logquake-{options.topic}-setup"})

    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.5), reraise=True,
           retry=retry_if_exception_type(KafkaException))
    def initialize() -> None:
        producer.init_transactions(10)

    @retry(stop=stop_after_delay(timeout), wait=wait_fixed(0.5), reraise=True,
           retry=retry_if_exception_type(AdminError))
    def leaders() -> int:
        topic = AdminClient(config).list_topics(TRANSACTION_STATE, timeout=10).topics.get(TRANSACTION_STATE)
        if topic is None or topic.error is not None or not topic.partitions:
            raise AdminError(f"{TRANSACTION_STATE} not there yet ({topic.error if topic else 'no metadata'})")
        missing = [p for p, partition in topic.partitions.items() if partition.leader < 0]
        if missing:
            raise AdminError(f"{TRANSACTION_STATE}: no leader yet for partitions {sorted(missing)}")
        return len(topic.partitions)

    try:
        initialize()
    except KafkaException as error:
        raise AdminError(f"no transaction coordinator answered within {timeout:g}s: {error}") from None
    finally:
        producer.flush(0)
    return leaders()
