"""The registry: the workloads a run may name, and what comes from them.

The command line offers its workloads and their declared options, specs are made and checked
through it (the workload and its options, the faults, their options and the targets they are
aimed at), and the runner and `logquake check` find a run's workload, and so its checker, in it.
A new workload is a folder of workloads/ and one line of WORKLOADS below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from harness.spec import Option, SpecError, TestSpec
from harness.workload import Workload
import nemesis
from nemesis import FAULTS
from nemesis.targets import ROLE_GROUPS, node_names
from workloads.amqp.workload import AmqpWorkload
from workloads.log.workload import LogWorkload
from workloads.queue.workload import QueueWorkload
from workloads.register.workload import RegisterWorkload
from workloads.txn.workload import TxnWorkload


class Registry:
    def __init__(self, workloads: Iterable[Workload]) -> None:
        self._by_name = {workload.name: workload for workload in workloads}
        self._options = _options_once(self._by_name.values())

    def __iter__(self) -> Iterator[Workload]:
        return iter(self._by_name.values())

    def __getitem__(self, name: str) -> Workload:
        if name not in self._by_name:
            raise SpecError(f"workload must be one of {', '.join(self.names)}, not {name!r}")
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def options(self) -> tuple[Option, ...]:
        """Every workload's options, once each: workloads that share a kind of options share its flags."""
        return self._options

    def with_workload(self, workload: Workload) -> Registry:
        return Registry([*self, workload])

    def spec(self, **values: Any) -> TestSpec:
        """A checked spec from run fields and option values, as the command line or test.json give them.

        Fields of other workloads' options are passed over (a register run ignores --acks); a field no
        workload and no run knows is refused; a missing one takes its default. Without a name, the
        workload names the test.
        """
        values = _system_defaults(values)
        workload = self[values.get("workload", TestSpec.workload)]
        unknown = sorted(set(values) - set(TestSpec.run_fields()) - {option.name for option in self.options})
        if unknown:
            raise SpecError(f"unknown spec field(s): {', '.join(unknown)}")
        run = {key: value for key, value in values.items() if key != "name"} | {"workload": workload.name}
        spec = TestSpec.from_values(run, workload.options.from_values(values))
        spec = dataclasses.replace(spec, name=values.get("name") or workload.default_name(spec))
        if spec.system not in workload.systems:
            raise SpecError(f"the {workload.name} workload runs against {', '.join(workload.systems)}, "
                            f"not system {spec.system}")
        _check_faults(spec, workload)
        workload.validate(spec)
        return spec

    def spec_from_dict(self, data: Mapping[str, Any]) -> TestSpec:
        """A stored test.json's spec."""
        return self.spec(**data)


SYSTEM_DEFAULTS = {"logquake": {"workload": "queue", "keepers": 3}, "rabbitmq": {"workload": "amqp", "keepers": 0}}
"""What a run of each system gets when the workload or the keepers are not given (None on the command line)."""


def _system_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    defaults = SYSTEM_DEFAULTS.get(values.get("system") or TestSpec.system, {})
    return {**values, **{name: value for name, value in defaults.items() if values.get(name, None) is None}}


def _options_once(workloads: Iterable[Workload]) -> tuple[Option, ...]:
    declared: dict[str, Option] = {}
    for workload in workloads:
        for option in workload.options.declared():
            if declared.setdefault(option.name, option) != option:
                raise ValueError(f"option {option.name} is declared twice, differently")
    return tuple(declared.values())


def _check_faults(spec: TestSpec, workload: Workload) -> None:
    unknown = [fault for fault in spec.nemesis if fault not in FAULTS]
    if unknown:
        raise SpecError(f"nemesis: unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    nemesis.check_run(spec.nemesis, spec.nemesis_options, {**spec.broker_overrides, **spec.keeper_overrides})
    counts = {"broker": spec.brokers, "keeper": spec.keepers}
    for target in spec.nemesis_targets:
        if target in ROLE_GROUPS and counts[ROLE_GROUPS[target]] == 0:
            raise SpecError(f"nemesis_targets: {target} is every {ROLE_GROUPS[target]} node, and this run has none")
    nemesis.check_partition_targets(spec.nemesis, spec.nemesis_targets, spec.brokers, spec.keepers)
    nemesis.check_node_targets(spec.nemesis_targets, spec.brokers, spec.keepers)
    offered = workload.fault_targets(spec)
    unoffered = [target for target in spec.nemesis_targets if target not in offered
                 and not nemesis.is_partition_target(target) and not nemesis.is_node_name(target)]
    if unoffered:
        raise SpecError(f"nemesis_targets: {', '.join(unoffered)} not offered by the {workload.name} workload here; "
                        f"choose from {', '.join(offered)} or a node's name "
                        f"({node_names(spec.brokers, spec.keepers)})")


WORKLOADS = Registry([
    QueueWorkload(),
    RegisterWorkload(),
    LogWorkload(),
    AmqpWorkload(),
    TxnWorkload(),
])
