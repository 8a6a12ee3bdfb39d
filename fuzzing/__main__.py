"""`python -m fuzzing [broker] [broker-follower] [keeper] [keeper-peer] --frames N --seed S`: a campaign against each
named target (every one by default).

Exits 1 if any campaign found a failure, so `make fuzz` fails loudly."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from fuzzing.campaign import run
from fuzzing.targets import TARGETS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzzing", description=__doc__)
    parser.add_argument("servers", nargs="*", choices=[*TARGETS, []], default=list(TARGETS))
    parser.add_argument("--frames", type=int, default=1_000_000, help="frames per server (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client-every", type=int, default=100_000, help="frames between real-client checks")
    options = parser.parse_args(argv)
    failed = False
    for name in options.servers or list(TARGETS):
        directory = Path(tempfile.mkdtemp(prefix=f"logquake-fuzz-{name}-"))
        with TARGETS[name](directory) as target:
            print(f"== {name}: {options.frames} frames, seed {options.seed}", flush=True)
            report = run(target, options.frames, options.seed, options.client_every, progress_every=30)
        print("\n".join(report.lines()), flush=True)
        if report.failures:
            print(f"  the servers' data and logs are kept in {directory}", flush=True)
        else:
            shutil.rmtree(directory)
        failed |= bool(report.failures)
    return 1 if failed else 0


sys.exit(main(sys.argv[1:]))
