"""The interpreter's process numbering: Jepsen's rule that a process never has two operations in flight."""

from __future__ import annotations

from logquake.interpreter import ProcessTable


def test_a_thread_continues_as_a_fresh_process_after_info():
    table = ProcessTable(3)
    assert [table.process(t) for t in range(3)] == [0, 1, 2]
    assert table.retire(1) == 4
    assert table.retire(1) == 7
    assert [table.process(t) for t in range(3)] == [0, 7, 2]
