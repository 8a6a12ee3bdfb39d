"""The verifications under store/verify/: their verify.json, with each cell's runs found in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from logquake.serve.paths import in_store, relative_to_store
from logquake.templating import url
from logquake.verify.execute import VERIFY
from logquake.verify.outputs import LEGEND, VERIFY_JSON, matrix_rows


def verifications(store_root: Path) -> list[str]:
    """The verifications' directory names, newest first."""
    directory = store_root / VERIFY
    if not directory.is_dir():
        return []
    return sorted((entry.name for entry in directory.iterdir() if entry.is_dir() and not entry.is_symlink()
                   and not entry.name.startswith(".")), reverse=True)


def matrix_page(store_root: Path, verification_dir: Path) -> dict[str, Any]:
    """verify.json as the matrix page shows it, each run linked to its page through the runs/ link (when the link
    leads to a run in the store)."""
    data = json.loads((verification_dir / VERIFY_JSON).read_text(encoding="utf-8"))
    here = relative_to_store(store_root, verification_dir)

    def run_href(run: dict[str, Any]) -> str | None:
        target = in_store(store_root, f"{here}/{run['link']}") if run.get("link") else None
        return f"/run/{url(relative_to_store(store_root, target))}" if target else None

    return {"data": data, "rows": matrix_rows(data), "legend": LEGEND, "run_href": run_href}
