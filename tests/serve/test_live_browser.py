"""The live view in a real browser while a short `logquake run` goes on the local backend (20 s of workload):
the counts move during the run, and the page ends with the run's verdict."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e.runs import ROOT, heeding_sigint
from tests.polling import wait_until
from tests.serve.browser import screenshot
from tests.serve.server import serving
from tests.serve.test_browser import shown_runs

SHORT_RUN = ["--workload", "queue", "--backend", "local", "--brokers", "1", "--keepers", "0",
             "--replication-factor", "1", "--min-insync", "1", "--time-limit", "20", "--rate", "20",
             "--concurrency", "2", "--nemesis", "pause", "--nemesis-interval", "2", "--no-plots", "--seed", "3"]
RUN_S = 240


def stop(run: subprocess.Popen[bytes]) -> None:
    """Ctrl-C for a run a failed assertion left going, so that it takes its brokers down as it ends."""
    if run.poll() is None:
        run.send_signal(signal.SIGINT)
        run.wait(timeout=RUN_S)


def test_the_live_view_follows_a_run_to_its_verdict(page: Any, tmp_path: Path) -> None:
    store_root = tmp_path / "store"
    store_root.mkdir()
    with serving(store_root) as served, open(tmp_path / "run-output.txt", "wb") as output:
        run = subprocess.Popen([sys.executable, "-m", "logquake", "run", "--store", str(store_root), *SHORT_RUN],
                               cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, preexec_fn=heeding_sigint)
        try:
            history = wait_until(lambda: next(iter(store_root.glob("*/2*/history.jsonl")), None),
                                 "the run to start its history", timeout_s=RUN_S)
            path = history.parent.relative_to(store_root).as_posix()
            page.goto(f"{served.url}/")
            assert shown_runs(page) == {path: "running"}
            page.goto(f"{served.url}/live/{path}")
            page.wait_for_function("Number(document.getElementById('ok').textContent) > 0"
                                   " && document.getElementById('verdict').textContent === ''", timeout=RUN_S * 1000)
            screenshot(page, "live")
            page.wait_for_function("document.getElementById('verdict').textContent !== ''", timeout=RUN_S * 1000)
            assert run.wait(timeout=RUN_S) == 0, (tmp_path / "run-output.txt").read_text()
        finally:
            stop(run)
    assert page.locator("#verdict").inner_text() == "valid"
    assert "valid" in page.locator("#verdict").get_attribute("class").split()
    assert int(page.locator("#ok").inner_text()) > 0
    assert "s of 20s  healed: final reads, then the checkers  ok " in page.locator("#progress").text_content()
    assert page.errors == []
