"""The AMQP queue workload: RabbitMQ's queues under faults, checked with Jepsen's total-queue analysis."""
