"""Nemeses: the faults a run injects, as ops of process "nemesis" in the history.

`build(names, deployment, options)` gives one nemesis handling every named fault:
- kill, pause and restart (process.py);
- partition (net.py): iptables cuts, Jepsen's partition shapes and explicit grudges, one-way cuts
  included (grudges.py);
- isolate-leader (leader_isolation.py): acknowledged writes the next leader lacks, the fault that
  must find loss under acks=1;
- the disk faults (disk.py): slow-disk, disk-error, disk-full, lose-unsynced, torn-write through
  each node's fault filesystem, and corrupt-file;
- the proxy faults (proxy_faults.py): latency, bandwidth, slow-close, reset, timeout, flaky as
  toxics on the proxies of a proxied deployment;
- the packet faults (packet_faults.py): packet-loss (iptables statistic), packet-delay,
  packet-duplicate, packet-reorder and packet-corrupt (an NFQUEUE handler per target);
- the clock faults (clock_faults.py): clock-bump, clock-strobe, clock-skew of the targets' wall clocks.

Options: "rng" (a random.Random, or "seed"), "roles" (which nodes shares draw from; brokers by
default), "topic" and "partition" (for the partition-leader target and isolate-leader),
"stop_timeout" (graceful stops), "heal_timeout" (how long heal() waits for nodes to serve again),
"lookup_timeout", "isolation_time" and "election_timeout" (isolate-leader's pause of the followers,
and its wait for the next leader), "nemesis_options" (the run's KEY=VALUE strings, in one family
per kind of fault: disk_options.py, partition_options.py, proxy_options.py, packet_options.py,
clock_options.py).

A run that names a fault of FUSE_FAULTS must be deployed with fault disks, one that names a proxy
fault with proxies (needs_proxies), one that names a clock fault with its nodes' clocks under control
(needs_clocks); `check_run` says before anything is deployed whether its options
are sound and this machine can inject its faults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cluster.deploy.node_clocks import unavailable_reason as clock_unavailable
from cluster.faultfs import fuse_unavailable
from cluster.packets.process import unavailable_reason as packets_unavailable
from harness.seams import Deployment, Nemesis
from harness.spec import SpecError
from nemesis.base import Composite, NemesisError
from nemesis.disk import FAULTS as DISK_FAULTS
from nemesis.disk import FUSE_FAULTS, disk_fault
from nemesis import clock_options, disk_options, options, packet_options, partition_options, proxy_options
from nemesis.clock_faults import FAULTS as CLOCK_FAULTS
from nemesis.clock_faults import ClockFault
from nemesis.clock_options import ClockOptions
from nemesis.disk_options import DiskOptions
from nemesis.partition_options import PartitionOptions
from nemesis.leader_isolation import NAME as LEADER_ISOLATION
from nemesis.leader_isolation import LeaderIsolation
from nemesis.net import NAME as PARTITION
from nemesis.net import NetworkPartition
from nemesis.packet_faults import PacketFaultNemesis
from nemesis.packet_options import FAULTS as PACKET_FAULTS
from nemesis.packet_options import PacketOptions
from nemesis.partition_targets import check_targets as check_partition_targets
from nemesis.partition_targets import is_partition_target
from nemesis.process import FAULTS as PROCESS_FAULTS
from nemesis.process import Claims, ProcessFault, kinds
from nemesis.proxy_faults import FAULTS as PROXY_FAULTS
from nemesis.proxy_faults import NOT_WITH_PROXIES, ProxyFault
from nemesis.proxy_options import ProxyOptions
from nemesis.targets import check_node_targets, is_node_name

__all__ = ["CLOCK_FAULTS", "DISK_FAULTS", "FAULTS", "FUSE_FAULTS", "NemesisError", "PACKET_FAULTS", "PROXY_FAULTS",
           "build", "check_node_targets", "check_partition_targets", "check_run", "disk_entries", "is_node_name",
           "hits_whole_tiers", "is_partition_target", "needs_clocks", "needs_fault_disks", "needs_proxies",
           "unavailable"]

FAULTS = (*PROCESS_FAULTS, PARTITION, LEADER_ISOLATION, *DISK_FAULTS, *PROXY_FAULTS, *PACKET_FAULTS, *CLOCK_FAULTS)

OPTION_FAMILIES = (disk_options.KEYS, partition_options.KEYS, proxy_options.KEYS, packet_options.KEYS,
                   clock_options.KEYS)
"""The keys of every family of nemesis options (options.py)."""

DATA_DIRECTORY_SETTINGS = ("log.dirs", "log.dir", "dataDir", "dataLogDir")
"""Where a node keeps its data: the deployment chooses it, since disk faults act on exactly that directory."""


def needs_fault_disks(names: Sequence[str]) -> bool:
    return any(name in FUSE_FAULTS for name in names)


def needs_proxies(names: Sequence[str]) -> bool:
    return any(name in PROXY_FAULTS for name in names)


def needs_clocks(names: Sequence[str]) -> bool:
    return any(name in CLOCK_FAULTS for name in names)


def hits_whole_tiers(names: Sequence[str]) -> bool:
    """Whether the run's faults make sense on every node of a tier at once (all-brokers, all-keepers): a whole
    tier's power loss, every keeper receiving duplicated and reordered packets from the others, or every keeper
    on a clock of its own."""
    return needs_fault_disks(names) or needs_clocks(names) or any(name in PACKET_FAULTS for name in names)


def disk_entries(names: Sequence[str], options: Mapping[str, str]) -> str:
    """The entry model the fault disks are mounted with (the disk-entries option; strict by default)."""
    return DiskOptions.parse(options, tuple(names)).disk_entries


def check_run(names: Sequence[str], given: Mapping[str, str], overrides: Mapping[str, str]) -> None:
    """Refuses (SpecError) unknown or bad nemesis options, and node settings (`overrides`, the brokers' and the
    keepers' alike) that move a data directory away from where disk faults act; a run is checked with this
    before any cluster is deployed."""
    options.check(given, names, OPTION_FAMILIES)
    DiskOptions.parse(given, tuple(names))
    PartitionOptions.parse(given, tuple(names))
    ProxyOptions.parse(given, tuple(names))
    PacketOptions.parse(given, tuple(names))
    ClockOptions.parse(given, tuple(names))
    routed_around = [name for name in names if name in NOT_WITH_PROXIES]
    if routed_around and needs_proxies(names):
        raise SpecError(f"{', '.join(routed_around)} cannot run beside proxy faults: with those, nodes reach each "
                        f"other only through the run's proxy server on the host, where iptables rules between "
                        f"node addresses never see their traffic; run them in separate runs")
    moved = [key for key in DATA_DIRECTORY_SETTINGS if key in overrides]
    if moved and any(name in DISK_FAULTS for name in names):
        raise SpecError(f"{', '.join(moved)}: disk faults act on the data directory the deployment gives each "
                        f"node, so a run with them cannot move it")


def unavailable(names: Sequence[str]) -> str | None:
    """Why this machine cannot inject the named faults (no FUSE for the disk faults, no NFQUEUE handler or iptables
    for the packet faults, no preload library built for the clock faults), or None when it can."""
    fuse = [name for name in names if name in FUSE_FAULTS]
    reason = fuse_unavailable() if fuse else None
    if reason is not None:
        return f"the disk fault(s) {', '.join(fuse)} need FUSE, which this machine cannot mount: {reason}"
    packets = [name for name in names if name in PACKET_FAULTS]
    reason = packets_unavailable() if packets else None
    if reason is not None:
        return f"the packet fault(s) {', '.join(packets)} cannot run here: {reason}"
    clocks = [name for name in names if name in CLOCK_FAULTS]
    reason = clock_unavailable() if clocks else None
    if reason is not None:
        return f"the clock fault(s) {', '.join(clocks)} cannot run here: {reason}"
    return None


def build(names: list[str], deployment: Deployment, options: dict[str, Any]) -> Nemesis:
    unknown = [name for name in names if name not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    claims = Claims()
    disk_settings = DiskOptions.parse(options.get("nemesis_options") or {}, tuple(names))
    proxy_settings = ProxyOptions.parse(options.get("nemesis_options") or {}, tuple(names))
    packet_settings = PacketOptions.parse(options.get("nemesis_options") or {}, tuple(names))
    clock_settings = ClockOptions.parse(options.get("nemesis_options") or {}, tuple(names))
    process_kinds = kinds(float(options.get("stop_timeout", 30)))
    special = {LEADER_ISOLATION: LeaderIsolation, PARTITION: NetworkPartition}
    parts: list[Nemesis] = []
    for name in dict.fromkeys(names):
        if name in DISK_FAULTS:
            parts.append(disk_fault(name, deployment, options, claims, disk_settings))
        elif name in PROXY_FAULTS:
            parts.append(ProxyFault(name, deployment, options, claims, proxy_settings))
        elif name in PACKET_FAULTS:
            parts.append(PacketFaultNemesis(name, deployment, options, claims, packet_settings))
        elif name in CLOCK_FAULTS:
            parts.append(ClockFault(name, deployment, options, claims, clock_settings))
        elif name in special:
            parts.append(special[name](deployment, options, claims))
        else:
            parts.append(ProcessFault(process_kinds[name], deployment, options, claims))
    return Composite(parts)
