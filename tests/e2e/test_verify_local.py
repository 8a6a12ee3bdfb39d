"""`logquake verify` end to end on the local backend: a tiny matrix of two cells, a configuration that keeps its
claim under kills and an acks=1 leader isolation that shows the loss acks=1 allows (tests/e2e/runs.py's
ISOLATING run, shortened); and Ctrl-C in the middle of a matrix."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from tests.e2e.runs import ROOT, a_broker_is_down, heeding_sigint, leftovers, logquake_run

CLUSTER = """
workload = "queue"
brokers = 3
keepers = 3
replication_factor = 3
min_insync = 2
nemesis_interval = 5
concurrency = 4
backend = "local"
"""
"""The base settings both matrices share: three replicated brokers and three keepers, local processes."""

TINY = """
[matrix]
description = "a holds cell and a weakness-shown cell"
seeds = [2]

[base]""" + CLUSTER + """partitions = 1
broker_overrides = { "zookeeper.session.timeout.ms" = "6000" }
time_limit = 15
final_time_limit = 15
rate = 100

[axes]
acks = ["1", { label = "all", acks = "all", idempotence = true }]
nemesis = ["kill", "isolate-leader"]

[[exclude]]
acks = "1"
nemesis = "kill"

[[exclude]]
acks = "all"
nemesis = "isolate-leader"
"""


def test_a_tiny_matrix_holds_where_it_must_and_shows_acks_1_loss(tmp_path: Path) -> None:
    matrix = tmp_path / "tiny.toml"
    matrix.write_text(TINY)
    junit = tmp_path / "verify.xml"

    done = subprocess.run([sys.executable, "-m", "logquake", "verify", str(matrix), "--store", str(tmp_path / "store"),
                           "--junit", str(junit)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          preexec_fn=heeding_sigint)

    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    (directory,) = (tmp_path / "store" / "verify").glob("2*")
    report = json.loads((directory / "verify.json").read_text())
    outcomes = {cell["name"]: cell["outcome"] for cell in report["cells"]}
    assert outcomes == {"acks=1 / isolate-leader": "weakness shown", "acks=all / kill": "holds"}, output
    isolated = next(cell for cell in report["cells"] if cell["column"] == "isolate-leader")
    assert isolated["runs"][0]["allowed"].get("lost-write", 0) > 0 and not isolated["runs"][0]["forbidden"]
    for cell in report["cells"]:
        assert (directory / cell["runs"][0]["link"] / "report.html").is_file()
    cases = ElementTree.parse(junit).getroot().findall("testsuite/testcase")
    assert sorted(case.get("name") for case in cases) == sorted(outcomes)
    assert all(list(case) == [] for case in cases)
    assert "~ 1/1" in done.stdout and "✓ 1/1" in done.stdout


LONG = """
[matrix]
seeds = [2]

[base]""" + CLUSTER + """acks = "all"
time_limit = 300
rate = 50

[axes]
nemesis = ["kill", "pause"]
"""


def test_ctrl_c_heals_the_running_cell_and_reports_the_rest_as_not_run(tmp_path: Path) -> None:
    matrix = tmp_path / "long.toml"
    matrix.write_text(LONG)

    watched = logquake_run(tmp_path / "store", [str(matrix)], command="verify", interrupt_when=a_broker_is_down)

    assert watched.code == 2, watched.output
    assert "interrupted" in watched.output and "1 not run" in watched.output
    (directory,) = (tmp_path / "store" / "verify").glob("2*")
    report = json.loads((directory / "verify.json").read_text())
    assert report["interrupted"] is True
    assert [(cell["column"], cell["outcome"], cell["ran"]) for cell in report["cells"]] == [
        ("kill", "undecided", 1), ("pause", "undecided", 0)]
    assert "interrupted by the user (SIGINT)" in report["cells"][0]["runs"][0]["reasons"]
    heal = [op for op in watched.history() if op["f"] == "heal"]
    assert [op["type"] for op in heal] == ["invoke", "ok"] and heal[1]["value"][0]["fault"] == "kill"
    assert len(watched.pids) >= 6 and not leftovers(watched)
