"""A bounded, seeded sample of points spread over time, so a plot of a million operations draws a
few thousand without losing any stretch of the run.

Time is cut into strata; each keeps all its points up to a common quota, and the quota is the
largest that keeps the total within the cap (water-filling), the rest of the cap going one each
to crowded strata: a quiet stretch, say during a fault
when throughput collapses, keeps every point it has, and only crowded stretches are thinned.
"""

from __future__ import annotations

import numpy as np

STRATA = 500


def stratified_sample(times: np.ndarray, cap: int, seed: int = 0, strata: int = STRATA) -> np.ndarray:
    """Sorted indices into `times` of min(cap, len(times)) points."""
    count = len(times)
    if count <= cap:
        return np.arange(count)
    if cap <= 0:
        return np.arange(0)
    strata = max(1, min(strata, cap))
    low, high = float(times.min()), float(times.max())
    span = (high - low) or 1.0
    stratum = np.minimum(((times - low) / span * strata).astype(np.int64), strata - 1)
    counts = np.bincount(stratum, minlength=strata)
    quota = _quota(counts, cap)
    quotas = np.minimum(counts, quota)
    quotas[np.flatnonzero(counts > quota)[:cap - int(quotas.sum())]] += 1
    key = np.random.default_rng(seed).random(count)
    order = np.lexsort((key, stratum))
    firsts = np.searchsorted(stratum[order], np.arange(strata))
    rank = np.arange(count) - firsts[stratum[order]]
    return np.sort(order[rank < quotas[stratum[order]]])


def _quota(counts: np.ndarray, cap: int) -> int:
    """The largest q with sum(min(count, q)) <= cap."""
    ordered = np.sort(counts)
    below = 0
    for position, size in enumerate(ordered):
        remaining = len(ordered) - position
        if below + int(size) * remaining > cap:
            return (cap - below) // remaining
        below += int(size)
    return int(ordered[-1]) if len(ordered) else 0
