"""`logquake serve` in a real browser (Debian's chromium through Playwright): what a person sees and does.

Each test saves a screenshot of its page under .artifacts/serve/ (tests/serve/browser.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.serve.browser import screenshot
from tests.serve.server import Served
from tests.serve.stores import CHECKED, LINEARIZABLE, SCRIPT, SCRIPT_DIR, all_verdicts


def shown_runs(page: Any) -> dict[str, str]:
    """The runs the page's table shows: run path -> the verdict cell's text (its first word) and colour class."""
    rows = page.locator("tr.run")
    shown = {}
    for number in range(rows.count()):
        row = rows.nth(number)
        path = unquote(row.locator("a").first.get_attribute("href").removeprefix("/run/"))
        cell = row.locator("td.verdict-cell")
        word = cell.inner_text().split(":")[0]
        assert word in cell.get_attribute("class").split(), (path, word)
        shown[path] = word
    return shown


def test_the_runs_page_shows_each_runs_verdict_and_filters(page: Any, served: Served, served_store: Path) -> None:
    page.goto(served.url + "/")
    assert shown_runs(page) == all_verdicts(served_store)
    colours = {page.locator(f"td.{verdict}").first.evaluate("cell => getComputedStyle(cell).backgroundColor")
               for verdict in ("valid", "invalid", "unknown", "interrupted", "damaged")}
    assert len(colours) == 5
    screenshot(page, "runs")

    page.select_option("select[name=verdict]", "invalid")
    page.click("button[type=submit] >> text=Filter")
    page.wait_for_url(re.compile(r"verdict=invalid"))
    assert shown_runs(page) == {"queue-lost-write/20261201T110000": "invalid"}
    page.select_option("select[name=verdict]", "")
    page.select_option("select[name=workload]", "register")
    page.click("text=Filter")
    page.wait_for_url(re.compile(r"workload=register"))
    assert shown_runs(page) == {"register-kill/20261201T120000": "valid"}
    assert page.errors == []


def test_a_run_page_shows_its_plots_without_console_errors(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/run/{CHECKED}")
    page.wait_for_load_state("load")
    images = page.locator("img")
    assert images.count() == 3
    widths = images.evaluate_all("images => images.map(image => image.complete ? image.naturalWidth : 0)")
    assert all(width > 100 for width in widths), widths
    frame = page.frame_locator("iframe.report")
    assert "VALID" in frame.locator("p.verdict").inner_text()
    page.click("text=nodes/b1.log")
    assert page.locator("#tail").inner_text().splitlines()[-1] == "line 4999"
    screenshot(page, "tail")
    page.go_back()
    screenshot(page, "run")
    assert page.errors == []


def test_a_run_named_as_a_script_stays_text(page: Any, served: Served) -> None:
    page.goto(served.url + "/?q=script")
    assert page.locator("tr.run a").first.inner_text() == SCRIPT
    page.locator("tr.run a").first.click()
    page.wait_for_url(re.compile("/run/"))
    assert SCRIPT in page.locator("h1").inner_text() and SCRIPT_DIR in page.locator("h1").inner_text()
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.errors == []


def test_a_register_runs_linearizability_visualization_opens_from_its_page(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/run/{LINEARIZABLE}")
    page.click("text=linearizability.html")
    page.wait_for_url(re.compile(r"linearizability\.html$"))
    assert page.locator("body").inner_text().strip()
    screenshot(page, "linearizability")
    assert page.errors == []


def test_the_matrix_page_links_to_its_runs(page: Any, served: Served, served_store: Path) -> None:
    page.goto(served.url + "/verify")
    screenshot(page, "verifications")
    page.locator("main a").first.click()
    page.wait_for_url(re.compile(r"/verify/2"))
    links = page.locator("#matrix a")
    assert links.count() == 4
    screenshot(page, "matrix")
    target = unquote(links.first.get_attribute("href").removeprefix("/run/"))
    assert target in all_verdicts(served_store)
    links.first.click()
    page.wait_for_url(re.compile("/run/"))
    assert page.locator("p.verdict").inner_text().startswith("valid")
    assert page.errors == []


def test_two_runs_are_compared_from_the_runs_page(page: Any, served: Served) -> None:
    page.goto(served.url + "/")
    page.check(f"input[name=a][value='{CHECKED}']")
    page.check("input[name=b][value='queue-lost-write/20261201T110000']")
    page.click("text=Compare the two chosen runs")
    page.wait_for_url(re.compile("/compare"))
    assert page.locator("#configuration tr.differs th").all_inner_texts() == ["name"]
    screenshot(page, "compare")
    assert page.errors == []


def test_the_keyboard_reaches_filters_and_runs(page: Any, served: Served) -> None:
    page.goto(served.url + "/")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q":
            break
    else:
        raise AssertionError("Tab never reached the name search")
    page.keyboard.type("lost")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=lost"))
    assert list(shown_runs(page)) == ["queue-lost-write/20261201T110000"]
    for _ in range(40):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.getAttribute('href') || ''")).startswith("/run/"):
            break
    else:
        raise AssertionError("Tab never reached a run's link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/run/queue-lost-write/"))
    assert page.locator("p.verdict").inner_text().startswith("invalid")
