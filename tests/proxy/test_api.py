"""The HTTP API as Toxiproxy 2.x clients see it: toxiproxy-python's calls, Toxiproxy's JSON and status codes,
and bad requests refused with the documented error while the server and its connections carry on."""

from __future__ import annotations

import http.client
import json
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from toxiproxy import Toxiproxy
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from cluster.proxy.server import ProxyServer
from tests.proxy.peers import connect, round_trip


def raw(server: ProxyServer, method: str, path: str, body: bytes | str | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, object]:
    """One request as sent by hand, for what no client library would send; (status, decoded JSON or None)."""
    host, _, port = server.address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        connection.close()


def test_a_proxy_is_created_listed_shown_and_destroyed(toxiproxy: Toxiproxy, server: ProxyServer,
                                                        echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    assert proxy.enabled and proxy.listen.startswith("127.0.0.1:") and not proxy.listen.endswith(":0")
    assert set(toxiproxy.proxies()) == {"echo"}
    status, shown = raw(server, "GET", "/proxies/echo")
    assert status == 200
    assert shown == {"name": "echo", "listen": proxy.listen, "upstream": echo_upstream, "enabled": True,
                     "toxics": []}
    with connect(proxy.listen) as client:
        round_trip(client)
    assert proxy.destroy()
    assert toxiproxy.proxies() == {}
    with pytest.raises(ConnectionRefusedError):
        connect(proxy.listen)


def test_version_answers_as_toxiproxy_2(toxiproxy: Toxiproxy) -> None:
    assert json.loads(toxiproxy.version())["version"].startswith("2.")


def test_toxics_are_added_listed_shown_updated_and_removed(toxiproxy: Toxiproxy, server: ProxyServer,
                                                           echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    proxy.add_toxic(type="latency", attributes={"latency": 100, "jitter": 10})
    proxy.add_toxic(type="bandwidth", stream="upstream", name="slow", toxicity=0.5, attributes={"rate": 50})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "slow"}
    assert (toxics["slow"].type, toxics["slow"].stream, toxics["slow"].toxicity) == ("bandwidth", "upstream", 0.5)
    assert toxics["latency_downstream"].attributes == {"latency": 100, "jitter": 10}
    status, updated = raw(server, "POST", "/proxies/echo/toxics/slow", json.dumps({"attributes": {"rate": 70}}))
    assert status == 200 and updated == {"name": "slow", "type": "bandwidth", "stream": "upstream",
                                         "toxicity": 0.5, "attributes": {"rate": 70}}
    assert raw(server, "GET", "/proxies/echo/toxics/slow") == (200, updated)
    assert raw(server, "GET", "/proxies")[1]["echo"]["toxics"][1] == updated  # type: ignore[index]
    assert proxy.destroy_toxic("slow")
    assert set(proxy.toxics()) == {"latency_downstream"}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("slow")


def test_disabling_closes_connections_and_refuses_new_ones_until_enabled(toxiproxy: Toxiproxy,
                                                                         echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with connect(proxy.listen) as client:
        round_trip(client)
        proxy.disable()
        assert client.recv(10) == b""
    with pytest.raises(ConnectionRefusedError):
        connect(proxy.listen)
    assert toxiproxy.get_proxy("echo").enabled is False
    proxy.enable()
    with connect(proxy.listen) as client:
        round_trip(client)


def test_reset_enables_every_proxy_and_removes_every_toxic(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    first = toxiproxy.create(upstream=echo_upstream, name="first")
    second = toxiproxy.create(upstream=echo_upstream, name="second")
    first.add_toxic(type="timeout", attributes={"timeout": 0})
    second.disable()
    assert toxiproxy.reset()
    assert [proxy.enabled for proxy in toxiproxy.proxies().values()] == [True, True]
    assert first.toxics() == {} and second.toxics() == {}
    with connect(second.listen) as client:
        round_trip(client)


def test_populate_creates_keeps_and_replaces(toxiproxy: Toxiproxy, server: ProxyServer, echo_upstream: str) -> None:
    created = toxiproxy.populate([{"name": "a", "upstream": echo_upstream, "listen": "127.0.0.1:0"}])
    listen = created[0].listen
    wanted = [{"name": "a", "upstream": echo_upstream, "listen": listen},
              {"name": "b", "upstream": echo_upstream, "listen": "127.0.0.1:0", "enabled": False}]
    status, body = raw(server, "POST", "/populate", json.dumps(wanted))
    assert status == 201
    proxies = {proxy["name"]: proxy for proxy in body["proxies"]}  # type: ignore[index]
    assert proxies["a"]["listen"] == listen and proxies["b"]["enabled"] is False
    status, body = raw(server, "POST", "/populate", json.dumps([{"name": "a", "upstream": "127.0.0.1:1",
                                                                 "listen": listen}]))
    assert status == 201 and body["proxies"][0]["upstream"] == "127.0.0.1:1"  # type: ignore[index]
    assert set(toxiproxy.proxies()) == {"a", "b"}


def test_unknown_and_duplicate_names_answer_404_and_409(toxiproxy: Toxiproxy, server: ProxyServer,
                                                        echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream=echo_upstream, name="echo")
    assert raw(server, "POST", "/proxies", json.dumps({"name": "echo", "upstream": echo_upstream}))[0] == 409
    proxy.add_toxic(type="latency")
    assert raw(server, "POST", "/proxies/echo/toxics", json.dumps({"type": "latency"}))[0] == 409
    for method, path in (("GET", "/proxies/nope"), ("DELETE", "/proxies/nope"), ("GET", "/proxies/nope/toxics"),
                         ("GET", "/proxies/echo/toxics/nope"), ("DELETE", "/proxies/echo/toxics/nope")):
        status, body = raw(server, method, path)
        assert status == 404 and body["status"] == 404 and "not found" in body["error"], (method, path)  # type: ignore[index]
    assert raw(server, "GET", "/nowhere")[0] == 404
    assert raw(server, "PUT", "/proxies")[0] == 405


BAD_TOXICS = {
    "unknown type": {"type": "packet_sorcery"},
    "no type": {"attributes": {"latency": 10}},
    "unknown attribute": {"type": "latency", "attributes": {"latncy": 10}},
    "negative value": {"type": "latency", "attributes": {"latency": -5}},
    "fraction": {"type": "bandwidth", "attributes": {"rate": 1.5}},
    "string value": {"type": "timeout", "attributes": {"timeout": "100"}},
    "bad stream": {"type": "latency", "stream": "sideways"},
    "toxicity over 1": {"type": "latency", "toxicity": 2},
    "slicer variation too large": {"type": "slicer", "attributes": {"average_size": 10, "size_variation": 10}},
    "not an object": ["latency"],
}


@pytest.mark.parametrize("body", BAD_TOXICS.values(), ids=BAD_TOXICS.keys())
def test_a_bad_toxic_is_refused_with_400(toxiproxy: Toxiproxy, server: ProxyServer, echo_upstream: str,
                                         body: object) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    status, answer = raw(server, "POST", "/proxies/echo/toxics", json.dumps(body))
    assert status == 400 and answer["status"] == 400 and answer["error"]  # type: ignore[index]
    assert proxy.toxics() == {}


def test_the_client_library_raises_on_a_bad_toxic(toxiproxy: Toxiproxy, echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="latency", attributes={"latency": -1})


BAD_PROXIES = {
    "malformed JSON": b'{"name": "x", "upstream": ',
    "not UTF-8": b"\xff\xfe",
    "no name": json.dumps({"upstream": "127.0.0.1:9"}),
    "no upstream": json.dumps({"name": "x"}),
    "upstream without port": json.dumps({"name": "x", "upstream": "localhost"}),
    "port out of range": json.dumps({"name": "x", "upstream": "127.0.0.1:9", "listen": "127.0.0.1:70000"}),
    "enabled not a boolean": json.dumps({"name": "x", "upstream": "127.0.0.1:9", "enabled": "yes"}),
}


@pytest.mark.parametrize("body", BAD_PROXIES.values(), ids=BAD_PROXIES.keys())
def test_a_bad_proxy_is_refused_with_400(toxiproxy: Toxiproxy, server: ProxyServer, body: bytes | str) -> None:
    status, answer = raw(server, "POST", "/proxies", body)
    assert status == 400 and answer["status"] == 400  # type: ignore[index]
    assert toxiproxy.proxies() == {}


def test_bad_input_leaves_the_server_serving_and_open_connections_unharmed(toxiproxy: Toxiproxy,
                                                                           server: ProxyServer,
                                                                           echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with connect(proxy.listen) as client:
        round_trip(client)
        raw(server, "POST", "/proxies/echo/toxics", b"{{{")
        raw(server, "POST", "/populate", json.dumps([{"name": "echo", "upstream": "nowhere"}]))
        raw(server, "POST", "/proxies/echo", json.dumps({"enabled": "maybe"}))
        _garbage(server.address)
        round_trip(client, b"still here")
    assert toxiproxy.get_proxy("echo").enabled


def _garbage(address: str) -> None:
    """Not HTTP at all: the server answers 400 on that connection and closes it."""
    with connect(address) as sock:
        sock.sendall(b"\x00\x01 hello\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")


def test_a_listen_address_in_use_answers_500_and_creates_nothing(toxiproxy: Toxiproxy, server: ProxyServer,
                                                                  echo_upstream: str) -> None:
    proxy = toxiproxy.create(upstream=echo_upstream, name="echo")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        status, answer = raw(server, "POST", "/proxies", json.dumps({"name": "second", "upstream": echo_upstream,
                                                                     "listen": address}))
        assert status == 500 and "address already in use" in answer["error"].lower()  # type: ignore[index]
        assert set(toxiproxy.proxies()) == {"echo"}
        status, _ = raw(server, "POST", "/proxies/echo", json.dumps({"listen": address}))
        assert status == 500
    assert toxiproxy.get_proxy("echo").enabled is False


def test_a_client_is_closed_when_the_upstream_cannot_be_reached(toxiproxy: Toxiproxy) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        nowhere = f"127.0.0.1:{closed.getsockname()[1]}"
    proxy = toxiproxy.create(upstream=nowhere, name="nowhere")
    with connect(proxy.listen) as client:
        assert client.recv(10) == b""
    assert toxiproxy.get_proxy("nowhere").enabled


def test_browsers_are_turned_away(server: ProxyServer) -> None:
    assert raw(server, "GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})[0] == 403


@settings(max_examples=60)
@given(st.binary(max_size=300) | st.builds(lambda head, tail: head + b"\r\n\r\n" + tail,
                                           st.binary(max_size=100), st.binary(max_size=100)))
def test_whatever_a_client_sends_the_server_keeps_answering(server: ProxyServer, sent: bytes) -> None:
    with connect(server.address, timeout=5) as sock:
        sock.sendall(sent)
        sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(4096):
                pass
        except ConnectionResetError:
            pass
    assert raw(server, "GET", "/version")[0] == 200
