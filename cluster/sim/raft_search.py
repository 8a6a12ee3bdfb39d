"""Search seeds for Raft schedules that break safety, linearizability or liveness.

    python -m cluster.sim.raft_search --seeds 0:100000 --workers 2   # long search (make sim)
    python -m cluster.sim.raft_search --seed 4242                   # replay one seed, verbosely

Exit status 1 when any seed fails; every failure prints its replay command.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections.abc import Iterator

from cluster.sim.raft_schedule import ScheduleResult, run_schedule


def replay_command(seed: int) -> str:
    return f"python -m cluster.sim.raft_search --seed {seed}"


def run_seed(seed: int) -> ScheduleResult:
    return run_schedule(seed)


def _seed_range(text: str) -> range:
    start, _, stop = text.partition(":")
    if not stop:
        raise argparse.ArgumentTypeError("expected START:STOP")
    return range(int(start), int(stop))


def _results(seeds: range, workers: int) -> Iterator[ScheduleResult]:
    if workers <= 1:
        yield from map(run_seed, seeds)
        return
    with multiprocessing.Pool(workers) as pool:
        yield from pool.imap(run_seed, seeds, chunksize=16)


def search(seeds: range, workers: int, stop_on_failure: bool) -> int:
    began = time.monotonic()
    failures = 0
    done = 0
    events = 0
    for result in _results(seeds, workers):
        done += 1
        events += result.events
        if result.violations:
            failures += 1
            print(result.describe(replay_command(result.seed)), flush=True)
            if stop_on_failure:
                break
        if done % 1000 == 0:
            print(f"{done} schedules, {failures} failing, {done / (time.monotonic() - began):.1f}/s", flush=True)
    elapsed = time.monotonic() - began
    print(
        f"{done} schedules in {elapsed:.1f}s ({done / elapsed:.1f}/s, {events / elapsed:,.0f} events/s), "
        f"{failures} failing"
    )
    return 1 if failures else 0


def replay(seed: int) -> int:
    result = run_seed(seed)
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
    parser = argparse.ArgumentParser(prog="python -m cluster.sim.raft_search", description=__doc__.split("\n")[0])
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
