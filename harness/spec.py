"""The test spec: everything that decides what a run does, stored as test.json beside its history.

A spec is the run's own fields (the cluster, the faults, time, rate, concurrency, the seed) plus
the options of its workload. A workload declares its options once, as a frozen dataclass of
`option(default, help, choices=..., minimum=...)` fields: the command line, the spec's checks and
test.json all come from that declaration, as kafka-python's protocol structs are data. A field
`register_keys` is test.json's key `register_keys` and the command line's `--register-keys` (a
bool: `--x/--no-x`); rules between a workload's own fields go in its `check`.

A stored spec is enough to re-check a run (`logquake check`) and to repeat it: the seed fixes
every choice the generator makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from cluster.deploy.deployment import BACKENDS
from cluster.deploy.node import KEEPER_KINDS, SYSTEMS
from cluster.deploy.rabbitmq import NET_TICKTIME_S, PARTITION_HANDLING, net_ticktime_problem

_INFO = "option"
O = TypeVar("O", bound="Options")


class SpecError(ValueError):
    """A spec that cannot describe a run; the message names the field."""


@dataclass(frozen=True)
class Option:
    """One declared option as the command line and the spec see it."""

    name: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] | None = None
    minimum: int | float | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def check(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            raise SpecError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}")
        if not _is_a(value, self.kind):
            raise SpecError(f"{self.name} must be a {self.kind.__name__}, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise SpecError(f"{self.name} must be at least {self.minimum}, not {value}")


def _is_a(value: Any, kind: type) -> bool:
    """Python's bool is an int; an option's is not, and an int will do for a float."""
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    return isinstance(value, (int, float) if kind is float else kind)


def option(default: Any, help: str = "", *, choices: tuple[str, ...] | None = None,
           minimum: int | float | None = None) -> Any:
    """A field of an Options dataclass, with what the command line shows and the spec checks."""
    return dataclasses.field(default=default, metadata={_INFO: (help, choices, minimum)})


@dataclass(frozen=True)
class Options:
    """The base of every workload's options (and, with no fields, the options of a workload that has none)."""

    def __post_init__(self) -> None:
        for declared in self.declared():
            declared.check(getattr(self, declared.name))
        self.check()

    def check(self) -> None:
        """Rules between this workload's own fields; raise SpecError naming one of them."""

    @classmethod
    def declared(cls) -> tuple[Option, ...]:
        return tuple(Option(field.name, field.default, *field.metadata[_INFO]) for field in dataclasses.fields(cls))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Self:
        """This workload's options out of a run's values; its fields missing there take their defaults."""
        return cls(**{field.name: values[field.name] for field in dataclasses.fields(cls) if field.name in values})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TestSpec:
    name: str = "queue"
    workload: str = "queue"
    nemesis: tuple[str, ...] = ()
    nemesis_interval: float = 10.0
    nemesis_targets: tuple[str, ...] = ()
    """What the faults are aimed at, drawn from at random; empty: every target the workload offers."""
    nemesis_options: dict[str, str] = field(default_factory=dict)
    """The faults' own options, KEY=VALUE as given (the disk faults', e.g. fsync-delay-ms=100)."""
    brokers: int = 3
    keepers: int = 3
    broker_overrides: dict[str, str] = field(default_factory=dict)
    keeper_overrides: dict[str, str] = field(default_factory=dict)
    """zoo.cfg settings for every keeper node (e.g. forceSync=no), whatever it runs."""
    target: str = "keeper"
    """What the keeper nodes run: our keeper, or Apache ZooKeeper 3.8 (Debian's) on the same zoo.cfg."""
    backend: str = "auto"
    system: str = "logquake"
    """The system under test: our Kafka-compatible cluster, or a RabbitMQ cluster (its nodes are the brokers)."""
    partition_handling: str = "ignore"
    """A RabbitMQ cluster's cluster_partition_handling."""
    net_ticktime: int = NET_TICKTIME_S
    """A RabbitMQ cluster's net_ticktime: how long a silent peer takes to be declared down (and partition handling to
    act)."""
    time_limit: float = 60.0
    rate: float = 200.0
    concurrency: int = 6
    seed: int = 0
    # How long the cluster gets to recover after healing, and how long final reads may take.
    settle_time: float = 5.0
    final_time_limit: float = 60.0
    # One client operation may take this long before its outcome is declared unknown (info).
    op_timeout: float = 10.0
    max_unavailable: float | None = None
    """The availability claim: seconds a partition may stay unwritable under a fault the configuration should
    survive (checkers.availability); None: windows are measured, not judged."""
    options: Options = field(default_factory=Options)
    """The workload's own options (its Options dataclass)."""

    __test__ = False  # not a pytest test class, despite the name

    def __post_init__(self) -> None:
        for name, allowed in (("backend", BACKENDS), ("target", KEEPER_KINDS), ("system", SYSTEMS),
                              ("partition_handling", PARTITION_HANDLING)):
            if getattr(self, name) not in allowed:
                raise SpecError(f"{name} must be one of {', '.join(allowed)}, not {getattr(self, name)!r}")
        if (problem := net_ticktime_problem(self.net_ticktime)) is not None:
            raise SpecError(problem)
        if self.concurrency < 1:
            raise SpecError(f"concurrency must be at least 1, not {self.concurrency}")
        for name in ("time_limit", "rate", "nemesis_interval", "op_timeout"):
            if getattr(self, name) <= 0:
                raise SpecError(f"{name} must be positive, not {getattr(self, name)}")
        if self.max_unavailable is not None and (isinstance(self.max_unavailable, bool) or
                                                 not isinstance(self.max_unavailable, (int, float)) or
                                                 self.max_unavailable <= 0):
            raise SpecError(f"max_unavailable must be a positive number of seconds, not {self.max_unavailable!r}")
        if self.brokers < 0 or self.keepers < 0 or self.settle_time < 0 or self.final_time_limit < 0:
            raise SpecError("brokers, keepers, settle_time and final_time_limit cannot be negative")
        if self.system == "rabbitmq" and self.keepers:
            raise SpecError(f"a RabbitMQ cluster has no keepers: keepers must be 0, not {self.keepers}")
        if self.target != "keeper" and self.keepers < 1:
            raise SpecError(f"target {self.target} runs on the keeper nodes: keepers must be at least 1")
        if not self.name or "/" in self.name or self.name.startswith("."):
            raise SpecError(f"name {self.name!r} cannot name a store directory")

    def options_as(self, kind: type[O]) -> O:
        """The workload's options, as the type its workload declared them."""
        if not isinstance(self.options, kind):
            raise TypeError(f"the {self.workload} spec holds {type(self.options).__name__}, not {kind.__name__}")
        return self.options

    def to_dict(self) -> dict[str, Any]:
        """test.json: the run's fields and the workload's options, side by side."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "options"}
        data["nemesis"] = list(self.nemesis)
        data["nemesis_targets"] = list(self.nemesis_targets)
        for name in _STRING_MAPS:
            data[name] = dict(getattr(self, name))
        return {**data, **self.options.to_dict()}

    @classmethod
    def run_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "options")

    @classmethod
    def from_values(cls, values: Mapping[str, Any], options: Options) -> TestSpec:
        """A spec from test.json's (or the command line's) run fields; lists become tuples, as a spec keeps them."""
        run = {name: values[name] for name in cls.run_fields() if name in values}
        for name in ("nemesis", "nemesis_targets"):
            if name in run:
                run[name] = tuple(run[name])
        for name in _STRING_MAPS:
            if name in run:
                run[name] = {str(k): str(v) for k, v in run[name].items()}
        return cls(**run, options=options)


_STRING_MAPS = ("nemesis_options", "broker_overrides", "keeper_overrides")
"""The spec's KEY=VALUE fields: strings as given, checked by whoever reads them."""
