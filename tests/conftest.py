import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from xdist.scheduler import LoadScopeScheduling

# Timing on a shared 2-core machine says nothing about correctness: no deadlines.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")

TESTS = Path(__file__).parent
ONE_WORKER_EACH = ("e2e", "disk_faults", "network_faults", "clock_faults", "cluster_acceptance", "keeper_ensemble",
                   "ci_plugin")
"""Folders whose tests run one after another on one worker: e2e, disk_faults, network_faults, clock_faults and
cluster_acceptance each bring up three-node clusters, ci_plugin a pytest of its own around each cluster, (disk_faults with a filesystem daemon per node,
network_faults with proxies or packet handlers) that, side by side on two cores, would test the
machine's load rather than the cluster; keeper_ensemble shares its ensembles across the whole session."""
FIRST = ("e2e", "disk_faults", "ci_plugin", "network_faults", "rabbitmq", "clock_faults", "harness", "cluster_acceptance",
         "transactions", "keeper_server", "fuzzing", "nemesis", "keeper_ensemble")
"""The longest folders start first, so that no worker is left with a long one at the end."""


class FileOrFolderScheduling(LoadScopeScheduling):
    """pytest-xdist's loadscope with a file as the unit of work (its module fixtures, a broker or a cluster,
    are built once, as in a serial run), or a whole folder of ONE_WORKER_EACH."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        folder = Path(path).relative_to(TESTS.name).parts[0]
        return folder if folder in ONE_WORKER_EACH else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadScopeScheduling | None:
    """`make test` runs `-n 4 --dist loadscope --no-loadscope-reorder`: units of work in collection order."""
    return FileOrFolderScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _rank(item.path.relative_to(TESTS).parts[0]))


def _rank(folder: str) -> int:
    return FIRST.index(folder) if folder in FIRST else len(FIRST)
