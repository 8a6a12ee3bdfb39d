"""Kafka transactions: the coordinator, its log `__transaction_state`, markers and the partitions' stable offsets."""
