"""No file outside the store is ever served, whatever the path: each way out answers 404, the server stays up."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.serve.server import Served
from tests.serve.stores import CHECKED, OUTSIDE

ROUTES = ("files", "tail", "run", "tarball", "live", "events")


CLIMB = "/".join([".."] * 8)
WAYS_OUT: dict[str, Callable[[Path], str]] = {
    "dot-dot": lambda outside: f"{CLIMB}{outside}",
    "dot-dot inside a run": lambda outside: f"{CHECKED}/../../../{outside.parent.name}/{outside.name}",
    "encoded dot-dot": lambda outside: f"%2e%2e/%2e%2e/%2e%2e/%2e%2e{outside}",
    "encoded dot-dot inside a run": lambda outside: f"{CHECKED}/%2e%2e/%2e%2e/%2E%2E/%2e%2e/%2e%2e/%2e%2e{outside}",
    "encoded slashes": lambda outside: f"..%2f..%2f..%2f..%2f..%2f..%2f{str(outside).lstrip('/').replace('/', '%2f')}",
    "absolute": lambda outside: f"/{outside}",
    "encoded absolute": lambda outside: f"%2f{str(outside).lstrip('/')}",
    "backslashes": lambda outside: f"{CHECKED}/..%5c..%5c..%5c{outside.name}",
    "symlink planted in a run": lambda _: f"{CHECKED}/{OUTSIDE}",
    "NUL before an extension": lambda _: f"{CHECKED}/test.json%00.png",
    "NUL at the end": lambda _: f"{CHECKED}/test.json%00",
    "over-long name": lambda _: f"{CHECKED}/{'a' * 5000}",
    "over-long path": lambda _: f"{CHECKED}/{'/'.join(['x'] * 3000)}",
}


@pytest.mark.parametrize("way", WAYS_OUT)
@pytest.mark.parametrize("route", ROUTES)
def test_every_way_out_of_the_store_is_a_404(served: Served, outside_file: Path, route: str, way: str) -> None:
    status, body, _ = served.get(f"/{route}/{WAYS_OUT[way](outside_file)}")
    assert status == 404
    assert b"a file outside the store" not in body
    assert served.get(f"/files/{CHECKED}/test.json")[0] == 200


def test_a_symlink_out_of_the_store_planted_in_a_run_is_neither_listed_nor_packed(served: Served) -> None:
    assert OUTSIDE not in served.text(f"/run/{CHECKED}")
    status, body, _ = served.get(f"/tarball/{CHECKED}")
    assert status == 200
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        names = archive.getnames()
        assert "20261201T100000/test.json" in names and "20261201T100000/nodes/b1.log" in names
        assert not any(name.endswith(OUTSIDE) for name in names)
        assert all(b"a file outside the store" not in archive.extractfile(member).read()  # type: ignore[union-attr]
                   for member in archive.getmembers() if member.isfile())


def test_a_directory_that_is_not_a_run_has_no_run_page(served: Served) -> None:
    for path in ("queue-pause", "", "verify", f"{CHECKED}/nodes"):
        assert served.get(f"/run/{path}")[0] == 404, path
