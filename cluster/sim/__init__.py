"""Deterministic simulation: a seeded virtual clock, a faulty network, volatile disks and crashes.

- `world/`: what every simulation shares: the scheduler (virtual time), the network, disks,
  machines that crash and restart, and the seed search behind each simulator's command line.
- `raft/`: the keeper's Raft core on simulated machines, with a key-value client whose history
  is checked for linearizability (`python -m cluster.sim.raft.search`).
- `replication/`: the broker's replication core and driver on in-memory logs, with a simulated
  keeper and controller, producers, and checks for lost or diverging writes
  (`python -m cluster.sim.replication.search`).
"""
