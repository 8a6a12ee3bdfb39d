"""The handler process's life: it ends with the process it serves (--exit-with) and when told, and refuses bad
settings by name. Its queue gets no packets here (no rule sends any), which is all these checks need."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import nemesis
from cluster.deploy import claims
from cluster.deploy.packet_rules import QUEUE_CLAIMS, NodePackets, PacketRuleError, claim_queue
from cluster.packets import process
from cluster.packets.handler import READY
from cluster.packets.handling import PacketFault
from cluster.packets.process import unavailable_reason
from tests.facilities import require


@pytest.fixture
def queue():
    reason = unavailable_reason()
    require(reason is None, "root and netfilterqueue", reason or "")
    number, claim = claim_queue()
    yield number
    claim.close()


def start_handler(queue: int, *extra: str) -> subprocess.Popen[str]:
    handler = subprocess.Popen([sys.executable, "-m", "cluster.packets", "--queue", str(queue), "--fault", "delay",
                                "--delay-ms", "50", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert handler.stdout is not None and handler.stdout.readline().strip() == READY, handler.stderr
    return handler


def test_the_handler_ends_once_the_process_it_serves_is_gone(queue):
    harness = subprocess.Popen(["sleep", "60"])
    handler = start_handler(queue, "--exit-with", str(harness.pid))
    try:
        harness.kill()
        harness.wait()
        assert handler.wait(5) == 0
        assert "handled 0 packets" in handler.stderr.read()
    finally:
        handler.kill()
        handler.wait()


def test_the_handler_ends_when_told(queue):
    handler = start_handler(queue)
    handler.terminate()
    assert handler.wait(5) == 0


def test_a_harness_holding_descriptors_above_select_s_limit_starts_its_handler(queue, tmp_path):
    """A harness that has run many tests holds descriptors beyond 1024, which select() refuses."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        handler = process.HandlerProcess([], queue, PacketFault("delay", delay_ms=10), 1, tmp_path / "handler.log")
        assert handler.is_running()
        handler.stop()
        assert not handler.is_running()
    finally:
        for descriptor in held:
            os.close(descriptor)


def test_a_handler_that_does_not_start_leaves_nothing_to_remove(tmp_path):
    """No rule was added, so restoring lists no chain (iptables-nft may call a chain never made "incompatible")."""
    commands: list[list[str]] = []
    packets = NodePackets("k1", "logquake-test-packets", ("OUTPUT",), lambda argv: commands.append(argv) or (0, ""),
                          tmp_path / "handler.log")
    with pytest.raises(PacketRuleError, match="did not start"):
        packets.queue(lambda target: [("-j", *target)], PacketFault("delay"), 1, prefix=["false"])
    packets.restore()
    assert commands == []


def test_bad_settings_end_it_with_a_clear_error(queue):
    done = subprocess.run([sys.executable, "-m", "cluster.packets", "--queue", str(queue), "--fault", "corrupt",
                           "--probability", "2"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "probability must be between 0 and 1" in done.stderr


def test_a_run_on_a_machine_without_netfilterqueue_is_told_what_to_install(monkeypatch):
    monkeypatch.setattr(process.os, "geteuid", lambda: 0)
    monkeypatch.setattr(process.shutil, "which", lambda name: f"/usr/sbin/{name}")
    monkeypatch.setattr(process.importlib.util, "find_spec", lambda name: None)
    reason = nemesis.unavailable(["kill", "packet-reorder"])
    assert reason is not None and "packet-reorder" in reason
    assert "netfilterqueue" in reason and "libnetfilter-queue-dev" in reason and "make install" in reason


def test_queue_numbers_are_claimed_one_holder_at_a_time():
    first, first_claim = claim_queue()
    second, second_claim = claim_queue()
    try:
        assert first != second
        assert claims.claim(QUEUE_CLAIMS, str(first)) is None, "a claimed number must not be claimed twice"
    finally:
        second_claim.close()
        first_claim.close()
