"""The served pages over the fixture store, read as HTML over HTTP: what each shows, filters, escaping."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote

from tests.serve.server import Served, serving
from tests.serve.stores import CHECKED, LOG_LINES, OLD, SCRIPT, SCRIPT_DIR, all_verdicts, stored_run

ROW = re.compile(r'<tr class="run" data-verdict="(\w+)">.*?<a href="/run/([^"]+)">', re.S)


def listed(page: str) -> dict[str, str]:
    """The runs a runs page lists: path -> status."""
    return {unquote(path): verdict for verdict, path in ROW.findall(page)}


def test_the_runs_page_lists_every_run_newest_first_with_its_verdict(served: Served, served_store: Path) -> None:
    page = served.text("/")
    runs = listed(page)
    assert runs == all_verdicts(served_store)
    stamps = [path.split("/")[-1] for path in runs]
    assert stamps == sorted(stamps, reverse=True)
    assert f"{len(runs)} of {len(runs)} runs" in page


def test_damaged_runs_are_listed_as_damaged_with_the_reason(served: Served) -> None:
    page = served.text("/?verdict=damaged")
    assert set(listed(page)) == {"torn/20261201T090000", "broken/20261201T080000"}
    assert "history.jsonl is torn" in page and "results.json unreadable: JSONDecodeError" in page
    for path in ("torn/20261201T090000", "broken/20261201T080000"):
        assert "<p class=\"verdict damaged\">damaged: " in served.text(f"/run/{path}")


def test_the_runs_page_filters_by_verdict_workload_fault_and_name(served: Served, served_store: Path) -> None:
    expected = all_verdicts(served_store)
    assert set(listed(served.text("/?verdict=invalid"))) == {"queue-lost-write/20261201T110000"}
    assert set(listed(served.text("/?verdict=valid"))) == {p for p, v in expected.items() if v == "valid"}
    assert set(listed(served.text("/?workload=register"))) == {"register-kill/20261201T120000"}
    pausing = {path for path in expected
               if "pause" in json.loads((served_store / path / "test.json").read_text())["nemesis"]}
    assert set(listed(served.text("/?fault=pause"))) == pausing and CHECKED in pausing and len(pausing) < len(expected)
    assert set(listed(served.text("/?q=LOST"))) == {"queue-lost-write/20261201T110000"}
    assert listed(served.text("/?q=no-such-test")) == {}


def test_pages_hold_fifty_runs_and_link_the_next(tmp_path: Path) -> None:
    for number in range(60):
        run_dir = tmp_path / "many" / f"20260101T{number:06d}"
        run_dir.mkdir(parents=True)
        (run_dir / "test.json").write_text(json.dumps({"name": "many", "workload": "queue"}))
        (run_dir / "results.json").write_text(json.dumps({"valid": True}))
    with serving(tmp_path) as served:
        first = served.text("/")
        second = served.text("/?page=2")
        assert len(listed(first)) == 50 and len(listed(second)) == 10
        assert not set(listed(first)) & set(listed(second))
        assert 'rel="next"' in first and 'rel="prev"' in second and 'rel="next"' not in second
        assert len(listed(served.text("/?page=999"))) == 10


def test_a_run_named_as_a_script_is_shown_as_text_everywhere(served: Served, served_store: Path) -> None:
    path = f"{quote(SCRIPT_DIR)}/20261201T140000"
    for page in (served.text("/"), served.text(f"/run/{path}"), served.text(f"/compare?a={path}&b={quote(CHECKED)}"),
                 served.text(f"/?q={quote(SCRIPT)}")):
        assert "<script>window.pwned" not in page and "<img src=x" not in page
        assert "&lt;script&gt;window.pwned = true&lt;/script&gt;" in page or "&lt;img src=x" in page
    assert listed(served.text(f"/?q={quote(SCRIPT)}")) == {f"{SCRIPT_DIR}/20261201T140000": "unknown"}


def test_a_run_page_shows_its_plots_pages_logs_and_files(served: Served, served_store: Path) -> None:
    page = served.text(f"/run/{CHECKED}")
    for plot in ("latency-raw.png", "latency-quantiles.png", "rate.png"):
        assert f'<img src="/files/{CHECKED}/{plot}"' in page
        status, body, headers = served.get(f"/files/{CHECKED}/{plot}")
        assert status == 200 and body.startswith(b"\x89PNG") and headers["content-type"] == "image/png"
    assert f'href="/files/{CHECKED}/timeline.html"' in page and f'href="/files/{CHECKED}/report.html"' in page
    assert f'href="/tail/{CHECKED}/nodes/b1.log"' in page and 'href="/tarball/' in page
    assert "&#34;workload&#34;: &#34;queue&#34;" in page and "&#34;valid&#34;: true" in page
    status, report, headers = served.get(f"/files/{CHECKED}/report.html")
    assert status == 200 and b"VALID" in report and headers["content-security-policy"] == "sandbox allow-scripts"


def test_a_logs_tail_shows_its_last_lines_and_offers_more(served: Served) -> None:
    page = served.text(f"/tail/{CHECKED}/nodes/b1.log?lines=10")
    shown = re.search(r'<pre id="tail">(.*)</pre>', page, re.S)
    assert shown and shown.group(1).splitlines() == [f"line {n}" for n in range(LOG_LINES - 10, LOG_LINES)]
    assert "?lines=100" in page
    whole = served.text(f"/tail/{CHECKED}/nodes/b1.log?lines={LOG_LINES}")
    assert "The whole file." in whole and "line 0\n" in whole


def test_two_runs_compared_show_where_they_differ(served: Served) -> None:
    page = served.text(f"/compare?a={CHECKED}&b=queue-lost-write/20261201T110000")
    differing = re.findall(r'<tr class="differs"><th>([^<]+)</th>', page)
    assert "name" in differing and "seed" not in differing and "workload" not in differing
    assert "lost-write" in differing and "all client ops" in differing
    assert served.get(f"/compare?a={CHECKED}&b=nowhere/1")[0] == 404


def test_the_matrix_page_links_each_cell_to_its_runs(served: Served, served_store: Path) -> None:
    (name,) = [d.name for d in (served_store / "verify").glob("2*")]
    assert f'href="/verify/{name}"' in served.text("/verify")
    page = served.text(f"/verify/{name}")
    linked = re.findall(r'<a href="/run/([^"]+)">seed', page)
    assert len(linked) == 4 and set(linked) == set(p for p in all_verdicts(served_store) if p.startswith("verify-"))
    assert all(served.get(f"/run/{path}")[0] == 200 for path in linked)
    assert served.get("/verify/nothing-here")[0] == 404


def test_the_events_of_a_finished_run_end_with_its_verdict(served: Served) -> None:
    status, body, headers = served.get("/events/queue-lost-write/20261201T110000")
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = re.findall(r"event: (\w+)\ndata: (.*)\n\n", body.decode())
    assert events[-1] == ("verdict", json.dumps({"verdict": "invalid"}))
    assert json.loads(events[-2][1])["ok"] > 0


def test_bad_query_values_get_a_page_or_a_404_never_a_server_error(served: Served) -> None:
    answers = {path: served.get(path)[0] for path in (
        "/?page=abc", "/?page=-3", f"/?q={'x' * 5000}", "/?verdict=%00", f"/tail/{CHECKED}/nodes/b1.log?lines=abc",
        f"/tail/{CHECKED}/nodes/b1.log?lines=-1", "/compare", f"/compare?a={CHECKED}", "/verify/%00",
        f"/run/{CHECKED}/test.json", f"/tarball/{CHECKED}/test.json", "/events/")}
    assert set(answers.values()) <= {200, 404}, answers
    assert served.get("/")[0] == 200


def test_a_run_without_results_is_running_while_its_history_grows_and_damaged_once_it_stops(tmp_path: Path) -> None:
    run_dir = stored_run(tmp_path, "queue-pause", "queue-pause/20261201T100000")
    (run_dir / "results.json").unlink()
    os.utime(run_dir / "history.jsonl")
    with serving(tmp_path) as served:
        assert listed(served.text("/")) == {"queue-pause/20261201T100000": "running"}
        assert 'href="/live/queue-pause/20261201T100000"' in served.text("/run/queue-pause/20261201T100000")
        os.utime(run_dir / "history.jsonl", (OLD, OLD))
        assert listed(served.text("/")) == {"queue-pause/20261201T100000": "damaged"}
