"""The HTML report: self-contained, every operation on its partition's time axis, the longest
linearization in order, and where it breaks."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from pyporcupine import CheckResult, Operation, check_operations_verbose
from pyporcupine.models import UNKNOWN, KvModel, RegisterModel
from pyporcupine.visualization import render_html, write_html


def report(model, history) -> str:
    result, info = check_operations_verbose(model, history, timeout=60)
    return render_html(model, result, info, title="test <history>")


def test_the_page_is_self_contained() -> None:
    page = report(RegisterModel(initial=0), [Operation(0, ("write", 1), 0, None, 1)])
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert "<style>" in page and "<script>" in page
    assert not re.search(r"<link|<img|src=|href=|@import|url\(", page)
    assert "test &lt;history&gt;" in page


def test_every_operation_is_drawn_and_the_linearization_is_numbered_in_order() -> None:
    history = [
        Operation(0, ("write", 7), 0, None, 10),
        Operation(1, ("read",), 2, 0, 4),
        Operation(2, ("read",), 11, 7, 12),
    ]
    page = report(RegisterModel(initial=0), history)
    assert "linearizable" in page and "not linearizable" not in page
    assert page.count("class='op linearized") == 3
    for description in ("write(7)", "read() -&gt; 0", "read() -&gt; 7"):
        assert description in page
    steps = re.findall(r"<tr data-op='0-(\d+)'><td>(\d+)</td>", page)
    assert steps == [("1", "1"), ("0", "2"), ("2", "3")]
    assert "Stuck after" not in page


def test_an_illegal_history_shows_the_operation_it_could_not_get_past() -> None:
    history = [
        Operation(0, ("write", 1), 0, None, 1),
        Operation(1, ("read",), 2, 1, 3),
        Operation(1, ("read",), 4, 0, 5),
        Operation(2, ("write", 3), 0, UNKNOWN, None),
    ]
    page = report(RegisterModel(initial=0), history)
    assert "not linearizable" in page
    assert page.count("class='op breaks") == 1
    assert re.search(r"data-op='0-2'><title>op 2: read\(\) -&gt; 0</title><rect class='op breaks", page)
    assert "Stuck after step" in page and "operation 2" in page
    assert "open-ended" in page


def test_each_partition_gets_its_own_section_illegal_ones_first(tmp_path: Path) -> None:
    history = [
        Operation(1, ("get", "b"), 0, "", 1),
        Operation(0, ("put", "a", "x"), 0, None, 1),
        Operation(1, ("get", "a"), 2, "y", 3),
    ]
    result, info = check_operations_verbose(KvModel(), history)
    assert result is CheckResult.ILLEGAL
    path = tmp_path / "kv.html"
    write_html(KvModel(), result, info, path)
    page = path.read_text()
    assert page.count("<h2>Partition") == 2
    assert page.index("<h2>Partition 1: <span class='illegal'>") < page.index("<h2>Partition 0:")
    assert html.escape('get("a") -> "y"') in page and html.escape('get("b") -> ""') in page


def test_each_operations_longest_linearization_is_embedded_for_clicking() -> None:
    history = [
        Operation(0, ("write", 1), 0, None, 1),
        Operation(1, ("read",), 2, 1, 3),
        Operation(1, ("read",), 4, 0, 5),
    ]
    result, info = check_operations_verbose(RegisterModel(initial=0), history)
    page = render_html(RegisterModel(initial=0), result, info)
    data = json.loads(re.search(r"<script type='application/json' id='data-0'>(.*?)</script>", page).group(1))
    assert data["sequences"] == [[0, 1]]
    assert data["of"] == [0, 0, -1]
