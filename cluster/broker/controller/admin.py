"""Topic creation and deletion as Kafka's ZooKeeper mode does them: by writing znodes the controller watches.

Any broker may call these (the CreateTopics and DeleteTopics handlers, or tools):
creation writes the assignment, the partition parents and the config in one
transaction, and the controller then gives each partition its first state;
deletion only files a request under /admin/delete_topics, which the controller
carries out.
"""

from __future__ import annotations

import random
from typing import AbstractSet, Mapping

from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

from cluster.broker.controller import znodes
from cluster.broker.controller.election import Assignment, assign_replicas
from cluster.broker.controller.multi import first_failure


class TopicExistsError(Exception):
    """Kafka's TOPIC_ALREADY_EXISTS."""


class UnknownTopicError(Exception):
    """Kafka's UNKNOWN_TOPIC_OR_PARTITION."""


def create_topic(
    client: KazooClient,
    name: str,
    live: AbstractSet[int],
    partitions: int,
    replication_factor: int,
    configs: Mapping[str, str] | None = None,
    start_index: int | None = None,
) -> Assignment:
    """Places replicas on the live brokers (round-robin from a random start, as Kafka does) and stores the topic.

    Raises AssignmentError when the replication factor exceeds the live brokers, TopicExistsError when taken.
    """
    start = random.randrange(max(len(live), 1)) if start_index is None else start_index
    assignment = assign_replicas(live, partitions, replication_factor, start_index=start)
    transaction = client.transaction()
    transaction.create(znodes.topic_path(name), znodes.assignment_json(assignment))
    transaction.create(znodes.partitions_path(name))
    for partition in assignment:
        transaction.create(znodes.partition_path(name, partition))
    config = znodes.topic_config_json(configs or {})
    if client.exists(znodes.topic_config_path(name)):  # left by a topic of this name that Kafka deleted
        transaction.set_data(znodes.topic_config_path(name), config)
    else:
        transaction.create(znodes.topic_config_path(name), config)
    failure = first_failure(transaction.commit())
    if failure is None:
        return assignment
    index, error = failure
    if index == 0 and isinstance(error, NodeExistsError):
        raise TopicExistsError(f"topic {name!r} already exists")
    raise error


def delete_topic(client: KazooClient, name: str) -> None:
    """Files the deletion request; the topic disappears from every broker's view once the controller acts."""
    if client.exists(znodes.topic_path(name)) is None:
        raise UnknownTopicError(f"topic {name!r} does not exist")
    client.ensure_path(znodes.DELETE_TOPICS)
    try:
        client.create(znodes.delete_topic_path(name))
    except NodeExistsError:
        pass  # already asked for
