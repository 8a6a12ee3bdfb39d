"""Address blocks and ports claimed by several processes at once: no two of them get the same one.

This is what lets pytest-xdist workers, and separate runs, share one machine.
"""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Iterator
from multiprocessing.synchronize import Barrier

import pytest

from cluster.deploy import ports
from cluster.deploy.claims import claim
from cluster.deploy.local import LocalBackend
from cluster.deploy.ports import PortBlocks

PROCESSES = 4
PORTS_EACH = 40


def _claim_and_hold(worker: int, barrier: Barrier, results: multiprocessing.Queue) -> None:
    """Claims a block of loopback addresses and ports; holds them until every worker has claimed its own."""
    backend = LocalBackend(f"claims-{worker}")
    try:
        barrier.wait(60)  # all start claiming together
        hosts = backend.hosts(3)
        taken = ports.free_ports(PORTS_EACH // 2) + [ports.free_port() for _ in range(PORTS_EACH // 2)]
        results.put((worker, hosts, taken))
        barrier.wait(60)  # nobody gives anything up before everyone holds theirs
    finally:
        backend.release()


def test_processes_claiming_at_once_get_distinct_address_blocks_and_ports():
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [context.Process(target=_claim_and_hold, args=(n, barrier, results)) for n in range(PROCESSES)]
    for worker in workers:
        worker.start()
    claimed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    blocks = [hosts[0].rsplit(".", 1)[0] for _, hosts, _ in claimed]
    assert len(set(blocks)) == PROCESSES, f"two processes claimed one address block: {blocks}"
    every_port = [port for _, _, taken in claimed for port in taken]
    assert len(every_port) == len(set(every_port)) == PROCESSES * PORTS_EACH, "a port was handed out twice"
    assert all(ports.FIRST_PORT <= port < 32768 for port in every_port), "ports stay below the ephemeral range"


def _ports_in_a_child(results: multiprocessing.Queue) -> None:
    results.put(ports.free_ports(5))


def test_a_forked_child_claims_blocks_of_its_own():
    mine = ports.free_ports(5)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_ports_in_a_child, args=(results,))
    child.start()
    theirs = results.get(timeout=60)
    child.join(60)
    block = {port // ports.BLOCK_SIZE for port in mine}
    assert not block & {port // ports.BLOCK_SIZE for port in theirs}


@pytest.fixture
def quiet_ports() -> Iterator[int]:
    """The first of eight free ports that no other process is handed while the test runs: in a block it holds."""
    for first in range(ports.FIRST_PORT, ports.FIRST_PORT + ports.BLOCK_COUNT * ports.BLOCK_SIZE, ports.BLOCK_SIZE):
        held = claim(ports.PORT_CLAIMS, str(first))
        if held is None:
            continue
        with held:
            if all(ports.port_is_free(ports.HOST, port) for port in range(first, first + 8)):
                yield first
                return
    raise AssertionError("no port block with eight free ports to claim")


def test_ports_come_in_turn_skip_bound_ones_and_a_used_up_block_claims_the_next(tmp_path, quiet_ports):
    first = quiet_ports
    blocks = PortBlocks(tmp_path, first_port=first, block_size=4, block_count=2)
    with _listening(first + 1):
        assert blocks.take(3) == [first, first + 2, first + 3]
        assert blocks.take(1) == [first + 4]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([str(first), str(first + 4)])


def test_a_block_another_process_holds_is_passed_over(tmp_path, quiet_ports):
    first = quiet_ports
    with claim(tmp_path, str(first)):
        blocks = PortBlocks(tmp_path, first_port=first, block_size=4, block_count=2)
        assert blocks.take(4) == list(range(first + 4, first + 8))


def test_with_every_block_claimed_a_process_comes_round_to_its_ports_not_bound_any_more(tmp_path, quiet_ports):
    first = quiet_ports
    blocks = PortBlocks(tmp_path, first_port=first, block_size=4, block_count=1)
    assert blocks.take(4) == list(range(first, first + 4))
    assert blocks.take(2) == [first, first + 1]


def test_with_every_port_bound_the_error_says_so(tmp_path, quiet_ports):
    first = quiet_ports
    blocks = PortBlocks(tmp_path, first_port=first, block_size=2, block_count=1)
    with _listening(first), _listening(first + 1):
        with pytest.raises(ports.NoFreePort, match=f"{first}-{first + 1} is bound"):
            blocks.take(1)


def test_with_every_block_held_by_others_the_error_says_so(tmp_path, quiet_ports):
    first = quiet_ports
    with claim(tmp_path, str(first)):
        with pytest.raises(ports.NoFreePort, match="other processes hold every block"):
            PortBlocks(tmp_path, first_port=first, block_size=2, block_count=1).take(1)


def _listening(port: int) -> socket.socket:
    """A server on `port`, set up as servers are (SO_REUSEADDR: earlier connections in TIME_WAIT do not stop it)."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((ports.HOST, port))
    server.listen()
    return server
