"""Porcupine's test vectors (copied under data/, see data/LICENSE.md) and their expected verdicts."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"

LINEARIZABLE_ETCD = frozenset(
    "002 005 007 018 025 031 038 045 048 049 051 053 056 067 075 076 080 087 092 098 100 101 102".split())
EMPTY_ETCD = "095"
"""The cluster never started in run 95: an empty log, with no verdict."""

ETCD_NUMBERS = [f"{n:03d}" for n in range(103) if f"{n:03d}" != EMPTY_ETCD]
KV_NAMES = ["c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad"]


def etcd_path(number: str) -> Path:
    return DATA / "jepsen" / f"etcd_{number}.log"


def kv_path(name: str) -> Path:
    return DATA / "kv" / f"{name}.txt"


def etcd_is_linearizable(number: str) -> bool:
    return number in LINEARIZABLE_ETCD


def kv_is_linearizable(name: str) -> bool:
    return name.endswith("-ok")
