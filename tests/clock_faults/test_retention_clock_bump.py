"""Claim: a broker clock stepped past retention.ms deletes records early, as Kafka's would, and the queue checker
tells those records from lost ones. Every broker's clock jumps two hours ahead with retention.ms at one hour:
the records already written, stamped with the producers' true time, are then past retention, and the brokers
delete them while the consumers read. The final reads record each partition's log start: every acknowledged
record no poll read lies below it, so the run is valid, with the deletions counted as retention's."""

from __future__ import annotations

from tests.clock_faults.clock_runs import check_clock_run, started_clock_faults
from tests.e2e.runs import THREE_NODES, logquake_run

BROKERS = ("b1", "b2", "b3")
TWO_HOURS_MS = str(2 * 3_600_000)
RUN = ["--workload", "queue", "--nemesis", "clock-bump", "--nemesis-targets", "all-brokers",
       "--nemesis-option", f"bump-min-ms={TWO_HOURS_MS}", "--nemesis-option", f"bump-max-ms={TWO_HOURS_MS}",
       "--nemesis-option", "bump-direction=forward", "--nemesis-interval", "6",
       "--broker-override", "log.retention.ms=3600000", "--broker-override", "log.retention.check.interval.ms=500",
       *THREE_NODES, "--acks", "all", "--time-limit", "20", "--final-time-limit", "20", "--rate", "80",
       "--concurrency", "4", "--seed", "1", "--backend", "local"]


def test_a_clock_stepped_past_retention_deletes_records_early_and_the_checker_says_so(tmp_path):
    watched = logquake_run(tmp_path / "store", RUN)
    assert watched.code == 0, watched.output
    assert ("clock-bump", BROKERS) in started_clock_faults(watched)
    queue = watched.results["queue"]
    retention = queue["retention"]
    assert retention["deleted"] > 0, retention
    assert any(start > 0 for start in retention["log_starts"].values()), retention
    assert watched.anomaly("lost-write")["count"] == 0
    assert watched.anomaly("unseen")["count"] == 0
    assert queue["final_reads"]["complete"] is True
    check_clock_run(watched, set(BROKERS) | {"k1", "k2", "k3"})
