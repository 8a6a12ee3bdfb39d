"""`logquake compare`: the same fault schedule against our Kafka-compatible cluster and RabbitMQ, measured side by side."""
