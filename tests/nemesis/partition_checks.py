"""The partition nemesis, checked the same way on containers and on local processes.

Reachability is probed as a node's own process meets it: a TCP connection opened by a command the
node handle runs as the node (in its container, or on the host in its cgroup) to a peer's port,
which a partition must cut in both directions and reconnect must restore.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import nemesis
from cluster.deploy.node import Node
from tests.deploy.kafka_io import answers_metadata

PROBE = """
import socket, sys
with socket.socket() as sock:
    sock.settimeout(1.5)
    try:
        sock.connect((sys.argv[1], int(sys.argv[2])))
        print("reached")
    except OSError as error:
        print("cut:", error)
"""


def reaches(source: Node, target: Node, python: str) -> bool:
    code, output = source.exec([python, "-c", PROBE, target.host, str(target.port)])
    assert code == 0, output
    return output.startswith("reached")


def check_partition_cuts_both_ways_until_stopped(deployment, python: str) -> None:
    """One broker is cut off from every other node; the others still reach each other, the host reaches all."""
    faults = nemesis.build(["partition", "kill"], deployment, {"rng": random.Random(7)})
    isolated = deployment.brokers[0]
    others = [node for node in deployment.nodes if node is not isolated]
    done = faults.invoke("start-partition", [isolated.name])
    assert {key: done[key] for key in ("nodes", "action", "cut_off_from")} == {
        "nodes": [isolated.name], "action": "drop", "cut_off_from": [n.name for n in others]}
    assert done["grudge"][isolated.name] == sorted(n.name for n in others)
    assert all(done["grudge"][n.name] == [isolated.name] for n in others)
    assert faults.active() == [f"partition {isolated.name}"]
    for other in others:
        assert not reaches(isolated, other, python), f"{isolated.name} still reaches {other.name}"
        assert not reaches(other, isolated, python), f"{other.name} still reaches {isolated.name}"
    assert reaches(others[0], others[-1], python)
    assert answers_metadata(isolated.address), "clients on the host must still reach a cut-off node"
    with pytest.raises(nemesis.NemesisError, match="already held by the partition fault"):
        faults.invoke("start-kill", [isolated.name])
    faults.invoke("stop-partition", None)
    assert faults.active() == []
    assert reaches(isolated, others[0], python) and reaches(others[0], isolated, python)


def check_group_talks_within_itself_until_heal(deployment, python: str) -> None:
    """A majority of brokers, cut off together, still talk among themselves; heal() undoes the cut."""
    faults = nemesis.build(["partition"], deployment, {"rng": random.Random(1)})
    group = [deployment.node(name) for name in faults.invoke("start-partition", "majority")["nodes"]]
    outside = [node for node in deployment.nodes if node not in group]
    assert len(group) == 2 and len(outside) == 2
    assert reaches(group[0], group[1], python)
    assert not reaches(group[0], outside[0], python) and not reaches(outside[1], group[1], python)
    assert faults.heal() == [{"fault": "partition", "nodes": [n.name for n in group], "action": "reconnect"}]
    assert all(reaches(node, peer, python) for node in group for peer in outside)


LISTEN = """
import socket, sys, time
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind((sys.argv[1], int(sys.argv[2])))
    sock.settimeout(0.2)
    heard, deadline = set(), time.monotonic() + float(sys.argv[3])
    while time.monotonic() < deadline:
        try:
            heard.add(sock.recv(100).decode())
        except socket.timeout:
            pass
print(" ".join(sorted(heard)))
"""
SEND = """
import socket, sys, time
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for _ in range(15):
        for host in sys.argv[3:]:
            try:
                sock.sendto(sys.argv[1].encode(), (host, int(sys.argv[2])))
            except PermissionError:  # a DROP in OUTPUT, where the sender's own rules drop what it sends
                pass
        time.sleep(0.1)
"""
DATAGRAM_PORT = 9999


def observed_grudge(deployment, python: str) -> dict[str, list[str]]:
    """Who drops whose packets, as measured: every node sends datagrams to every other, each from its own
    process, and a node holds a grudge against each peer none of whose datagrams arrived. Datagrams rather
    than connections, since a one-way cut breaks a TCP handshake in both directions."""
    nodes = list(deployment.nodes)
    with ThreadPoolExecutor(len(nodes) * 2) as pool:
        heard = {node.name: pool.submit(node.exec, [python, "-c", LISTEN, node.host, str(DATAGRAM_PORT), "3"])
                 for node in nodes}
        time.sleep(0.5)
        sent = [pool.submit(node.exec, [python, "-c", SEND, node.name, str(DATAGRAM_PORT),
                                        *(peer.host for peer in nodes if peer is not node)]) for node in nodes]
        assert all(future.result()[0] == 0 for future in sent), [future.result() for future in sent]
        grudge = {}
        for node in nodes:
            code, output = heard[node.name].result()
            assert code == 0, output
            missing = sorted({peer.name for peer in nodes if peer is not node} - set(output.split()))
            if missing:
                grudge[node.name] = missing
    return grudge


def check_grudges_are_applied_exactly_and_healed(deployment, python: str) -> None:
    """A one-way grudge and a shape drop exactly the packets their grudge names, and stop-partition restores
    every link; the one-way cut keeps the keeper free for other faults, since the broker holds its rules."""
    faults = nemesis.build(["partition", "pause"], deployment, {"rng": random.Random(3)})
    broker = deployment.brokers[0]
    done = faults.invoke("start-partition", f"{broker.name}:all-keepers")
    keepers = sorted(keeper.name for keeper in deployment.keepers)
    assert done["grudge"] == {broker.name: keepers} and done["nodes"] == [broker.name]
    assert done["parameters"] == {"grudge": f"{broker.name}:all-keepers"}
    assert observed_grudge(deployment, python) == done["grudge"]
    keeper = deployment.keepers[0]
    assert not reaches(broker, keeper, python), "the keeper's answers to a connection the broker opens are dropped"
    assert not reaches(keeper, broker, python), "what the keeper sends to the broker's listener is dropped"
    faults.invoke("start-pause", [keeper.name])
    faults.invoke("stop-pause", None)
    faults.invoke("stop-partition", None)
    assert observed_grudge(deployment, python) == {}
    assert reaches(broker, keeper, python) and reaches(keeper, broker, python)
    done = faults.invoke("start-partition", "majorities-ring")
    assert observed_grudge(deployment, python) == done["grudge"] != {}
    faults.heal()
    assert observed_grudge(deployment, python) == {}
