"""Ways to run cluster nodes: local processes and containers."""
