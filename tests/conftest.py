import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Timing on a shared 2-core machine says nothing about correctness: no deadlines.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")

TESTS = Path(__file__).parent
ONE_WORKER_EACH = ("e2e", "cluster_acceptance", "keeper_ensemble")
"""Folders whose tests run one after another on one worker: e2e and cluster_acceptance each bring up
three-node clusters that, side by side on two cores, would test the machine's load rather than the
cluster; keeper_ensemble shares its ensembles across the whole session."""
FIRST = ("e2e", "harness", "cluster_acceptance", "keeper_server", "nemesis", "keeper_ensemble")
"""The longest groups start first, so that no worker is left with a long one at the end."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test` runs `--dist loadgroup`) a file's tests share one worker, so that its
    module fixtures (a broker, a cluster) are built once, as in a serial run."""
    for item in items:
        folder, *_ = path = item.path.relative_to(TESTS).parts
        item.add_marker(pytest.mark.xdist_group(folder if folder in ONE_WORKER_EACH else "/".join(path)))
    items.sort(key=lambda item: _rank(item.path.relative_to(TESTS).parts[0]))


def _rank(folder: str) -> int:
    return FIRST.index(folder) if folder in FIRST else len(FIRST)
