"""The queue workload (Jepsen's Kafka test): every worker sends unique values and polls them back.

`workload` is the Workload the registry lists, and the Kafka base log builds on; `options` declares
the Kafka options queue and log share; `client.open_client` gives a real Kafka client
(confluent-kafka or kafka-python) per process; `operations` schedules sends, polls, assigns and
subscribes, then the final reads; `admin` creates the topic and asks the brokers how far each
partition goes; `checkers.queue` names Jepsen's Kafka anomalies in the history.
"""
