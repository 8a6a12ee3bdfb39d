"""ZooKeeper-compatible coordination service; its consensus lives in `cluster.keeper.raft`."""
