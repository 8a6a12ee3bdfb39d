"""What every simulator's seed search shares: run seeded schedules (in parallel), print each
failing seed with the command that replays it, and a command line of --seeds or --seed.

A simulator module supplies how to run one seed, how to replay it verbosely and what to total;
its schedules must be picklable and `run` a module-level function, for the worker processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar


class ScheduleOutcome(Protocol):
    seed: int

    @property
    def violations(self) -> object: ...

    def describe(self, replay_command: str) -> str: ...


Outcome = TypeVar("Outcome", bound=ScheduleOutcome)


def _seed_range(text: str) -> range:
    start, _, stop = text.partition(":")
    if not stop:
        raise argparse.ArgumentTypeError("expected START:STOP")
    return range(int(start), int(stop))


def _results(run: Callable[[int], Outcome], seeds: range, workers: int) -> Iterator[Outcome]:
    if workers <= 1:
        yield from map(run, seeds)
        return
    with multiprocessing.Pool(workers) as pool:
        yield from pool.imap(run, seeds, chunksize=16)


def search(
    run: Callable[[int], Outcome],
    seeds: range,
    workers: int,
    stop_on_failure: bool,
    replay_command: Callable[[int], str],
    totals: Callable[[Outcome], Counter[str]],
) -> int:
    """Exit status 1 when any seed fails; progress every 1,000 schedules, then the totals."""
    began = time.monotonic()
    failures = done = 0
    counted: Counter[str] = Counter()
    for result in _results(run, seeds, workers):
        done += 1
        counted += totals(result)
        if result.violations:
            failures += 1
            print(result.describe(replay_command(result.seed)), flush=True)
            if stop_on_failure:
                break
        if done % 1000 == 0:
            print(f"{done} schedules, {failures} failing, {done / (time.monotonic() - began):.1f}/s", flush=True)
    elapsed = time.monotonic() - began
    figures = "".join(f", {count:,} {name}" for name, count in counted.items())
    print(f"{done} schedules in {elapsed:.1f}s ({done / elapsed:.1f}/s){figures}, {failures} failing")
    return 1 if failures else 0


def command_line(
    argv: list[str] | None,
    prog: str,
    description: str,
    search_seeds: Callable[[range, int, bool], int],
    replay: Callable[[int], int],
) -> int:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--seeds", type=_seed_range, help="seed range START:STOP to search")
    what.add_argument("--seed", type=int, help="replay one seed and show its timeline")
    parser.add_argument("--workers", type=int, default=1, help="processes to search with")
    parser.add_argument("--stop-on-failure", action="store_true")
    args = parser.parse_args(argv)
    if args.seed is not None:
        return replay(args.seed)
    return search_seeds(args.seeds, args.workers, args.stop_on_failure)
