"""`make chaos` names a fault of every class logquake has, and `logquake run` accepts its arguments as they stand."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from click.testing import CliRunner

import logquake.commands
import nemesis
from logquake.commands import run_command
from logquake.runner import RunOutcome
from nemesis.disk import FAULTS as DISK_FAULTS
from nemesis.net import NAME as PARTITION
from nemesis.packet_options import FAULTS as PACKET_FAULTS
from nemesis.process import FAULTS as PROCESS_FAULTS
from nemesis.proxy_faults import FAULTS as PROXY_FAULTS

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {"process": PROCESS_FAULTS, "partition": (PARTITION,), "disk": DISK_FAULTS,
           "network": (*PACKET_FAULTS, *PROXY_FAULTS), "clock": nemesis.CLOCK_FAULTS}
"""Every class of fault, by the module that injects it."""


def chaos_arguments() -> list[str]:
    """CHAOS_ARGS as make expands it, without running any of the chaos target's steps."""
    printed = subprocess.run(["make", "-s", "--no-print-directory", "--eval", "print-chaos-args: ; @echo $(CHAOS_ARGS)",
                              "print-chaos-args"], cwd=ROOT, capture_output=True, text=True, check=True)
    return shlex.split(printed.stdout)


def test_make_chaos_names_a_fault_of_every_class() -> None:
    arguments = chaos_arguments()
    named = set(arguments[arguments.index("--nemesis") + 1].split(","))
    assert {name for name, faults in CLASSES.items() if not named & set(faults)} == set()
    assert set(nemesis.FAULTS) == {fault for faults in CLASSES.values() for fault in faults} | {"isolate-leader"}


def test_logquake_run_takes_the_chaos_arguments_and_every_fault(monkeypatch, tmp_path: Path) -> None:
    ran = []

    def run(spec, store_root, workloads, plots=True):
        ran.append(spec)
        return RunOutcome(tmp_path, {"valid": True}, 0)

    monkeypatch.setattr(logquake.commands, "run", run)
    monkeypatch.setattr(nemesis, "unavailable", lambda names: None)
    result = CliRunner().invoke(run_command, [*chaos_arguments(), "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (spec,) = ran
    assert spec.time_limit == 60 and len(spec.nemesis) >= len(CLASSES)
    # Faults start at 1, 3, 5, ... intervals into the main phase: the last of one cycle must start before its end.
    assert spec.time_limit / spec.nemesis_interval > 2 * len(spec.nemesis) - 1, "not every fault gets its turn"
