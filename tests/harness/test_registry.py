"""A workload is one object and one registry line: a throwaway one, added to the registry alone, is offered by
the command line, its options are checked by the spec, its checker judges the run, and `logquake check` judges
the stored run again with it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from harness.generator import Fn, Generator, Mix, clients, repeat_op, stagger
from harness.history import Event, pair
from harness.seams import Client, Completion, Deployment, ok
from harness.spec import Options, TestSpec, option
from harness.workload import Workload
from logquake.commands import check_command, make_check_command, make_run_command
from logquake.registry import WORKLOADS
from tests.harness.test_run import leftovers


@dataclass(frozen=True)
class CounterOptions(Options):
    counter_step: int = option(1, "counter: how much each add adds.", minimum=1)


class Counter:
    """One counter in the harness's memory, shared by every client: adds and reads that cannot go wrong."""

    def __init__(self) -> None:
        self.value = 0
        self.lock = threading.Lock()


class CounterClient:
    def __init__(self, counter: Counter) -> None:
        self.counter = counter

    def invoke(self, op: dict[str, Any]) -> Completion:
        with self.counter.lock:
            if op["f"] == "add":
                self.counter.value += op["value"]
            return ok(self.counter.value if op["f"] == "read" else op["value"])

    def close(self) -> None:
        pass


class CounterWorkload(Workload):
    name = "counter"
    summary = "counter: adds to and reads of a counter in the harness's memory"
    options = CounterOptions
    roles = ("keeper",)

    def __init__(self) -> None:
        self.counter = Counter()

    def variant(self, spec: TestSpec) -> str:
        return f"step{spec.options_as(CounterOptions).counter_step}"

    def setup(self, spec: TestSpec, deployment: Deployment) -> str:
        return "a counter at 0"

    def open_client(self, spec: TestSpec, deployment: Deployment, process: int) -> Client:
        return CounterClient(self.counter)

    def generator(self, spec: TestSpec) -> Generator:
        step = spec.options_as(CounterOptions).counter_step
        return clients(stagger(spec.rate, Mix((Fn(lambda rng: {"f": "add", "value": step}), repeat_op("read")))))

    def fault_targets(self, spec: TestSpec) -> tuple[str, ...]:
        return ("one",)

    def check(self, test: dict[str, Any], history: list[Event], out_dir: Path) -> dict[str, Any]:
        """Every read lies between the adds completed before it began and every add begun before it ended."""
        ops = pair(history)
        adds = [op for op in ops if op.f == "add" and op.type != "fail"]
        wrong = []
        for read in (op for op in ops if op.f == "read" and op.type == "ok"):
            low = sum(add.invoke["value"] for add in adds if add.type == "ok" and add.end < read.start)
            high = sum(add.invoke["value"] for add in adds if add.start < read.end)
            if not low <= read.completion["value"] <= high:
                wrong.append(read.index)
        return {"valid": not wrong, "wrong_reads": wrong, "reads_checked": sum(op.f == "read" for op in ops),
                "step": test["counter_step"]}


def test_a_throwaway_workload_needs_only_a_registry_line(tmp_path: Path) -> None:
    registry = WORKLOADS.with_workload(CounterWorkload())
    run_command, recheck = make_run_command(registry), make_check_command(registry)
    runner = CliRunner()

    help_text = " ".join(runner.invoke(run_command, ["--help"]).output.split())
    assert "counter: adds to and reads of a counter" in help_text and "--counter-step" in help_text

    refused = runner.invoke(run_command, ["--workload", "counter", "--counter-step", "0", "--store", str(tmp_path)])
    assert refused.exit_code == 2 and "counter_step must be at least 1, not 0" in refused.output
    assert not any(tmp_path.iterdir())

    ran = runner.invoke(run_command, ["--workload", "counter", "--counter-step", "2", "--brokers", "0",
                                      "--keepers", "1", "--backend", "local", "--time-limit", "2", "--rate", "100",
                                      "--concurrency", "2", "--store", str(tmp_path)])
    run_dir = (tmp_path / "latest").resolve()
    assert ran.exit_code == 0, ran.output
    assert run_dir.parent.name == "counter-none-step2"
    assert json.loads((run_dir / "test.json").read_text())["counter_step"] == 2
    results = json.loads((run_dir / "results.json").read_text())
    assert results["valid"] is True and results["counter"]["step"] == 2 and results["counter"]["reads_checked"] > 10
    assert not leftovers(run_dir)

    rechecked = runner.invoke(recheck, [str(run_dir)])
    assert rechecked.exit_code == 0, rechecked.output
    assert json.loads((run_dir / "results.json").read_text())["counter"] == results["counter"]

    history = (run_dir / "history.jsonl").read_text().splitlines()
    last = json.loads(history[-1])
    lie = [{"index": last["index"] + 1 + i, "time": last["time"] + 1 + i, "process": 99, "type": type_,
            "f": "read", "value": value} for i, (type_, value) in enumerate((("invoke", None), ("ok", -1)))]
    (run_dir / "history.jsonl").write_text("\n".join([*history, *map(json.dumps, lie)]) + "\n")
    assert runner.invoke(recheck, [str(run_dir)]).exit_code == 1
    assert json.loads((run_dir / "results.json").read_text())["counter"]["wrong_reads"] == [lie[1]["index"]]

    unregistered = runner.invoke(check_command, [str(run_dir)])
    assert unregistered.exit_code == 1 and "workload must be one of queue, register, log" in unregistered.output
