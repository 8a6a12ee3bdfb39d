"""`host:port` strings as Toxiproxy writes them (`[::1]:8474` for IPv6), parsed and formatted."""

from __future__ import annotations


def split_address(address: str) -> tuple[str, int]:
    """`host:port` → (host, port); ValueError with the reason if it is not one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port (port 0-65535)")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host, int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
