"""Whether a simulation replays identically in fresh processes whose str hashes differ."""

from __future__ import annotations

import os
import subprocess
import sys


def outputs_under_hash_seeds(script: str, hash_seeds: tuple[int, ...] = (1, 2)) -> set[str]:
    """What `python -c script` prints under each PYTHONHASHSEED: one output means no set or dict
    order leaked into the schedule."""
    return {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in hash_seeds
    }
