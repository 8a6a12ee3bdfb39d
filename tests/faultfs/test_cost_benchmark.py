"""The disk_faults benchmark keeps running and measuring what it says (its figures mean something only when run on
purpose, on a machine left to it): a smoke run on one broker, plain and mounted, checked for shape, never timing."""

from __future__ import annotations

from benchmarks import disk_faults
from benchmarks._bare_mount import PROBE_BYTES
from benchmarks._disk_report import RATIO_GOAL, print_report
from benchmarks._disk_sides import MOUNTED, PLAIN
from benchmarks._fuse_requests import KINDS
from benchmarks._kafka import MESSAGE_BYTES
from tests.faultfs.conftest import require_fuse

MESSAGES = disk_faults.SMOKE_MESSAGES
ONE_AT_A_TIME = disk_faults.LATENCY_BLOCK * 2
"""Messages sent one at a time per workload and side by --smoke."""


def test_a_smoke_run_measures_both_sides_of_every_workload_and_reports_the_goal(capsys):
    require_fuse()
    results = disk_faults.measure(["--smoke"])

    assert [(p.setup, p.workload, p.side) for p in results.phases] == [
        ("1 broker", workload, side) for workload in disk_faults.WORKLOADS for side in (PLAIN, MOUNTED)]
    for phase in results.phases:
        assert phase.messages == MESSAGES and len(phase.latencies) == MESSAGES
        assert phase.rate > 0 and phase.usage.seconds > 0
        assert phase.log_bytes >= MESSAGES * MESSAGE_BYTES, "the brokers' data directories did not hold the messages"
        assert sum(phase.states.counts.values()) > 0, "no sample of the broker's threads"
        if phase.side == PLAIN:
            assert phase.requests is None and phase.daemon.reads == 0 and phase.states.share("fuse") == 0
        else:
            assert phase.daemon.reads > 0, "the mounted broker's writes did not reach the daemon"
            if phase.requests is not None:  # counted when perf and the kernel's FUSE tracepoint are here
                assert set(phase.requests) == set(KINDS)
                assert 0 < phase.requests["write"] <= phase.requests["all"]
    flushed = [p for p in results.phases if p.workload == "flush.messages=1" and p.side == MOUNTED]
    assert all(p.requests is None or p.requests["fsync"] > 0 for p in flushed), "flush.messages=1 fsynced nothing"

    assert set(results.sequential) == {(workload, side) for workload in disk_faults.WORKLOADS
                                       for side in (PLAIN, MOUNTED)}
    assert all(len(latencies) == ONE_AT_A_TIME and latencies == sorted(latencies)
               for latencies in results.sequential.values())
    assert len(results.fsync.plain) == len(results.fsync.mounted) == disk_faults.SMOKE_FSYNCS
    assert results.fsync.daemon.reads >= 2 * disk_faults.SMOKE_FSYNCS, "a write+fsync pair is 2 FUSE requests or more"
    assert 4096 <= results.fsync.request_bytes <= PROBE_BYTES

    capsys.readouterr()
    print_report(results)
    report = capsys.readouterr().out
    for workload in disk_faults.WORKLOADS:
        goal = next(line for line in report.splitlines() if line.startswith(f"1 broker, {workload}: mounted / plain"))
        ratio, at_least, target, met, mounted, _, plain, *bound = goal.split(" msg/s", 1)[1].split()
        assert float(ratio.removesuffix("x")) > 0 and (at_least, target) == (">=", f"{RATIO_GOAL}x")
        assert met in ("yes", "NO") and int(mounted.replace(",", "")) > 0 and int(plain.replace(",", "")) > 0 and bound

    assert "FUSE write requests of" in report
