"""How many registers the register workload writes at once, and whether its reads are linearizable ones."""

from __future__ import annotations

from dataclasses import dataclass

from harness.spec import Options, option


@dataclass(frozen=True)
class RegisterOptions(Options):
    register_keys: int = option(3, "register: how many znodes are written at once (fresh ones every 100 ops each).",
                                minimum=1)
    register_sync_reads: bool = option(False, "register: sync before every read (ZooKeeper's way to a linearizable "
                                              "read).")
