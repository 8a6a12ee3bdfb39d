"""`python -m pyporcupine check`: verdicts, exit codes, errors and the HTML report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyporcupine.cli import main
from tests.pyporcupine import vectors

ROOT = Path(__file__).resolve().parents[2]


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("number", "code", "verdict"), [
    ("002", 0, "linearizable"),
    ("000", 1, "not linearizable"),
])
def test_check_prints_the_verdict_and_exits_with_its_code(capsys, number: str, code: int, verdict: str) -> None:
    assert check(capsys, "--model", "cas-register", "--format", "jepsen-log",
                 str(vectors.etcd_path(number))) == (code, verdict + "\n", "")


def test_check_of_kv_edn(capsys) -> None:
    assert check(capsys, "--model", "kv", "--format", "edn-kv", str(vectors.kv_path("c10-bad")))[:2] == (
        1, "not linearizable\n")


def test_a_limit_reached_prints_unknown_and_exits_2(capsys, tmp_path: Path) -> None:
    # 16 concurrent appends of unknown outcome, then a read no order of them produces.
    records = []
    for process in range(16):
        records.append({"time": 0, "process": process, "type": "invoke", "f": "append", "key": "k",
                        "value": chr(97 + process)})
    records.append({"time": 1, "process": 99, "type": "invoke", "f": "get", "key": "k", "value": None})
    records.append({"time": 2, "process": 99, "type": "ok", "f": "get", "key": "k", "value": "impossible"})
    path = tmp_path / "explodes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    assert check(capsys, "--model", "kv", "--format", "jsonl", str(path), "--timeout", "0.3")[:2] == (2, "unknown\n")


def test_bad_input_is_a_clear_error_with_exit_3(capsys, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"time": 1, "process": 0, "type": "invoke", "f": "read"}\n{oops\n')
    code, out, err = check(capsys, "--model", "register", "--format", "jsonl", str(path))
    assert (code, out) == (3, "")
    assert f"{path}:2: not JSON" in err


def test_a_missing_file_is_bad_input(capsys, tmp_path: Path) -> None:
    code, _, err = check(capsys, "--model", "kv", "--format", "jsonl", str(tmp_path / "nope"))
    assert code == 3 and "cannot read" in err


@pytest.mark.parametrize("args", [
    ["--model", "queue", "--format", "jsonl", "f"],
    ["--model", "kv", "--format", "jsonl"],
    ["--model", "kv", "--format", "jsonl", "f", "--timeout", "-1"],
])
def test_bad_arguments_exit_3_not_2(capsys, args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["check", *args])
    assert exit.value.code == 3
    assert "error:" in capsys.readouterr().err


def test_html_report_is_written_and_contains_the_operations(capsys, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, stdout, _ = check(capsys, "--model", "cas-register", "--format", "jepsen-log",
                            str(vectors.etcd_path("000")), "--html", str(out))
    assert (code, stdout) == (1, "not linearizable\n")
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "</html>" in page
    assert "cas(3, 0) -&gt; ok" in page and "write(4)" in page
    assert "Stuck after step" in page


def test_the_module_runs_as_a_program() -> None:
    run = subprocess.run([sys.executable, "-m", "pyporcupine", "check", "--model", "cas-register",
                          "--format", "jepsen-log", str(vectors.etcd_path("005"))],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (run.returncode, run.stdout) == (0, "linearizable\n")
