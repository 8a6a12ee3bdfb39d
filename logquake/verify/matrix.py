"""The claims matrix: a TOML file of axes whose product is the cells `logquake verify` runs.

Every setting is a `logquake run` option under its test.json name (acks, min_insync, nemesis,
broker_overrides, time_limit, ...), so any option a run takes is an axis a matrix can vary. The
file has:

- `[matrix]`: `description`, `columns` (the axis shown as columns; default "nemesis" if there is one,
  else the last axis) and `seeds` (one run per seed in every cell; default [0]);
- `[base]`: settings of every cell;
- `[axes]`: each axis a list of levels, in order. A level is a value of the option the axis is named
  after (`acks = ["1", "all"]`), or a table of settings with a `label`
  (`{ label = "unclean", broker_overrides = { "unclean.leader.election.enable" = "true" } }`);
- `[[exclude]]`: cells left out, as axis = label (or a list of labels); a cell matching every
  axis named is excluded;
- `[[cell]]`: settings for the cells matching `where` (axis = label or labels), `seeds` included.

A cell's settings are the base, then each axis's level, then every matching `[[cell]]`, later ones
winning; the KEY=VALUE maps (broker_overrides, keeper_overrides, nemesis_options) merge by key.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from harness.spec import SpecError, TestSpec
from logquake.registry import WORKLOADS, Registry

BUILT_IN = ("quick", "full", "rabbitmq")
MAPS = ("broker_overrides", "keeper_overrides", "nemesis_options")
LISTS = ("nemesis", "nemesis_targets")
_SECTIONS = {"matrix", "base", "axes", "exclude", "cell"}
_MATRIX_KEYS = {"description", "columns", "seeds"}
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


class MatrixError(ValueError):
    """A matrix that cannot be run; the message names the file and the setting."""


@dataclass(frozen=True)
class Level:
    label: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class Axis:
    name: str
    levels: tuple[Level, ...]


@dataclass(frozen=True)
class Cell:
    labels: dict[str, str]
    """Axis name -> this cell's level label, in the matrix's axis order."""
    row: str
    column: str
    specs: tuple[TestSpec, ...]
    """One per seed."""

    @property
    def name(self) -> str:
        return f"{self.row} / {self.column}" if self.row else self.column

    @property
    def slug(self) -> str:
        """The cell's labels as one file name."""
        return slug(self.labels.values())


@dataclass(frozen=True)
class Matrix:
    name: str
    description: str
    axes: tuple[Axis, ...]
    columns: str
    cells: tuple[Cell, ...] = field(default=())

    @property
    def rows(self) -> list[str]:
        return list(dict.fromkeys(cell.row for cell in self.cells))

    @property
    def column_labels(self) -> list[str]:
        """The column axis's labels in its order, those of excluded cells only left out."""
        present = {cell.column for cell in self.cells}
        axis = next(axis for axis in self.axes if axis.name == self.columns)
        return [level.label for level in axis.levels if level.label in present]


def load(name_or_path: str, registry: Registry = WORKLOADS) -> Matrix:
    """A built-in matrix by name, or a matrix file by path."""
    if name_or_path in BUILT_IN:
        text = resources.files("logquake.verify.matrices").joinpath(f"{name_or_path}.toml").read_text("utf-8")
        return parse(text, name_or_path, registry)
    path = Path(name_or_path)
    if not path.is_file():
        raise MatrixError(f"{name_or_path}: neither a built-in matrix ({', '.join(BUILT_IN)}) nor a file")
    return parse(path.read_text("utf-8"), path.stem, registry)


