"""The keeper's sans-IO Raft core on simulated machines, checked for safety, linearizability and liveness.

`node` runs one core per machine; `schedule` draws a seeded schedule of faults, leadership
transfers and key-value clients; `monitor` and `kv_linearizability` judge it; `search` searches seeds.
"""
