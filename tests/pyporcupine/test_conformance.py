"""Porcupine's own vectors: 102 Jepsen etcd histories and 6 kv histories, with Porcupine's verdicts."""

from __future__ import annotations

import pytest

from pyporcupine import CheckResult, check_operations
from pyporcupine.formats import load_history
from tests.pyporcupine import vectors

TIMEOUT = 60.0
"""Generous: the slowest vector takes about a second; UNKNOWN would fail the test, not hang it."""


def expected(linearizable: bool) -> CheckResult:
    return CheckResult.OK if linearizable else CheckResult.ILLEGAL


def test_the_vectors_are_all_there() -> None:
    assert len(vectors.ETCD_NUMBERS) == 102
    assert len(vectors.LINEARIZABLE_ETCD) == 23
    assert all(vectors.etcd_path(n).stat().st_size > 0 for n in vectors.ETCD_NUMBERS)
    assert all(vectors.kv_path(name).exists() for name in vectors.KV_NAMES)


@pytest.mark.parametrize("number", vectors.ETCD_NUMBERS)
def test_etcd_history_gets_porcupines_verdict(number: str) -> None:
    model, history = load_history(vectors.etcd_path(number), "jepsen-log", "cas-register")
    result = check_operations(model, history, timeout=TIMEOUT)
    assert result is expected(vectors.etcd_is_linearizable(number))


@pytest.mark.parametrize("name", vectors.KV_NAMES)
def test_kv_history_gets_porcupines_verdict(name: str) -> None:
    model, history = load_history(vectors.kv_path(name), "edn-kv", "kv")
    result = check_operations(model, history, timeout=TIMEOUT)
    assert result is expected(vectors.kv_is_linearizable(name))
