"""The register workload: read, write and compare-and-set on a few independent znodes, one register per key.

`workload` is the Workload the registry lists and `options` its two options; `operations`
schedules the ops (a few keys at a time, fresh keys as the run goes on, so that every key's
history stays small enough to check); `client` performs them with kazoo against the keepers (or
Apache ZooKeeper); `checkers.register` checks each key's history with pyporcupine's CAS register
model.
"""
