"""The cluster metadata kept in keeper that both planes read: a partition's leader, epoch and ISR.

The controller (controller/) writes it and the replicas (replication/) act on it, so it sits
below both, as Kafka keeps LeaderAndIsr in its metadata module apart from controller and replicas.
"""
