"""Writers keep creating znodes while servers are killed, stopped gracefully and paused: no
acknowledged create is lost, none is applied twice, and every server ends with the same tree."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.facilities import require
from tests.keeper_server.ensemble import Ensemble

try:
    from kazoo.client import KazooClient
    from kazoo.exceptions import ConnectionLoss, NodeExistsError, SessionExpiredError
except ImportError:
    KAZOO_MISSING = True
else:
    KAZOO_MISSING = False

FAULT_SECONDS = 20.0
WRITERS = 3
SEED = 20261125

pytestmark = pytest.mark.timeout(300)


class _Writer(threading.Thread):
    def __init__(self, number: int, hosts: str, stop: threading.Event) -> None:
        super().__init__(name=f"writer-{number}")
        self.number = number
        self.hosts = hosts
        self.stop_event = stop
        self.acknowledged: list[str] = []
        self.duplicates: list[str] = []

    def run(self) -> None:
        client = KazooClient(hosts=self.hosts, timeout=5, connection_retry={"max_tries": -1, "delay": 0.1})
        client.start(timeout=60)
        attempt = 0
        while not self.stop_event.is_set():
            attempt += 1
            path = f"/w{self.number}-{attempt}"
            try:
                client.create(path, b"v")
                self.acknowledged.append(path)
            except NodeExistsError:
                self.duplicates.append(path)  # each path is tried once: it can only exist if applied twice
            except (ConnectionLoss, SessionExpiredError):
                time.sleep(0.1)  # outcome unknown: the node may or may not exist
        client.stop()
        client.close()


def _inject_faults(ensemble: Ensemble, rng: random.Random) -> list[str]:
    timeline = []
    end = time.monotonic() + FAULT_SECONDS
    while time.monotonic() < end:
        victim = rng.choice(ensemble.servers)
        fault = rng.choice(["kill", "term", "pause"])
        timeline.append(f"{fault} {victim.server_id}")
        if fault == "pause":
            victim.process.pause()
            time.sleep(rng.uniform(0.5, 4))
            victim.process.resume()
        else:
            victim.stop(signal.SIGKILL if fault == "kill" else signal.SIGTERM)
            time.sleep(rng.uniform(0.5, 3))
            victim.start()
        time.sleep(rng.uniform(0.5, 2))
    return timeline


def test_no_acknowledged_write_is_lost_under_kills_restarts_and_pauses(tmp_path: Path) -> None:
    require(not KAZOO_MISSING, "kazoo", "pip install kazoo into the venv")
    ensemble = Ensemble.create(tmp_path, 3, extra="snapCount=200\n")
    stop = threading.Event()
    writers = [_Writer(n, "", stop) for n in range(WRITERS)]
    try:
        ensemble.start()
        for writer in writers:
            writer.hosts = ensemble.hosts
            writer.start()
        timeline = _inject_faults(ensemble, random.Random(SEED))
        stop.set()
        for writer in writers:
            writer.join(timeout=120)
        ensemble.start()
        trees = []
        for server in ensemble.servers:
            client = KazooClient(hosts=server.address)
            client.start(timeout=60)
            client.sync("/")
            trees.append({f"/{name}" for name in client.get_children("/")})
            client.stop()
            client.close()
        acknowledged = [path for writer in writers for path in writer.acknowledged]
        assert acknowledged, f"no write was acknowledged; faults: {timeline}"
        assert [path for path in acknowledged if path not in trees[0]] == [], f"lost writes; faults: {timeline}"
        assert [path for writer in writers for path in writer.duplicates] == []
        assert trees[0] == trees[1] == trees[2]
    finally:
        stop.set()
        ensemble.stop()  # stopping continues a paused server first
