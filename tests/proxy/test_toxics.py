"""Each toxic's effect on real TCP connections through the proxy, set up with toxiproxy-python.

Times are only checked from below where a toxic must add delay (it cannot be faster than asked on any
machine); where a toxic must stop delaying, against a bound far above a loaded machine's round trip.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time

import pytest
from toxiproxy import Toxiproxy

from cluster.proxy.server import ProxyServer
from tests.proxy.peers import connect, read_all, round_trip, talker, tcp_server

FAR_BELOW = 0.4
"""A round trip that should not be delayed finishes well inside this many seconds even on a busy machine
(and inside the latencies these tests add)."""


def test_latency_adds_its_delay_to_each_round_trip_of_an_open_connection(toxiproxy: Toxiproxy,
                                                                         echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with connect(proxy.listen) as client:
        round_trip(client)
        proxy.add_toxic(type="latency", attributes={"latency": 500})
        assert all(round_trip(client) >= 0.5 for _ in range(2))
        proxy.add_toxic(type="latency", stream="upstream", attributes={"latency": 200})
        assert round_trip(client) >= 0.7
        proxy.destroy_toxic("latency_downstream")
        proxy.destroy_toxic("latency_upstream")
        assert round_trip(client) < FAR_BELOW


def test_latency_jitter_varies_the_delay_within_its_bounds(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 200, "jitter": 150})
    with connect(proxy.listen) as client:
        times = [round_trip(client) for _ in range(8)]
    assert min(times) >= 0.05
    assert max(times) - min(times) > 0.01


def test_bandwidth_caps_a_transfer(toxiproxy: Toxiproxy) -> None:
    payload = bytes(range(256)) * 400  # 102400 bytes
    with tcp_server(talker(payload)) as upstream:
        proxy = toxiproxy.create(upstream=upstream, name="talker")
        proxy.add_toxic(type="bandwidth", attributes={"rate": 200})  # 200 KB/s: at least 0.5 s
        started = time.monotonic()
        with connect(proxy.listen) as client:
            received, _ = read_all(client)
        assert received == payload
        assert time.monotonic() - started >= len(payload) / 200_000 * 0.95


def test_slow_close_delays_the_end_of_the_stream(toxiproxy: Toxiproxy) -> None:
    with tcp_server(talker(b"bye")) as upstream:
        proxy = toxiproxy.create(upstream=upstream, name="talker")
        proxy.add_toxic(type="slow_close", attributes={"delay": 400})
        with connect(proxy.listen) as client:
            assert client.recv(10) == b"bye"
            started = time.monotonic()
            assert client.recv(10) == b""
            assert time.monotonic() - started >= 0.3


def test_timeout_zero_holds_data_until_the_toxic_is_removed(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with connect(proxy.listen) as client:
        round_trip(client)
        proxy.add_toxic(type="timeout", attributes={"timeout": 0})
        client.sendall(b"held")
        client.settimeout(0.5)
        with pytest.raises(TimeoutError):
            client.recv(10)
        proxy.destroy_toxic("timeout_downstream")
        client.settimeout(10)
        assert client.recv(10) == b"held"
        round_trip(client)


def test_timeout_closes_the_connection_after_its_time(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="timeout", stream="upstream", attributes={"timeout": 300})
    started = time.monotonic()
    with connect(proxy.listen) as client:
        client.sendall(b"lost")
        assert client.recv(10) == b""
    assert time.monotonic() - started >= 0.3


def test_reset_peer_resets_the_connection(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with connect(proxy.listen) as client:
        round_trip(client)
        proxy.add_toxic(type="reset_peer", stream="upstream", attributes={"timeout": 0})
        client.sendall(b"x")
        with pytest.raises(ConnectionResetError):
            client.recv(10)


def test_reset_peer_waits_its_timeout_after_data(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="reset_peer", stream="upstream", attributes={"timeout": 300})
    with connect(proxy.listen) as client:
        started = time.monotonic()
        client.sendall(b"x")
        with pytest.raises(ConnectionResetError):
            client.recv(10)
        assert time.monotonic() - started >= 0.3


def test_a_reset_from_the_upstream_reaches_the_client_as_a_reset(toxiproxy: Toxiproxy) -> None:
    def reset_at_once(connection: socket.socket) -> None:
        connection.recv(10)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with tcp_server(reset_at_once) as upstream:
        proxy = toxiproxy.create(upstream=upstream, name="resetter")
        with connect(proxy.listen) as client:
            client.sendall(b"x")
            with pytest.raises(ConnectionResetError):
                client.recv(10)


def test_slicer_delivers_the_same_bytes_in_pieces(toxiproxy: Toxiproxy) -> None:
    payload = bytes(range(200))
    with tcp_server(talker(payload)) as upstream:
        proxy = toxiproxy.create(upstream=upstream, name="talker")
        proxy.add_toxic(type="slicer", attributes={"average_size": 20, "size_variation": 5, "delay": 20_000})
        with connect(proxy.listen) as client:
            received, pieces = read_all(client)
    assert received == payload
    assert len(pieces) >= 5 and max(map(len, pieces)) <= 50


def test_limit_data_closes_after_that_many_bytes(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="limit_data", attributes={"bytes": 1000})
    with connect(proxy.listen) as client:
        client.sendall(b"a" * 600)
        client.sendall(b"b" * 600)
        received, _ = read_all(client)
    assert received == b"a" * 600 + b"b" * 400


def test_toxicity_picks_connections_at_random(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    """With toxicity 0.5, 40 connections all reset or all spared would happen with probability 2^-39."""
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="reset_peer", stream="upstream", toxicity=0.5)
    outcomes = [_survives(proxy.listen) for _ in range(40)]
    assert 0 < sum(outcomes) < 40


@pytest.mark.parametrize("toxicity, survives", [(0.0, True), (1.0, False)])
def test_toxicity_zero_spares_and_one_hits_every_connection(toxiproxy: Toxiproxy, echo_upstream: str,
                                                            toxicity: float, survives: bool) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="reset_peer", stream="upstream", toxicity=toxicity)
    assert [_survives(proxy.listen) for _ in range(5)] == [survives] * 5


def _survives(listen: str) -> bool:
    with connect(listen) as client:
        try:
            round_trip(client)
        except (ConnectionResetError, AssertionError):
            return False
        return True


def test_toxics_on_one_proxy_leave_another_alone(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    slow = toxiproxy.create(upstream=echo_upstream, name="slow")
    fast = toxiproxy.create(upstream=echo_upstream, name="fast")
    slow.add_toxic(type="timeout", attributes={"timeout": 0})
    with connect(fast.listen) as client:
        assert round_trip(client) < FAR_BELOW
    with connect(slow.listen) as client:
        client.sendall(b"x")
        client.settimeout(0.3)
        with pytest.raises(socket.timeout):
            client.recv(1)


def test_closed_connections_leave_nothing_behind(toxiproxy: Toxiproxy, server: ProxyServer,
                                                 echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 10})
    clients = [connect(proxy.listen) for _ in range(20)]
    for client in clients:
        round_trip(client)
    assert server.registry.get("echo").connections == 20
    for client in clients:
        client.close()
    deadline = time.monotonic() + 10
    while server.registry.get("echo").connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.registry.get("echo").connections == 0


def test_toxics_coming_and_going_on_busy_connections_never_lose_or_reorder_a_byte(toxiproxy: Toxiproxy,
                                                                                 echo_upstream: str) -> None:
    """Streams echo through the proxy while delaying, slicing, throttling and holding toxics are added and
    removed under them: whatever path a chunk takes (straight through or queued for later), the bytes come
    back whole and in order."""
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    toxics = [{"type": "latency", "attributes": {"latency": 20, "jitter": 15}},
              {"type": "slicer", "stream": "upstream", "attributes": {"average_size": 300, "size_variation": 200,
                                                                      "delay": 500}},
              {"type": "bandwidth", "attributes": {"rate": 500}},
              {"type": "timeout", "stream": "upstream", "attributes": {"timeout": 0}}]
    outcomes: list[bool] = []
    streams = [threading.Thread(target=lambda: outcomes.append(_echoes_intact(proxy.listen, 2_000_000)))
               for _ in range(4)]
    for stream in streams:
        stream.start()
    rng = random.Random(7)
    toggles = 0
    while any(stream.is_alive() for stream in streams):
        toggles += 1
        toxic = rng.choice(toxics)
        proxy.add_toxic(**toxic)
        time.sleep(rng.uniform(0.01, 0.08))
        proxy.destroy_toxic(f"{toxic['type']}_{toxic.get('stream', 'downstream')}")
        time.sleep(rng.uniform(0.01, 0.05))
    assert outcomes == [True] * 4
    assert toggles >= 10, "the streams ended before the toxics had come and gone often enough to mean anything"


def _echoes_intact(listen: str, size: int) -> bool:
    payload = random.Random(size).randbytes(size)
    with connect(listen, timeout=60) as client:
        sender = threading.Thread(target=lambda: [client.sendall(payload[offset:offset + 4096])
                                                  for offset in range(0, size, 4096)])
        sender.start()
        received = bytearray()
        while len(received) < size:
            data = client.recv(65536)
            if not data:
                break
            received += data
        sender.join()
    return bytes(received) == payload
