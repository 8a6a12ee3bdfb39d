"""The partition nemesis, checked the same way on containers and on local processes.

Reachability is probed as a node's own process meets it: a TCP connection opened by a command the
node handle runs as the node (in its container, or on the host in its cgroup) to a peer's port,
which a partition must cut in both directions and reconnect must restore.
"""

from __future__ import annotations

import random

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
    assert done == {"nodes": [isolated.name], "action": "isolate", "cut_off_from": [n.name for n in others]}
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
