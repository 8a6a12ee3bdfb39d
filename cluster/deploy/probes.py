"""Asking a node from outside whether it serves: what `up()` waits for and how the keeper leader is found.

A broker serves once it accepts connections on its listener. A keeper serves once it answers the
four-letter word `srvr` with a `Mode:` line: ZooKeeper (and keeper) answer it only while they are
part of a quorum, so this also tells a follower from the leader.
"""

from __future__ import annotations

import socket


def accepts_connections(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def four_letter_word(host: str, port: int, word: str, timeout: float = 2.0) -> str:
    """Send a ZooKeeper four-letter word and read the answer until the server closes the connection."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(word.encode("ascii"))
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def keeper_mode(host: str, port: int, timeout: float = 2.0) -> str | None:
    """'leader', 'follower' or 'standalone' from `srvr`; None when the keeper does not serve."""
    try:
        answer = four_letter_word(host, port, "srvr", timeout)
    except OSError:
        return None
    for line in answer.splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return None
