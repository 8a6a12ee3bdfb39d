"""What a test is written in: the history and its format, generators, the spec, the Workload, the seams.

Workloads, nemeses and checkers are written against this package; logquake/ runs them. It stands
below all three and above the system under test (only the spec names deploy's backends and keeper
kinds).
"""
