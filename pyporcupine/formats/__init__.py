"""History files: three formats, read into a shipped model's operations."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from pyporcupine.formats.edn_kv import parse_edn_kv
from pyporcupine.formats.encoding import MODEL_NAMES, encode
from pyporcupine.formats.jepsen_log import parse_jepsen_log
from pyporcupine.formats.jsonl import parse_jsonl
from pyporcupine.formats.records import JepsenOp
from pyporcupine.history import MalformedHistory, Operation
from pyporcupine.model import Model

PARSERS: dict[str, Callable[[Iterable[str], str], list[JepsenOp]]] = {
    "jepsen-log": parse_jepsen_log,
    "edn-kv": parse_edn_kv,
    "jsonl": parse_jsonl,
}
FORMAT_NAMES = tuple(PARSERS)

__all__ = ["FORMAT_NAMES", "MODEL_NAMES", "load_history"]


def load_history(path: str | Path, format_name: str, model_name: str) -> tuple[Model, list[Operation]]:
    """Read a history file as `format_name` and encode it for the model named `model_name`.

    Raises MalformedHistory for anything that is not a readable history of that format,
    including a file with no operations (an empty history proves nothing).
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as lines:
            records = PARSERS[format_name](lines, str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise MalformedHistory(f"{path}: cannot read: {error}") from None
    if not records:
        raise MalformedHistory(f"{path}: no operations found in this {format_name} file")
    return encode(model_name, records)
