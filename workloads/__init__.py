"""Workloads: for each, the client that performs its operations and the generators that schedule them."""
