"""Checkers: what a history proves. Each reads the history format of harness.history.

queue (Jepsen's Kafka anomalies, judged against the configuration's claim and its durability model
in claim.py), txn (Elle's dependency cycles and the anomalies of Kafka transactions), register and
log (linearizability per key with pyporcupine, through linearizability.py), and for every run stats, perf plots and the timeline (with fault intervals
from faults.py) and what disk faults did to the nodes' files (disk.py); compose.py puts them
together into a run's results.
"""
