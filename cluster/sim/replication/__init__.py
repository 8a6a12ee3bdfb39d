"""The broker's replication core and action driver on simulated brokers, checked for lost and diverging writes.

`broker` runs a replica per partition on a `memory_log`; `keeper` stands in for the keeper and its
controller; `client` produces; `schedule` draws a seeded schedule of faults; `monitor` judges it;
`search` searches seeds; `scenarios` are constructed schedules with known outcomes.
"""
