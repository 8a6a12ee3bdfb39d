"""The control plane of a broker cluster: partition state kept in keeper, and who leads what.

Kafka's ZooKeeper mode, rebuilt: brokers register ephemeral znodes, one wins the
/controller znode, and partition state changes only by conditional writes.
"""
