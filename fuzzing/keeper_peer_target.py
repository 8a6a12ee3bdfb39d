"""A keeper's peer port as a fuzzing target: a keeper ensemble of two, each fuzzed in turn (the leader
and the follower), frames of fuzzing/peer_frames.py, kazoo on the ensemble as the real client.

A server never answers on a peer connection it accepted (it answers on the one it dials), so a
batch is judged by how the connection ends and what it left: a frame the server cannot read
(or a first frame that is no hello from a configured peer) makes it close the connection on its
own, promptly; otherwise it closes once the harness has ended its input, having read every frame
before. Neither node logs an internal error, the tree is unchanged unless a forwarded write was
delivered, and the ensemble still serves kazoo.
"""

from __future__ import annotations

import random
from pathlib import Path

from cluster.deploy.keeper_ensemble import KeeperEnsemble
from cluster.deploy.ports import HOST
from fuzzing import peer_frames
from fuzzing.batch_reading import deadline_after
from fuzzing.byte_mutations import mutate
from fuzzing.cases import BatchResult, Case
from fuzzing.connection import CLOSED, Connection, NoAnswer
from fuzzing.keeper_tree import TreeWatch, kazoo_round_trip, started_client, stopped
from fuzzing.server_log import LogWatch

_NODE_IDS = (1, 2)


class KeeperPeerTarget:
    name = "keeper-peer"
    batch_size = 8
    skip_reason = "they decode as a Raft message of a current term: a peer's word, obeyed"

    def __init__(self, directory: Path) -> None:
        self.ensemble = KeeperEnsemble("keeper", len(_NODE_IDS), directory, tick_time=500)
        for node in self.ensemble.nodes:
            with node.config_path.open("a") as config:
                config.write("forceSync=no\n")  # input handling is under test, not durability
        self.logs = [LogWatch(node.log_path) for node in self.ensemble.nodes]
        self.tree = TreeWatch(self.ensemble.nodes[0])
        self.skipped = 0
        """Cases not sent: they decode as a Raft message of a current term, which a peer is trusted with."""
        self._batches = 0
        self._checks = 0

    def __enter__(self) -> KeeperPeerTarget:
        self.ensemble.start()
        client = started_client(self.ensemble.connect_string)
        try:
            client.ensure_path("/fuzz/a")
            client.ensure_path("/fuzz-client")
        finally:
            stopped(client)
        for log in self.logs:
            log.skip_to_end()
        return self

    def __exit__(self, *exc: object) -> None:
        self.tree.close()
        self.ensemble.close()

    def exit_code(self) -> int | None:
        return 1 if any(node.has_exited() for node in self.ensemble.nodes) else None

    def new_errors(self) -> list[str]:
        return [error for log in self.logs for error in log.new_errors()]

    # --- cases ---------------------------------------------------------------------------------

    def next_case(self, rng: random.Random) -> Case:
        """One in ten a connection's first frame (a hello); the rest a third each plausible, field- and
        byte-mutated; a case the server would obey as a peer's word is made again."""
        while True:
            case = self._any_case(rng)
            if not peer_frames.read_as_server(case.data).trusted:
                return case
            self.skipped += 1

    def _any_case(self, rng: random.Random) -> Case:
        roll = rng.random()
        if rng.random() < 0.1:
            frame, label = peer_frames.build_hello(rng, _NODE_IDS, mutate_field=roll < 0.66)
        else:
            frame, label = peer_frames.build_message(rng, _NODE_IDS, mutate_field=0.33 <= roll < 0.66)
        slow = rng.random() < 0.02
        if roll < 0.66:
            return Case(frame, True, label, slow)
        mutated = mutate(frame, rng)
        return Case(mutated.data, mutated.framed, f"{label}, {mutated.kind}", slow)

    def ends_connection(self, case: Case) -> bool:
        reading = peer_frames.read_as_server(case.data)
        return _is_hello(case) or reading.refused is not None or reading.incomplete

    # --- judging -------------------------------------------------------------------------------

    def run_batch(self, cases: list[Case], rng: random.Random) -> BatchResult:
        """On a new connection to one node, the nodes in turn; the harness's hello first unless the
        first case is a hello of its own."""
        node = self.ensemble.nodes[self._batches % len(_NODE_IDS)]
        self._batches += 1
        others = frozenset(peer for peer in _NODE_IDS if peer != node.node_id)
        if not _is_hello(cases[0]):
            cases = [Case(peer_frames.build_hello(rng, tuple(others), False)[0], True, "hello"), *cases]
        reading = peer_frames.read_as_server(b"".join(case.data for case in cases), hello_from=others)
        result = BatchResult(wrote=reading.forwards)
        connection = Connection(HOST, node.ports.peer)
        try:
            for case in cases:
                if not connection.send(case.data, rng, case.slow):
                    break
            if reading.refused is None:
                connection.end_input()
            result.problems += _closed_in_time(connection, reading.refused, cases[-1].kind)
        finally:
            connection.close()
        if result.wrote:
            self.tree.settle()  # a delivered forward commits before the next batch's digest
        return result

    def digest(self) -> object:
        return self.tree.digest()

    def client_problem(self) -> str | None:
        """kazoo, on the ensemble, writes a znode and reads it back."""
        self._checks += 1
        return kazoo_round_trip(self.ensemble.connect_string, self._checks)


def _is_hello(case: Case) -> bool:
    return case.kind.startswith("hello") and not case.kind.startswith("hello again")


def _closed_in_time(connection: Connection, refused: str | None, last: str) -> list[str]:
    """The server closes on a frame it refuses, or once the input ended; it never sends on this connection."""
    try:
        payload = connection.read_frame(deadline_after(0))
    except NoAnswer:
        if refused is not None:
            return [f"the peer connection stayed open after a frame the server cannot read ({refused}; {last})"]
        return ["the peer connection stayed open after its input ended"]
    except ValueError:
        payload = b""
    return [] if payload is CLOSED else ["the server sent bytes on a peer connection it accepted"]
