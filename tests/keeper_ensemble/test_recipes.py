"""kazoo's Lock and Election recipes over several clients, with mutual exclusion checked, not assumed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from kazoo.client import KazooClient

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from tests.keeper_ensemble.conftest import Connect

CLIENTS = 4
ROUNDS = 5
WAIT = 60


class Exclusive:
    """Counts how many holders are inside at once; more than one is a broken lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self.most_inside = 0
        self.holders: list[str] = []

    def enter(self, holder: str) -> None:
        with self._lock:
            self._inside += 1
            self.most_inside = max(self.most_inside, self._inside)
            self.holders.append(holder)

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1


def test_the_lock_recipe_lets_one_client_in_at_a_time(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    clients = [connect(ensemble.nodes[n % len(ensemble.nodes)].address) for n in range(CLIENTS)]
    clients[0].create(f"{root}/counter", b"0", makepath=True)
    exclusive = Exclusive()

    def work(number: int, client: KazooClient) -> None:
        lock = client.Lock(f"{root}/lock", identifier=f"client-{number}")
        for _ in range(ROUNDS):
            with lock:
                exclusive.enter(f"client-{number}")
                client.sync(f"{root}/counter")
                count = int(client.get(f"{root}/counter")[0])
                client.set(f"{root}/counter", str(count + 1).encode())
                exclusive.leave()

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(work, n, client) for n, client in enumerate(clients)]:
            future.result(timeout=WAIT)
    assert exclusive.most_inside == 1
    assert sorted(set(exclusive.holders)) == [f"client-{n}" for n in range(CLIENTS)]
    clients[0].sync(f"{root}/counter")
    assert clients[0].get(f"{root}/counter")[0] == str(CLIENTS * ROUNDS).encode()
    assert clients[0].get_children(f"{root}/lock") == []


def test_the_election_recipe_elects_one_leader_at_a_time(ensemble: KeeperEnsemble, connect: Connect, root: str) -> None:
    clients = [connect(ensemble.nodes[n % len(ensemble.nodes)].address) for n in range(CLIENTS)]
    elections = [client.Election(f"{root}/election", identifier=f"candidate-{n}") for n, client in enumerate(clients)]
    exclusive = Exclusive()
    everyone_waiting = threading.Barrier(CLIENTS)

    def lead(number: int) -> None:
        exclusive.enter(f"candidate-{number}")
        contenders = elections[number].contenders()
        exclusive.leave()
        assert contenders[0] == f"candidate-{number}"

    def campaign(number: int) -> None:
        everyone_waiting.wait(timeout=WAIT)
        elections[number].run(lead, number)

    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(campaign, n) for n in range(CLIENTS)]:
            future.result(timeout=WAIT)
    assert exclusive.most_inside == 1
    assert sorted(exclusive.holders) == [f"candidate-{n}" for n in range(CLIENTS)]
    clients[0].sync(f"{root}/election")  # the last candidate's server deleted its node; this one may lag
    assert clients[0].get_children(f"{root}/election") == []
