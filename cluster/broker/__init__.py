"""A Kafka-compatible broker."""
