"""The queue workload (Jepsen's Kafka test): every worker sends unique values and polls them back.

`client.open_client` gives a real Kafka client (confluent-kafka or kafka-python) per process;
`operations` schedules sends, polls, assigns and subscribes, then the final reads; `admin`
creates the topic and asks the brokers how far each partition goes.
"""
