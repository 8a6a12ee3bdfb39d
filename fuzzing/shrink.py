"""Shrinking a failing frame to a small one that fails the same way (delta debugging over its bytes).

A framed case keeps its size prefix true while its payload shrinks; an unframed one shrinks
as raw bytes. Chunks are removed, halves first, then ever smaller ones, as long as the
failure (its signature) still shows; then the bytes left are zeroed where that keeps it.
"""

from __future__ import annotations

from typing import Callable

from fuzzing.byte_mutations import framed
from fuzzing.cases import Case

MAX_TRIES = 400


def shrink(case: Case, still_fails: Callable[[Case], bool], max_tries: int = MAX_TRIES) -> Case:
    tries = 0

    def rebuilt(body: bytes) -> Case:
        return Case(framed(body) if case.framed else body, case.framed, case.kind)

    def fails(body: bytes) -> bool:
        nonlocal tries
        tries += 1
        return still_fails(rebuilt(body))

    body = case.data[4:] if case.framed else case.data
    chunk = max(1, len(body) // 2)
    while chunk >= 1 and tries < max_tries:
        start, removed = 0, False
        while start < len(body) and tries < max_tries:
            candidate = body[:start] + body[start + chunk:]
            if candidate != body and fails(candidate):
                body, removed = candidate, True
            else:
                start += chunk
        if not removed:
            chunk //= 2
    for at in range(len(body)):
        if tries >= max_tries:
            break
        if body[at] and fails(body[:at] + b"\0" + body[at + 1:]):
            body = body[:at] + b"\0" + body[at + 1:]
    return rebuilt(body)
