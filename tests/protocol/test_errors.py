"""Our error codes carry the numbers and names a real client knows them by."""

from __future__ import annotations

import kafka.errors

from cluster.broker.protocol.errors import ErrorCode

KAFKA_PYTHON_NAMES = {
    cls.errno: cls.message
    for cls in vars(kafka.errors).values()
    if isinstance(cls, type) and issubclass(cls, kafka.errors.BrokerResponseError) and cls.errno is not None
}


KAFKA_PYTHON_LEGACY_NAMES = {
    -1: "UNKNOWN",
    0: "NO_ERROR",
    6: "NOT_LEADER_FOR_PARTITION",
    10: "MESSAGE_SIZE_TOO_LARGE",
    17: "INVALID_TOPIC",
    39: "INVALID_REPLICATION_ASSIGNMENT",
}
"""Names kafka-python kept from older Kafka releases; the current protocol guide uses ours."""


def test_every_code_matches_kafka_python():
    mismatched = {
        code.value: KAFKA_PYTHON_NAMES.get(code.value) for code in ErrorCode if KAFKA_PYTHON_NAMES.get(code.value) != code.name
    }
    assert mismatched == KAFKA_PYTHON_LEGACY_NAMES


def test_the_codes_the_broker_needs_are_there():
    needed = {1, 2, 3, 5, 6, 7, 10, 15, 16, 17, 19, 20, 21, 22, 25, 27, 35, 36, 37, 38, 41, 45, 46, 47, 59, 69, 74, 75, 79}
    assert needed <= {code.value for code in ErrorCode}
