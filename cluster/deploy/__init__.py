"""Ways to run cluster nodes: local processes (and, later, containers)."""
