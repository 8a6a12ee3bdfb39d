"""keeper's server: the asyncio runtime that drives the Raft core and the ZooKeeper state machine.

`KeeperService` (service.py) is one running server; `cluster.keeper.main` runs it as a process.
"""
