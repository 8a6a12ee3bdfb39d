"""Workloads: one folder each, holding what its operations mean (see harness.workload for the interface).

queue/ (Jepsen's Kafka queue test; its options and Kafka client serve log/ too), register/
(read/write/cas on znodes, checked per key for linearizability), log/ (appends and reads of
committed offsets, checked for linearizability), txn/ (Kafka transactions of sends and polls, checked for
Elle's anomalies by checkers.txn). logquake.registry lists the ones a run may name.
"""
