"""The disk faults' options: defaults, every key read and checked, keys of faults the run does not inject refused,
and the DiskFaults each fault puts in force."""

from __future__ import annotations

import pytest

from cluster.faultfs import DiskFaults
from harness.spec import SpecError
from nemesis import check_run
from nemesis.disk import FAULTS
from nemesis.disk_options import KEYS, DiskOptions


def test_no_options_give_the_documented_defaults():
    options = DiskOptions.parse({}, FAULTS)
    assert options.slow() == DiskFaults(read_delay=0.0, write_delay=0.005, fsync_delay=0.05)
    assert options.errors(seed=7) == DiskFaults(error_probability=1.0, error_ops=("write", "fsync"), seed=7)
    assert options.full() == DiskFaults(budget=0)
    assert options.corrupt_kind("broker") == "closed-segment" and options.corrupt_kind("keeper") == "keeper-log"
    assert (options.corrupt_mode, options.bitflips, options.truncate_bytes) == ("bitflip", 8, 64)


def test_every_key_sets_what_it_names():
    options = DiskOptions.parse({
        "read-delay-ms": "1.5", "write-delay-ms": "0", "fsync-delay-ms": "200", "error-probability": "0.25",
        "error-ops": "read, fsync", "disk-budget-bytes": "4096", "corrupt-file": "index", "corrupt-mode": "truncate",
        "truncate-bytes": "3"}, FAULTS)
    assert options.slow() == DiskFaults(read_delay=0.0015, write_delay=0.0, fsync_delay=0.2)
    assert options.errors(seed=1) == DiskFaults(error_probability=0.25, error_ops=("read", "fsync"), seed=1)
    assert options.full() == DiskFaults(budget=4096)
    assert options.corrupt_kind("broker") == "index" and options.corrupt_kind("keeper") == "index"
    assert (options.corrupt_mode, options.truncate_bytes) == ("truncate", 3)
    assert DiskOptions.parse({"bitflips": "2"}, FAULTS).bitflips == 2


@pytest.mark.parametrize(("options", "message"), [
    ({"fsync-delay": "5"}, "unknown key 'fsync-delay'; known: read-delay-ms, "),
    ({"fsync-delay-ms": "slow"}, "fsync-delay-ms='slow': must be a number"),
    ({"fsync-delay-ms": "-1"}, "fsync-delay-ms='-1': must be at least 0"),
    ({"read-delay-ms": "inf"}, "read-delay-ms='inf': must be at least 0"),
    ({"error-probability": "1.5"}, "error-probability='1.5': must be between 0 and 1"),
    ({"error-ops": "write,flush"}, "error-ops='write,flush': must be a comma-separated list of read, write, fsync"),
    ({"error-ops": ""}, "error-ops='': must be a comma-separated list"),
    ({"disk-budget-bytes": "1.5"}, "disk-budget-bytes='1.5': must be a whole number"),
    ({"corrupt-file": "segment"}, "corrupt-file='segment': must be one of closed-segment, active-segment, index, "
                                  "checkpoint, keeper-log, keeper-snapshot"),
    ({"corrupt-mode": "zero"}, "corrupt-mode='zero': must be one of bitflip, truncate"),
    ({"bitflips": "0"}, "bitflips='0': must be at least 1"),
    ({"truncate-bytes": "4", "corrupt-mode": "bitflip"}, "truncate-bytes applies to corrupt-mode=truncate"),
    ({"bitflips": "4", "corrupt-mode": "truncate"}, "bitflips applies to corrupt-mode=bitflip"),
])
def test_a_bad_key_or_value_is_refused_by_name(options, message):
    with pytest.raises(SpecError, match="nemesis_options: ") as refused:
        check_run(FAULTS, options, {})
    assert message in str(refused.value)


def test_the_entry_model_is_an_option_of_both_power_losses():
    for fault in ("lose-unsynced", "torn-write"):
        assert DiskOptions.parse({"disk-entries": "journaled"}, (fault,)).disk_entries == "journaled"
    assert DiskOptions.parse({}, ("lose-unsynced",)).disk_entries == "strict"
    with pytest.raises(SpecError, match="disk-entries is an option of the lose-unsynced and torn-write faults"):
        DiskOptions.parse({"disk-entries": "journaled"}, ("slow-disk",))
    with pytest.raises(SpecError, match="must be one of strict, journaled"):
        DiskOptions.parse({"disk-entries": "ext4"}, ("lose-unsynced",))


@pytest.mark.parametrize(("key", "value", "fault"), [
    ("read-delay-ms", "1", "slow-disk"), ("error-ops", "write", "disk-error"), ("disk-budget-bytes", "1", "disk-full"),
    ("bitflips", "1", "corrupt-file")])
def test_an_option_of_a_fault_the_run_does_not_inject_is_refused(key, value, fault):
    others = tuple(name for name in FAULTS if name != fault) + ("kill",)
    with pytest.raises(SpecError, match=f"{key} is an option of the {fault} fault, which this run does not inject"):
        DiskOptions.parse({key: value}, others)
    assert KEYS[key].faults == (fault,)
    DiskOptions.parse({key: value}, (fault,))
