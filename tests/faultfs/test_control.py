"""The control channel and the fault descriptions it carries, without a mount."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cluster.faultfs import DiskControl, DiskFaults, FaultFSError
from cluster.faultfs.control import ControlServer

faults = st.builds(
    DiskFaults,
    read_delay=st.floats(0, 10), write_delay=st.floats(0, 10), fsync_delay=st.floats(0, 10),
    error_probability=st.floats(0, 1),
    error_ops=st.lists(st.sampled_from(["read", "write", "fsync"]), unique=True).map(tuple),
    budget=st.none() | st.integers(0, 2**40), seed=st.integers(0, 2**32))


@given(faults)
def test_disk_faults_survive_the_json_round_trip(value: DiskFaults) -> None:
    assert DiskFaults.from_dict(value.to_dict()) == value


@pytest.mark.parametrize("bad", [{"fsync_delay": -1}, {"error_probability": 1.5}, {"error_ops": ["disk"]},
                                 {"budget": -5}, {"error_ops": "write"}, {"slowness": 3}])
def test_bad_fault_values_are_refused_with_the_reason(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        DiskFaults.from_dict(bad)


def test_requests_reach_the_handlers_even_through_a_long_socket_path() -> None:
    with tempfile.TemporaryDirectory() as directory:
        deep = Path(directory, *(["a-rather-long-directory-name"] * 5))
        deep.mkdir(parents=True)
        received = []
        handlers = {"set_faults": lambda request: received.append(DiskFaults.from_dict(request["faults"])),
                    "status": lambda request: {"answer": 42}}
        socket_path = deep / "control.sock"
        assert len(str(socket_path)) > 108
        ControlServer(socket_path, handlers).start()
        control = DiskControl(socket_path)
        control.set_faults(DiskFaults(budget=7))
        assert received == [DiskFaults(budget=7)]
        assert control.status() == {"answer": 42}
        with pytest.raises(FaultFSError, match="unknown op 'sync_all'"):
            control.sync_all()


def test_a_missing_daemon_is_a_clear_error() -> None:
    with pytest.raises(FaultFSError, match="status failed"):
        DiskControl(Path("/nonexistent/control.sock")).status()
