"""Search seeds for replication schedules that break the checks of `monitor`.

    python -m cluster.sim.replication.search --seeds 0:5000 --workers 2   # long search (make sim)
    python -m cluster.sim.replication.search --seed 4242                 # replay one seed, verbosely

Exit status 1 when any seed fails; every failure prints its replay command.
"""

from __future__ import annotations

import sys
from collections import Counter

from cluster.sim.replication.schedule import ScheduleResult, run_schedule
from cluster.sim.world import seed_search


def replay_command(seed: int) -> str:
    return f"python -m cluster.sim.replication.search --seed {seed}"


def search(seeds: range, workers: int, stop_on_failure: bool) -> int:
    return seed_search.search(run_schedule, seeds, workers, stop_on_failure, replay_command, _totals)


def _totals(result: ScheduleResult) -> Counter[str]:
    acknowledged = sum(write.outcome == "ok" for write in result.writes)
    return Counter({"acknowledged writes": acknowledged, "lost as the configuration allows": len(result.lost)})


def replay(seed: int) -> int:
    result = run_schedule(seed)
    print(f"seed {seed}: {result.settings}")
    print(f"{result.events} events over {result.virtual_time} ms of virtual time")
    for when, what in result.timeline:
        print(f"  t={when:>5} {what}")
    outcomes = Counter(f"acks={write.acks}:{write.outcome}" for write in result.writes)
    print(f"writes: {dict(sorted(outcomes.items()))}")
    for lost in result.lost:
        write = lost.write
        print(
            f"  lost: value {write.value} acknowledged at partition {write.partition} offset {write.offset} "
            f"(t={write.completed}); the final log has {lost.found} there; "
            + (f"allowed: {lost.expected}" if lost.expected else "NOT ALLOWED")
        )
    if result.violations:
        print(result.describe(replay_command(seed)))
        return 1
    print("no violation")
    return 0


def main(argv: list[str] | None = None) -> int:
    return seed_search.command_line(
        argv, "python -m cluster.sim.replication.search", __doc__.split("\n")[0], search, replay
    )


if __name__ == "__main__":
    sys.exit(main())