def parse(text: str, name: str, registry: Registry = WORKLOADS) -> Matrix:
    """A matrix with every cell's specs made and checked, so a bad setting stops it before anything runs."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MatrixError(f"{name}: not TOML: {error}") from None
    _only(name, "the file", data, _SECTIONS)
    head = _table(name, data, "matrix")
    _only(name, "[matrix]", head, _MATRIX_KEYS)
    base = _settings(name, "[base]", _table(name, data, "base"))
    axes = tuple(_axis(name, axis, levels) for axis, levels in _table(name, data, "axes").items())
    if not axes:
        raise MatrixError(f"{name}: [axes] names no axis")
    names = [axis.name for axis in axes]
    columns = str(head.get("columns", "nemesis" if "nemesis" in names else names[-1]))
    if columns not in names:
        raise MatrixError(f"{name}: [matrix] columns = {columns!r} is not an axis ({', '.join(names)})")
    seeds = _seeds(name, "[matrix]", head.get("seeds", [0]))
    excludes = [_where(name, "[[exclude]]", item, axes) for item in _tables(name, data, "exclude")]
    tweaks = [_tweak(name, item, axes) for item in _tables(name, data, "cell")]
    cells = []
    for levels in itertools.product(*(axis.levels for axis in axes)):
        labels = {axis.name: level.label for axis, level in zip(axes, levels)}
        if any(_matches(where, labels) for where in excludes):
            continue
        cells.append(_cell(name, base, axes, levels, labels, columns, seeds, tweaks, registry))
    if not cells:
        raise MatrixError(f"{name}: every cell is excluded")
    return Matrix(name, str(head.get("description", "")), axes, columns, tuple(cells))


def _cell(name: str, base: dict[str, Any], axes: tuple[Axis, ...], levels: tuple[Level, ...], labels: dict[str, str],
          columns: str, seeds: list[int], tweaks: list[tuple[dict[str, list[str]], dict[str, Any], list[int] | None]],
          registry: Registry) -> Cell:
    values = dict(base)
    for level in levels:
        values = _merge(values, level.settings)
    for where, settings, tweak_seeds in tweaks:
        if _matches(where, labels):
            values = _merge(values, settings)
            seeds = tweak_seeds or seeds
    row = " ".join(f"{axis.name}={labels[axis.name]}" for axis in axes if axis.name != columns)
    specs = []
    for seed in seeds:
        try:
            specs.append(registry.spec(**{"name": f"verify-{slug([name, *labels.values()])}", **values, "seed": seed}))
        except (SpecError, TypeError) as error:
            where = " ".join(f"{axis}={label}" for axis, label in labels.items())
            raise MatrixError(f"{name}: cell {where}: {error}") from None
    return Cell(labels, row, labels[columns], tuple(specs))


def slug(parts: Iterable[str]) -> str:
    return _SLUG.sub("_", "-".join(parts)).strip("_-") or "cell"


def _axis(name: str, axis: str, levels: Any) -> Axis:
    if not isinstance(levels, list) or not levels:
        raise MatrixError(f"{name}: axis {axis} must be a non-empty list of levels")
    made = []
    for level in levels:
        if isinstance(level, dict):
            if "label" not in level:
                raise MatrixError(f"{name}: axis {axis}: a table level needs a label, e.g. {{ label = \"x\", ... }}")
            settings = {key: value for key, value in level.items() if key != "label"}
            made.append(Level(_label(level["label"]), _settings(name, f"axis {axis}", settings)))
        else:
            made.append(Level(_label(level), _settings(name, f"axis {axis}", {axis: level})))
    labels = [level.label for level in made]
    if len(set(labels)) != len(labels):
        raise MatrixError(f"{name}: axis {axis} has a label twice: {', '.join(labels)}")
    return Axis(axis, tuple(made))


def _settings(name: str, where: str, settings: Mapping[str, Any], seeds: bool = False) -> dict[str, Any]:
    """Settings as a run's values, lists and maps as a spec takes them (the registry refuses unknown ones)."""
    if "seed" in settings or ("seeds" in settings and not seeds):
        raise MatrixError(f"{name}: {where}: seeds are set by `seeds = [...]` in [matrix] or a [[cell]]")
    values: dict[str, Any] = {}
    for key, value in settings.items():
        if key in MAPS:
            if not isinstance(value, dict):
                raise MatrixError(f"{name}: {where}: {key} must be a table of KEY = VALUE")
            value = {str(k): _label(v) for k, v in value.items()}
        elif key in LISTS:
            if not isinstance(value, (str, list)):
                raise MatrixError(f"{name}: {where}: {key} must be a list or a comma-separated string")
            value = [str(part).strip() for part in (value.split(",") if isinstance(value, str) else value)
                     if str(part).strip() not in ("", "none")]
        values[key] = value
    return values


def _merge(values: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    merged = {**values, **{key: value for key, value in settings.items() if key != "seeds"}}
    for key in MAPS:
        if key in values and key in settings:
            merged[key] = {**values[key], **settings[key]}
    return merged


def _tweak(name: str, item: dict[str, Any], axes: tuple[Axis, ...]) -> tuple[dict[str, list[str]], dict[str, Any],
                                                                             list[int] | None]:
    if "where" not in item or not isinstance(item["where"], dict):
        raise MatrixError(f"{name}: [[cell]] needs where = {{ axis = label, ... }}")
    settings = _settings(name, "[[cell]]", {key: value for key, value in item.items() if key != "where"}, seeds=True)
    seeds = _seeds(name, "[[cell]]", settings["seeds"]) if "seeds" in settings else None
    return _where(name, "[[cell]] where", item["where"], axes), settings, seeds


def _where(name: str, what: str, item: Mapping[str, Any], axes: tuple[Axis, ...]) -> dict[str, list[str]]:
    by_name = {axis.name: {level.label for level in axis.levels} for axis in axes}
    where = {}
    for axis, wanted in item.items():
        if axis not in by_name:
            raise MatrixError(f"{name}: {what}: {axis} is not an axis ({', '.join(by_name)})")
        labels = [_label(label) for label in (wanted if isinstance(wanted, list) else [wanted])]
        missing = [label for label in labels if label not in by_name[axis]]
        if missing:
            raise MatrixError(f"{name}: {what}: axis {axis} has no level {', '.join(missing)}")
        where[axis] = labels
    if not where:
        raise MatrixError(f"{name}: {what} names no axis")
    return where


def _matches(where: dict[str, list[str]], labels: dict[str, str]) -> bool:
    return all(labels[axis] in wanted for axis, wanted in where.items())


def _seeds(name: str, where: str, seeds: Any) -> list[int]:
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool)
                                                          for s in seeds):
        raise MatrixError(f"{name}: {where}: seeds must be a non-empty list of integers, not {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise MatrixError(f"{name}: {where}: seeds {seeds} repeat one: the same seed makes the same run")
    return seeds


def _label(value: Any) -> str:
    """TOML's true is Kafka's "true": labels and KEY=VALUE settings are the strings a user would type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(_label, value))
    return str(value)


def _table(name: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MatrixError(f"{name}: [{key}] must be a table")
    return value


def _tables(name: str, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise MatrixError(f"{name}: {key} must be an array of tables, [[{key}]]")
    return value


def _only(name: str, where: str, data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise MatrixError(f"{name}: {where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
