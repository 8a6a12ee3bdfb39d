"""A run's disk-fault settings: --nemesis-option and --keeper-override into the spec and test.json, the targets the
workloads offer with disk faults, fault disks deployed exactly when a fault needs them, and the errors `logquake run`
gives before any cluster starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import logquake.commands
import logquake.runner
import nemesis
from logquake.commands import run_command
from logquake.registry import WORKLOADS
from logquake.runner import RunOutcome

DISK_RUN = dict(nemesis=("slow-disk", "corrupt-file"), nemesis_options={"fsync-delay-ms": "80", "bitflips": "2"},
                keeper_overrides={"forceSync": "no"})


def test_nemesis_options_and_keeper_overrides_round_trip_through_test_json():
    spec = WORKLOADS.spec(**DISK_RUN)
    stored = json.loads(json.dumps(spec.to_dict()))
    assert stored["nemesis_options"] == {"fsync-delay-ms": "80", "bitflips": "2"}
    assert stored["keeper_overrides"] == {"forceSync": "no"}
    assert WORKLOADS.spec_from_dict(stored) == spec


def test_a_stored_run_from_before_these_options_reads_with_none():
    stored = json.loads((Path(__file__).parent / "stored_runs" / "register-kill" / "test.json").read_text())
    assert "nemesis_options" not in stored
    spec = WORKLOADS.spec_from_dict(stored)
    assert spec.nemesis_options == {} and spec.keeper_overrides == {}


@pytest.mark.parametrize(("values", "added"), [
    ({"nemesis": ("kill",)}, ()),
    ({"nemesis": ("corrupt-file",)}, ()),
    ({"nemesis": ("lose-unsynced",)}, ("all-brokers", "all-keepers")),
    ({"nemesis": ("slow-disk",), "keepers": 0, "replication_factor": 1, "min_insync": 1, "brokers": 1},
     ("all-brokers",)),
    ({"workload": "register", "brokers": 0, "nemesis": ("torn-write",)}, ("all-keepers",)),
    ({"workload": "log", "nemesis": ("disk-full", "kill")}, ("all-brokers", "all-keepers")),
])
def test_workloads_offer_whole_tiers_when_a_fault_filesystem_fault_is_named(values, added):
    spec = WORKLOADS.spec(**values)
    offered = WORKLOADS[spec.workload].fault_targets(spec)
    assert tuple(target for target in offered if target.startswith("all-")) == added


def test_the_runner_mounts_fault_disks_exactly_when_a_fault_needs_them(monkeypatch, tmp_path):
    deployed = []
    monkeypatch.setattr(logquake.runner, "deploy_cluster", lambda cluster, backend, work_dir: deployed.append(cluster))
    for names, expected in ((("kill",), False), (("corrupt-file",), False), (("kill", "disk-error"), True)):
        logquake.runner.deploy(WORKLOADS.spec(nemesis=names, keeper_overrides={"forceSync": "no"}), tmp_path)
        assert deployed[-1].fault_disks is expected
        assert deployed[-1].keeper_overrides == {"forceSync": "no"}


def test_the_command_line_carries_nemesis_options_and_keeper_overrides_into_the_spec(monkeypatch, tmp_path):
    ran = []

    def run(spec, store_root, workloads, plots=True):
        ran.append(spec)
        return RunOutcome(tmp_path, {"valid": True}, 0)

    monkeypatch.setattr(logquake.commands, "run", run)
    monkeypatch.setattr(nemesis, "fuse_unavailable", lambda: None)
    result = CliRunner().invoke(run_command, [
        "--nemesis", "slow-disk,corrupt-file", "--nemesis-option", "fsync-delay-ms=80", "--nemesis-option",
        "bitflips=2", "--keeper-override", "forceSync=no", "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (spec,) = ran
    assert (spec.nemesis_options, spec.keeper_overrides) == (DISK_RUN["nemesis_options"], DISK_RUN["keeper_overrides"])


@pytest.mark.parametrize(("arguments", "message"), [
    (["--nemesis", "lose-unsynced", "--keepers", "0", "--nemesis-targets", "all-keepers"],
     "all-keepers is every keeper node, and this run has none"),
    (["--nemesis", "slow-disk", "--nemesis-option", "fsync-delay-ms=soon"], "fsync-delay-ms='soon': must be a number"),
    (["--nemesis", "kill", "--nemesis-option", "error-ops=write"],
     "error-ops is an option of the disk-error fault, which this run does not inject"),
    (["--nemesis", "slow-disk", "--nemesis-option", "fsync-delay-ms"], "'fsync-delay-ms': expected key=value"),
])
def test_bad_disk_fault_settings_exit_2_before_any_cluster_starts(tmp_path, arguments, message):
    result = CliRunner().invoke(run_command, [*arguments, "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not any(tmp_path.iterdir())


def test_a_machine_without_fuse_refuses_fault_filesystem_faults_before_any_cluster_starts(monkeypatch, tmp_path):
    monkeypatch.setattr(nemesis, "fuse_unavailable", lambda: "/dev/fuse is missing")
    result = CliRunner().invoke(run_command, ["--nemesis", "kill,lose-unsynced", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "the disk fault(s) lose-unsynced need FUSE, which this machine cannot mount: /dev/fuse is missing" in \
        " ".join(result.output.split())
    assert not any(tmp_path.iterdir())
    assert nemesis.unavailable(["kill", "corrupt-file"]) is None
