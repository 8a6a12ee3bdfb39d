"""Search seeds for Raft schedules that break safety, linearizability or liveness.

    python -m cluster.sim.raft.search --seeds 0:100000 --workers 2   # long search (make sim)
    python -m cluster.sim.raft.search --seed 4242                   # replay one seed, verbosely

Exit status 1 when any seed fails; every failure prints its replay command.
"""

from __future__ import annotations

import sys
from collections import Counter

from cluster.sim.raft.schedule import ScheduleResult, run_schedule
from cluster.sim.world import seed_search


def replay_command(seed: int) -> str:
    return f"python -m cluster.sim.raft.search --seed {seed}"


def search(seeds: range, workers: int, stop_on_failure: bool) -> int:
    return seed_search.search(run_schedule, seeds, workers, stop_on_failure, replay_command, _totals)


def _totals(result: ScheduleResult) -> Counter[str]:
    return Counter(events=result.events)


def replay(seed: int) -> int:
    result = run_schedule(seed)
    print(f"seed {seed}: {result.settings}")
    print(f"{result.events} events over {result.virtual_time} ms of virtual time")
    for when, what in result.timeline:
        print(f"  t={when:>5} {what}")
    outcomes: dict[str, int] = {}
    for op in result.history.ops:
        outcomes[f"{op.kind}:{op.outcome}"] = outcomes.get(f"{op.kind}:{op.outcome}", 0) + 1
    print(f"client operations: {dict(sorted(outcomes.items()))}")
    if result.violations:
        print(result.describe(replay_command(seed)))
        return 1
    print("no violation")
    return 0


def main(argv: list[str] | None = None) -> int:
    return seed_search.command_line(argv, "python -m cluster.sim.raft.search", __doc__.split("\n")[0], search, replay)


if __name__ == "__main__":
    sys.exit(main())
