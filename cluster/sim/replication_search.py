"""Search seeds for replication schedules that break the checks of `replication_monitor`.

    python -m cluster.sim.replication_search --seeds 0:5000 --workers 2   # long search (make sim)
    python -m cluster.sim.replication_search --seed 4242                 # replay one seed, verbosely

Exit status 1 when any seed fails; every failure prints its replay command.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Iterator

from cluster.sim.replication_schedule import ScheduleResult, run_schedule


def replay_command(seed: int) -> str:
    return f"python -m cluster.sim.replication_search --seed {seed}"


def _seed_range(text: str) -> range:
    start, _, stop = text.partition(":")
    if not stop:
        raise argparse.ArgumentTypeError("expected START:STOP")
    return range(int(start), int(stop))


def _results(seeds: range, workers: int) -> Iterator[ScheduleResult]:
    if workers <= 1:
        yield from map(run_schedule, seeds)
        return
    with multiprocessing.Pool(workers) as pool:
        yield from pool.imap(run_schedule, seeds, chunksize=16)


def search(seeds: range, workers: int, stop_on_failure: bool) -> int:
    began = time.monotonic()
    failures = done = acknowledged = expected_losses = 0
    for result in _results(seeds, workers):
        done += 1
        acknowledged += sum(write.outcome == "ok" for write in result.writes)
        expected_losses += len(result.lost)
        if result.violations:
            failures += 1
            print(result.describe(replay_command(result.seed)), flush=True)
            if stop_on_failure:
                break
        if done % 1000 == 0:
            print(f"{done} schedules, {failures} failing, {done / (time.monotonic() - began):.1f}/s", flush=True)
    elapsed = time.monotonic() - began
    print(
        f"{done} schedules in {elapsed:.1f}s ({done / elapsed:.1f}/s), {acknowledged} acknowledged writes, "
        f"{expected_losses} lost as the configuration allows, {failures} failing"
    )
    return 1 if failures else 0


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
    parser = argparse.ArgumentParser(
        prog="python -m cluster.sim.replication_search", description=__doc__.split("\n")[0]
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--seeds", type=_seed_range, help="seed range START:STOP to search")
    what.add_argument("--seed", type=int, help="replay one seed and show its timeline")
    parser.add_argument("--workers", type=int, default=1, help="processes to search with")
    parser.add_argument("--stop-on-failure", action="store_true")
    args = parser.parse_args(argv)
    if args.seed is not None:
        return replay(args.seed)
    return search(args.seeds, args.workers, args.stop_on_failure)


if __name__ == "__main__":
    sys.exit(main())
