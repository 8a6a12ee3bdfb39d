"""The verifications under store/verify/: their verify.json, with each cell's runs found in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from logquake.serve.paths import in_store, relative_to_store
from logquake.verify.execute import VERIFY
from logquake.verify.outcome import MEANINGS, OUTCOMES, SYMBOLS
from logquake.verify.outputs import VERIFY_JSON


def verifications(store_root: Path) -> list[str]:
    """The verifications' directory names, newest first."""
    directory = store_root / VERIFY
    if not directory.is_dir():
        return []
    return sorted((entry.name for entry in directory.iterdir() if entry.is_dir() and not entry.is_symlink()
                   and not entry.name.startswith(".")), reverse=True)


def matrix_page(store_root: Path, verification_dir: Path) -> dict[str, Any]:
    """verify.json as the matrix page shows it: rows of cells, each cell's runs with their store paths."""
    data = json.loads((verification_dir / VERIFY_JSON).read_text(encoding="utf-8"))
    cells = {(cell["row"], cell["column"]): cell for cell in data.get("cells", [])}
    for cell in cells.values():
        for run in cell.get("runs", []):
            target = in_store(store_root, f"{relative_to_store(store_root, verification_dir)}/{run['link']}") \
                if run.get("link") else None
            run["path"] = relative_to_store(store_root, target) if target else None
    rows = [(row, [cells.get((row, column)) for column in data.get("column_labels", [])])
            for row in data.get("rows", [])]
    legend = [(SYMBOLS[outcome], outcome, MEANINGS[outcome]) for outcome in OUTCOMES]
    return {"data": data, "rows": rows, "legend": legend}
