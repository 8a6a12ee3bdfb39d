"""A node's process, alone: a pause is done only once the kernel shows the process stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil

from cluster.deploy.node_process import NodeProcess


def test_a_pause_returns_with_the_process_stopped_and_a_resume_lets_it_run(tmp_path):
    process = NodeProcess(tmp_path / "node.log", own_session=True)
    process.start([sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"])
    try:
        pid = process.pid
        assert pid is not None
        for _ in range(20):  # each pause is checked at once: no wait of the test's own may hide a slow stop
            process.pause()
            assert psutil.Process(pid).status() == psutil.STATUS_STOPPED
            process.resume()
            assert process.is_running() and not process.is_paused()
    finally:
        process.kill()
    assert not Path(f"/proc/{pid}").exists()
