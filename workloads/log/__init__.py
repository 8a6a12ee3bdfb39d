"""The log workload: Kafka appends (acks=all) and reads of committed offsets, checked for linearizability.

`workload` is the Workload the registry lists (with queue's Kafka options and topic setup);
`operations` schedules appends of unique values and reads, each on a random partition; `client`
performs them with confluent-kafka; `checkers.log` checks each partition with pyporcupine's Kafka
partition log model.
"""
