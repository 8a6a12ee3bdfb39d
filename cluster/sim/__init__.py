"""Deterministic simulation: a seeded virtual clock, a faulty network, volatile disks and crashes.

Generic over what runs on the simulated machines: a program is any object created by a factory
when its machine (re)starts, receiving messages and scheduling timers through its `Machine`.
The Raft cluster (`raft_node`, `raft_schedule`) is the first user; the broker's replication
core can be driven the same way.
"""
