"""logquake's pytest plugin: test your own Kafka client code against a logquake cluster under faults.

Registered through the `pytest11` entry point, so any pytest where logquake is installed loads it
(`-p no:logquake.pytest_plugin` turns it off). It offers:
- the marker `@pytest.mark.logquake_cluster(brokers=3, keepers=3, backend="auto", overrides={...},
  keeper_overrides={...}, target="keeper", faults=[...], nemesis_options={...}, seed=0)`;
- the fixture `logquake_cluster`: bootstrap_servers, keeper_connect, nodes, and `nemesis`, whose
  context managers inject every fault logquake has (cluster.py, faults.py);
- the fixture `logquake_history`: the test's own operations, recorded and checked (recorder.py);
- the options `--logquake-backend` (auto) and `--logquake-store` (a temporary directory).

Each test gets a run directory, <store>/<test name>/<timestamp>/, laid out as a run's: its
cluster's node directories and logs, history.jsonl, results.json and report.html.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster.deploy.deployment import BACKENDS
from logquake import store
from logquake.pytest_plugin.cluster import ClusterRequest, LogquakeCluster, MarkerError, bring_up, tear_down
from logquake.pytest_plugin.recorder import ClaimBroken, HistoryRecorder

__all__ = ["ClaimBroken", "HistoryRecorder", "LogquakeCluster"]

MARKER = "logquake_cluster"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("logquake", "logquake clusters and checkers")
    group.addoption("--logquake-backend", choices=BACKENDS, default="auto",
                    help="where logquake_cluster runs its nodes: docker, local processes, or auto (docker when an "
                         "engine answers); a marker's backend= wins")
    group.addoption("--logquake-store", type=Path, default=None,
                    help="where each test's run directory goes (history, results, report, node logs); default: a "
                         "temporary directory of the session")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(brokers=3, keepers=3, backend=None, overrides={{}}, "
                                       "keeper_overrides={}, target='keeper', faults=[], nemesis_options={}, seed=0): "
                                       "the cluster the logquake_cluster fixture brings up")


@pytest.fixture
def _logquake_run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = request.config.getoption("--logquake-store") or tmp_path_factory.getbasetemp() / "logquake-store"
    return store.new_run_dir(Path(root).resolve(), _test_name(request.node.nodeid))


@pytest.fixture
def logquake_cluster(request: pytest.FixtureRequest, _logquake_run_dir: Path) -> Iterator[LogquakeCluster]:
    """A cluster as the test's logquake_cluster marker asks (3 brokers, 3 keepers without one), up until the test
    ends, whatever way it ends: faults healed, nodes stopped and removed, their logs kept in the run directory."""
    marker = request.node.get_closest_marker(MARKER)
    try:
        wanted = ClusterRequest.from_marker(marker.args, marker.kwargs) if marker else ClusterRequest()
    except MarkerError as error:
        refused = str(error)
    else:
        refused = None
    if refused is not None:  # failed outside the except, so the report does not chain the error to itself
        pytest.fail(refused, pytrace=False)
    cluster = bring_up(wanted, request.config.getoption("--logquake-backend"), _logquake_run_dir)
    try:
        yield cluster
    finally:
        tear_down(cluster)


@pytest.fixture
def logquake_history(request: pytest.FixtureRequest, _logquake_run_dir: Path) -> Iterator[HistoryRecorder]:
    """Records the test's operations in logquake's history format; with logquake_cluster, its faults too."""
    cluster = request.getfixturevalue(MARKER) if MARKER in request.fixturenames else None
    history = HistoryRecorder(_logquake_run_dir, _test_name(request.node.nodeid),
                              cluster.test_facts() if cluster else None)
    if cluster is not None:
        cluster.nemesis.recorder = history.record_nemesis
    try:
        yield history
    finally:
        if cluster is not None:
            cluster.nemesis.recorder = None
        history.close()


def _test_name(nodeid: str) -> str:
    """A directory name for a test: its node id with anything but letters, digits, '.', '-' and '_' made '_'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("_")[:120] or "test"
