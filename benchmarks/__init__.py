"""Benchmarks: each public module here has a `main(argv)`; figures are ratios to a baseline run alongside."""
