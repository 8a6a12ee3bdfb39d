"""Matrix files: the cartesian product of their axes, excludes, per-cell settings, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from logquake.verify.matrix import MatrixError, load, parse

TINY = """
[matrix]
description = "two by two"
seeds = [3]

[base]
workload = "queue"
time_limit = 10
broker_overrides = { "zookeeper.session.timeout.ms" = "6000" }

[axes]
acks = ["1", { label = "all", acks = "all", idempotence = true }]
election = [{ label = "unclean", broker_overrides = { "unclean.leader.election.enable" = true } }]
nemesis = ["kill", { label = "leader-cut", nemesis = "partition", nemesis_targets = "partition-leader" }]
"""


def test_cells_are_the_product_of_the_axes_with_settings_merged_in_order() -> None:
    matrix = parse(TINY, "tiny")

    assert [cell.name for cell in matrix.cells] == [
        "acks=1 election=unclean / kill", "acks=1 election=unclean / leader-cut",
        "acks=all election=unclean / kill", "acks=all election=unclean / leader-cut"]
    assert matrix.columns == "nemesis" and matrix.column_labels == ["kill", "leader-cut"]
    (spec,) = matrix.cells[3].specs
    assert (spec.options.acks, spec.options.idempotence, spec.seed, spec.time_limit) == ("all", True, 3, 10)
    assert spec.nemesis == ("partition",) and spec.nemesis_targets == ("partition-leader",)
    assert spec.broker_overrides == {"zookeeper.session.timeout.ms": "6000", "unclean.leader.election.enable": "true"}
    assert spec.name == "verify-tiny-all-unclean-leader-cut"


def test_excludes_leave_cells_out_and_cell_tables_set_seeds_and_time_limits() -> None:
    text = TINY + """
[[exclude]]
acks = "1"
nemesis = ["kill"]

[[exclude]]
acks = "all"
nemesis = "leader-cut"

[[cell]]
where = { nemesis = "kill" }
seeds = [1, 2]
time_limit = 30
"""
    matrix = parse(text, "tiny")

    assert [cell.name for cell in matrix.cells] == ["acks=1 election=unclean / leader-cut",
                                                    "acks=all election=unclean / kill"]
    assert matrix.column_labels == ["kill", "leader-cut"]  # the axis's order, whichever cell comes first
    cut, kill = matrix.cells
    assert [(spec.seed, spec.time_limit) for spec in kill.specs] == [(1, 30), (2, 30)]
    assert [(spec.seed, spec.time_limit) for spec in cut.specs] == [(3, 10)]


def test_any_run_option_is_an_axis() -> None:
    matrix = parse('[axes]\nmin_insync = [1, 2]\nrate = [50.0]\nnemesis = ["pause"]\n', "opts")

    assert [spec.options.min_insync for cell in matrix.cells for spec in cell.specs] == [1, 2]
    assert matrix.rows == ["min_insync=1 rate=50.0", "min_insync=2 rate=50.0"]


@pytest.mark.parametrize(("text", "error"), [
    ("[axes\n", "not TOML"),
    ("[axes]\n", "names no axis"),
    ("[axes]\nacks = []\n", "axis acks must be a non-empty list"),
    ("[axes]\nacks = ['2']\n", "cell acks=2: acks must be one of 0, 1, all"),
    ("[axes]\nfault = ['kill']\n", "unknown spec field(s): fault"),
    ("[axes]\nfault = [{ nemesis = 'kill' }]\n", "a table level needs a label"),
    ("[axes]\nnemesis = ['kill', 'kill']\n", "has a label twice"),
    ("[axes]\nnemesis = ['fire']\n", "unknown fault(s) fire"),
    ("[matrix]\ncolumns = 'x'\n[axes]\nacks = ['1']\n", "columns = 'x' is not an axis"),
    ("[matrix]\nseeds = 3\n[axes]\nacks = ['1']\n", "seeds must be a non-empty list of integers"),
    ("[matrix]\nseeds = [1, 1]\n[axes]\nacks = ['1']\n", "repeat one"),
    ("[base]\nseed = 3\n[axes]\nacks = ['1']\n", "seeds are set by"),
    ("[axes]\nacks = ['1']\n[[exclude]]\nacks = '1'\n", "every cell is excluded"),
    ("[axes]\nacks = ['1']\n[[exclude]]\nacks = 'all'\n", "axis acks has no level all"),
    ("[axes]\nacks = ['1']\n[[cell]]\ntime_limit = 3\n", "[[cell]] needs where"),
    ("[axes]\nacks = ['1']\n[other]\n", "unknown key(s) other"),
    ("[base]\nbroker_overrides = 'a=b'\n[axes]\nacks = ['1']\n", "broker_overrides must be a table"),
])
def test_a_bad_matrix_is_refused_naming_what_is_wrong(text: str, error: str) -> None:
    with pytest.raises(MatrixError) as refused:
        parse(text, "bad")
    assert error in str(refused.value) and str(refused.value).startswith("bad: ")


def test_the_built_in_matrices_load_by_name_and_a_file_by_path(tmp_path: Path) -> None:
    quick = load("quick")
    assert len(quick.cells) == 12 and quick.column_labels == ["kill", "isolate-leader", "partition"]
    assert {spec.options.acks for cell in quick.cells for spec in cell.specs} == {"1", "all"}
    full = load("full")
    assert {"kill", "pause", "majorities-ring", "slow-disk", "latency", "packet-loss", "clock-skew"} <= set(
        full.column_labels)
    path = tmp_path / "mine.toml"
    path.write_text(TINY)
    assert load(str(path)).name == "mine"
    with pytest.raises(MatrixError, match="neither a built-in matrix"):
        load(str(tmp_path / "missing.toml"))


def test_the_documented_example_is_a_matrix() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "verify.md").read_text()
    example = docs.split("```toml\n", 1)[1].split("```", 1)[0]

    matrix = parse(example, "doc")

    assert len(matrix.cells) == 96 and matrix.column_labels == ["kill", "pause,kill", "leader-cut", "isolate-leader"]
    cut = next(cell for cell in matrix.cells if cell.column == "leader-cut")
    assert [(spec.seed, spec.time_limit) for spec in cut.specs] == [(2, 30), (3, 30), (4, 30)]
    assert {spec.max_unavailable for cell in matrix.cells for spec in cell.specs} == {None, 10}


def test_the_availability_claim_is_an_axis_like_any_run_option() -> None:
    text = TINY.replace('nemesis = ["kill"', 'max_unavailable = [{ label = "unjudged" }, 5, 12.5]\nnemesis = ["kill"')
    matrix = parse(text, "tiny")

    killing = [cell for cell in matrix.cells if cell.column == "kill"][:3]
    assert [spec.max_unavailable for cell in killing for spec in cell.specs] == [None, 5, 12.5]
    assert [cell.name for cell in killing] == [
        f"acks=1 election=unclean max_unavailable={label} / kill" for label in ("unjudged", "5", "12.5")]
