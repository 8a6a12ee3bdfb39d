"""`logquake verify` end to end with runs stood in for: cells in order, the outputs, exit codes, Ctrl-C.

The stand-in run writes what the runner writes (test.json, results.json, report.html) with results
chosen per configuration, so that everything after the run (outcomes, links, verify.json, verify.html,
JUnit, the terminal matrix) is the real thing.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from harness.spec import TestSpec
from logquake import store
from logquake.runner import INTERRUPTED, RunOutcome, exit_code
from logquake.verify.command import make_verify_command
from tests.verify.test_outcome import queue_results

MATRIX = """
[matrix]
description = "stand-in runs"

[base]
workload = "queue"

[axes]
acks = ["1", { label = "all", acks = "all", idempotence = true }]
nemesis = ["kill", "pause"]
"""


def stand_in(results_for: Any) -> Any:
    ran: list[str] = []

    def run_spec(spec: TestSpec, store_root: Path) -> RunOutcome:
        ran.append(spec.name)
        run_dir = store.new_run_dir(store_root, spec.name)
        store.write_json(run_dir / store.TEST, spec.to_dict())
        results = results_for(spec)
        store.write_json(run_dir / store.RESULTS, results)
        (run_dir / store.REPORT).write_text("<html>report</html>")
        return RunOutcome(run_dir, results, exit_code(results))

    run_spec.ran = ran  # type: ignore[attr-defined]
    return run_spec


def by_acks(spec: TestSpec) -> dict[str, Any]:
    return queue_results(True, allowed={"lost-write": 2} if spec.options.acks == "1" else {})


def verify(tmp_path: Path, run_spec: Any, *extra: str) -> tuple[int, str, dict[str, Any], Path]:
    tmp_path.mkdir(exist_ok=True)
    matrix = tmp_path / "mine.toml"
    matrix.write_text(MATRIX)
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(make_verify_command(run_spec=run_spec),
                                [str(matrix), "--store", str(tmp_path / "store"), "--junit", str(junit), *extra])
    (directory,) = (tmp_path / "store" / "verify").glob("2*")
    return result.exit_code, result.output, json.loads((directory / "verify.json").read_text()), directory


def test_every_cell_runs_and_is_judged_in_every_output(tmp_path: Path) -> None:
    run_spec = stand_in(by_acks)

    code, output, report, directory = verify(tmp_path, run_spec)

    assert code == 0, output
    assert run_spec.ran == ["verify-mine-1-kill", "verify-mine-1-pause", "verify-mine-all-kill",
                            "verify-mine-all-pause"]
    assert [(cell["name"], cell["outcome"]) for cell in report["cells"]] == [
        ("acks=1 / kill", "weakness shown"), ("acks=1 / pause", "weakness shown"),
        ("acks=all / kill", "holds"), ("acks=all / pause", "holds")]
    assert report["exit_code"] == 0 and report["counts"] == {"weakness shown": 2, "holds": 2}
    run = report["cells"][0]["runs"][0]
    assert run["allowed"] == {"lost-write": 2} and (directory / run["link"] / "report.html").is_file()
    assert re.search(r"acks=1\s+~ 1/1\s+~ 1/1", output) and re.search(r"acks=all\s+✓ 1/1\s+✓ 1/1", output)
    page = (directory / "verify.html").read_text()
    links = re.findall(r'href="([^"]+/report\.html)"', page)
    assert len(links) == 4 and all((directory / link).is_file() for link in links)
    cases = ElementTree.parse(tmp_path / "junit.xml").getroot().findall("testsuite/testcase")
    assert [case.get("name") for case in cases] == [cell["name"] for cell in report["cells"]]
    assert all(list(case) == [] for case in cases)
    assert not (tmp_path / "store" / "latest").resolve().is_relative_to(directory)


def test_a_broken_claim_fails_the_cell_and_exits_1(tmp_path: Path) -> None:
    def broken_under_pause(spec: TestSpec) -> dict[str, Any]:
        if spec.nemesis == ("pause",) and spec.options.acks == "all":
            return queue_results(False, forbidden={"lost-write": 1})
        return by_acks(spec)

    code, output, report, _ = verify(tmp_path, stand_in(broken_under_pause))

    assert code == 1, output
    assert report["cells"][3]["outcome"] == "broken" and "✗ 1/1" in output
    failure = ElementTree.parse(tmp_path / "junit.xml").getroot().find("testsuite/testcase[4]/failure")
    assert failure is not None and "lost-write: forbidden" in (failure.get("message") or "")


def test_an_unshown_weakness_fails_only_when_asked(tmp_path: Path) -> None:
    clean = stand_in(lambda spec: queue_results(True))

    assert verify(tmp_path / "a", clean)[0] == 0
    code, _, report, _ = verify(tmp_path / "b", clean, "--fail-on-unshown")
    assert code == 1 and report["cells"][0]["outcome"] == "weakness not shown"
    failure = ElementTree.parse(tmp_path / "b" / "junit.xml").getroot().find("testsuite/testcase/failure")
    assert failure is not None and "allows lost-write, unseen" in (failure.get("message") or "")


def test_ctrl_c_stops_after_the_interrupted_run_and_reports_what_ran(tmp_path: Path) -> None:
    def interrupted_second(spec: TestSpec) -> dict[str, Any]:
        if spec.nemesis == ("pause",):
            return queue_results(True, interrupted=True, problem=INTERRUPTED)
        return by_acks(spec)

    run_spec = stand_in(interrupted_second)
    code, output, report, _ = verify(tmp_path, run_spec)

    assert code == 2, output
    assert run_spec.ran == ["verify-mine-1-kill", "verify-mine-1-pause"]
    assert report["interrupted"] is True
    assert [cell["outcome"] for cell in report["cells"]] == ["weakness shown", "undecided", "undecided", "undecided"]
    assert [cell["ran"] for cell in report["cells"]] == [1, 1, 0, 0]
    assert "interrupted" in output and "2 not run" in output
    cases = ElementTree.parse(tmp_path / "junit.xml").getroot().findall("testsuite/testcase")
    assert [child.tag for case in cases for child in case] == ["error", "skipped", "skipped"]


def test_a_bad_matrix_is_a_usage_error_before_anything_runs(tmp_path: Path) -> None:
    matrix = tmp_path / "bad.toml"
    matrix.write_text("[axes]\nacks = ['2']\n")
    run_spec = stand_in(by_acks)

    result = CliRunner().invoke(make_verify_command(run_spec=run_spec), [str(matrix), "--store", str(tmp_path)])

    assert result.exit_code == 2 and "acks must be one of 0, 1, all" in result.output
    assert run_spec.ran == [] and not any(tmp_path.glob("verify"))


def test_a_cell_cut_short_keeps_what_its_finished_runs_showed(tmp_path: Path) -> None:
    def broken_then_interrupted(spec: TestSpec) -> dict[str, Any]:
        if spec.seed == 1:
            return queue_results(False, forbidden={"duplicate": 1})
        return queue_results(True, interrupted=True, problem=INTERRUPTED)

    tmp_path.mkdir(exist_ok=True)
    matrix = tmp_path / "mine.toml"
    matrix.write_text(MATRIX.replace("[base]", "seeds = [1, 2, 3]\n\n[base]"))
    result = CliRunner().invoke(make_verify_command(run_spec=stand_in(broken_then_interrupted)),
                                [str(matrix), "--store", str(tmp_path / "store")])

    assert result.exit_code == 1, result.output
    (directory,) = (tmp_path / "store" / "verify").glob("2*")
    first = json.loads((directory / "verify.json").read_text())["cells"][0]
    assert (first["outcome"], first["ran"], first["seeds"]) == ("broken", 2, [1, 2, 3])
