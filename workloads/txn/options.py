"""The transactional workload's options: the Kafka topic's and client's, plus how transactions are run and read."""

from __future__ import annotations

from dataclasses import dataclass

from checkers.txn.graph import ORDERS
from harness.spec import SpecError, option
from workloads.queue.options import KafkaOptions

ISOLATION_LEVELS = ("read_committed", "read_uncommitted")


@dataclass(frozen=True)
class TxnOptions(KafkaOptions):
    txn: bool = option(True, "Send in Kafka transactions (off: each send alone, as Jepsen's test without --txn).")
    isolation_level: str = option("read_committed", "What consumers read.", choices=ISOLATION_LEVELS)
    abort_p: float = option(0.0, "Probability that a transaction is aborted on purpose after its micro-ops.",
                            minimum=0)
    max_txn_length: int = option(4, "Most micro-ops (sends and polls) in one transaction.", minimum=1)
    ww_deps: bool = option(True, "The checker draws write-order (ww) edges (Jepsen's --ww-deps).")
    txn_orders: str = option(",".join(ORDERS), "Orders the checker's graph draws besides data edges, comma-separated "
                             "(process, realtime); empty: none.")

    def check(self) -> None:
        super().check()
        if self.abort_p > 1:
            raise SpecError(f"abort_p is a probability, at most 1, not {self.abort_p}")
        if self.abort_p and not self.txn:
            raise SpecError("abort_p needs transactions: without --txn nothing can be aborted")
        unknown = {name.strip() for name in self.txn_orders.split(",") if name.strip()} - set(ORDERS)
        if unknown:
            raise SpecError(f"txn_orders must be among {', '.join(ORDERS)}, not {', '.join(sorted(unknown))}")
        if self.txn and self.acks != "all":
            raise SpecError("transactional producers are idempotent, which needs acks all (as in Kafka's producer)")
