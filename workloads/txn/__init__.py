"""The transactional workload (Jepsen's Kafka test with --txn): each op is a transaction of sends and polls.

`options` declares its options on top of the Kafka topic's; `client` runs each transaction with
kafka-python's transactional producer and a read_committed or read_uncommitted consumer;
`operations` draws the transactions and the final polls; `workload` wires them to the runner, and
checkers.txn judges the history (docs/txn-checker.md has its format).
"""
