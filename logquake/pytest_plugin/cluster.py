"""The cluster a plugin test asks for with `@pytest.mark.logquake_cluster(...)`: read, checked, brought up, torn down.

The marker's arguments name what `logquake run` names on its command line: brokers, keepers,
the backend, broker and keeper settings, the keeper kind, and the faults the test will inject.
Faults that need the cluster built for them (fault disks, proxies, clocks) decide how it is
deployed, and are checked (options, this machine's facilities) before any node starts. Teardown
heals every fault still active and removes every node, collecting their logs into the test's
run directory, with Ctrl-C ignored meanwhile, so that an interrupt cannot leave half a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nemesis
from cluster.deploy.deployment import BACKENDS, ClusterSpec, Deployment, deploy
from cluster.deploy.node import KEEPER_KINDS
from harness.seams import Node
from harness.spec import SpecError
from logquake import store
from logquake.pytest_plugin.faults import ClusterNemesis
from logquake.signals import sigint_ignored

CLUSTER_DIR = "cluster"
"""Where the nodes' directories go inside the test's run directory (as a run keeps them)."""


class MarkerError(ValueError):
    """A logquake_cluster marker that asks for something logquake cannot build."""


@dataclass(frozen=True)
class ClusterRequest:
    """What one test's marker asks for; `backend` None means the --logquake-backend option's."""

    brokers: int = 3
    keepers: int = 3
    backend: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    keeper_overrides: Mapping[str, Any] = field(default_factory=dict)
    target: str = "keeper"
    faults: Sequence[str] = ()
    nemesis_options: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    up_timeout: float = 90

    @classmethod
    def from_marker(cls, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> ClusterRequest:
        if args:
            raise MarkerError(f"logquake_cluster takes keyword arguments only, not {args!r}")
        known = cls.__dataclass_fields__
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise MarkerError(f"logquake_cluster: unknown argument(s) {', '.join(unknown)}; known: {', '.join(known)}")
        request = cls(**kwargs)
        request.check()
        return request

    def check(self) -> None:
        """MarkerError for anything the cluster or its faults could not be built with, before a node starts."""
        if isinstance(self.faults, str):
            raise MarkerError(f"logquake_cluster: faults must be a list of fault names, not {self.faults!r}")
        self.spec()
        if self.backend is not None and self.backend not in BACKENDS:
            raise MarkerError(f"logquake_cluster: backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.target not in KEEPER_KINDS:
            raise MarkerError(f"logquake_cluster: target must be one of {', '.join(KEEPER_KINDS)}, "
                              f"not {self.target!r}")
        unknown = [name for name in self.faults if name not in nemesis.FAULTS]
        if unknown:
            raise MarkerError(f"logquake_cluster: unknown fault(s) {', '.join(unknown)}; "
                              f"choose from {', '.join(nemesis.FAULTS)}")
        try:
            nemesis.check_run(list(self.faults), self.options(), {**self.broker_settings(), **self.keeper_settings()})
        except SpecError as error:
            raise MarkerError(f"logquake_cluster: {error}") from None

    def broker_settings(self) -> dict[str, str]:
        return _settings(self.overrides)

    def keeper_settings(self) -> dict[str, str]:
        return _settings(self.keeper_overrides)

    def options(self) -> dict[str, str]:
        """The nemesis options as the run spells them: `fsync_delay_ms` or `fsync-delay-ms`, as the fault calls
        accept them, is the run's fsync-delay-ms."""
        return {key.replace("_", "-"): value for key, value in _settings(self.nemesis_options).items()}

    def spec(self) -> ClusterSpec:
        faults = list(self.faults)
        try:
            return ClusterSpec(keepers=self.keepers, brokers=self.brokers, broker_overrides=self.broker_settings(),
                               keeper_overrides=self.keeper_settings(), keeper_kind=self.target,  # type: ignore[arg-type]
                               fault_disks=nemesis.needs_fault_disks(faults), proxied=nemesis.needs_proxies(faults),
                               clocks=nemesis.needs_clocks(faults),
                               fault_disk_entries=nemesis.disk_entries(faults, self.options()))
        except ValueError as error:
            raise MarkerError(f"logquake_cluster: {error}") from None


def _settings(values: Mapping[str, Any]) -> dict[str, str]:
    """Settings as the nodes' config files spell them: true/false for booleans, text for the rest."""
    return {str(key): str(value).lower() if isinstance(value, bool) else str(value) for key, value in values.items()}


class LogquakeCluster:
    """What the logquake_cluster fixture gives a test: where to connect, the nodes, and the nemesis."""

    def __init__(self, request: ClusterRequest, deployment: Deployment, run_dir: Path) -> None:
        self.request = request
        self.deployment = deployment
        self.run_dir = run_dir
        roles = ("broker",) if request.brokers else ("keeper",)
        self.nemesis = ClusterNemesis(deployment, tuple(request.faults), roles,
                                      {**request.broker_settings(), **request.keeper_settings()}, request.seed,
                                      request.options())

    @property
    def bootstrap_servers(self) -> str:
        return self.deployment.bootstrap_servers

    @property
    def keeper_connect(self) -> str:
        return self.deployment.keeper_connect

    @property
    def nodes(self) -> list[Node]:
        return list(self.deployment.nodes)

    @property
    def brokers(self) -> list[Node]:
        return list(self.deployment.brokers)

    @property
    def keepers(self) -> list[Node]:
        return list(self.deployment.keepers)

    @property
    def backend(self) -> str:
        return self.deployment.backend

    def node(self, name: str) -> Node:
        return self.deployment.node(name)

    def test_facts(self) -> dict[str, Any]:
        """What the claim model reads of the cluster (checkers.claim.Claim.from_test)."""
        return {"brokers": self.request.brokers, "keepers": self.request.keepers, "target": self.request.target,
                "broker_overrides": self.request.broker_settings(),
                "keeper_overrides": self.request.keeper_settings(), "nemesis": list(self.request.faults),
                "backend": self.backend}


def bring_up(request: ClusterRequest, backend: str, run_dir: Path) -> LogquakeCluster:
    """Deploys and starts the cluster; a failure on the way removes what was made before it is raised."""
    reason = nemesis.unavailable(list(request.faults))
    if reason is not None:
        raise MarkerError(f"logquake_cluster: {reason}")
    deployment = deploy(request.spec(), request.backend or backend, run_dir / CLUSTER_DIR)
    try:
        deployment.up(request.up_timeout)
    except BaseException:
        with sigint_ignored():
            deployment.down(logs_to=run_dir / store.NODE_LOGS)
        raise
    return LogquakeCluster(request, deployment, run_dir)


def tear_down(cluster: LogquakeCluster) -> None:
    """Heals every active fault, then stops and removes every node; the cluster goes even when healing fails."""
    with sigint_ignored():
        try:
            cluster.nemesis.heal()
        finally:
            cluster.deployment.down(logs_to=cluster.run_dir / store.NODE_LOGS)

