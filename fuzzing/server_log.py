"""Internal errors, as a server process reports them: ERROR or CRITICAL lines in its log.

Both servers log with "%(asctime)s %(levelname)s %(name)s: %(message)s"; bad input is logged
at WARNING or INFO (a closed connection and why), an internal error at ERROR with its
traceback after it (the broker's "closing connection ... after an internal error", asyncio's
"Exception in callback" for a keeper protocol callback that raised). The watch reads only
what the log gained since it last looked.
"""

from __future__ import annotations

import re
from pathlib import Path

_ERROR_LINE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d ")
_NUMBERS = re.compile(r"0x[0-9a-f]+|\d+")


class LogWatch:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def skip_to_end(self) -> None:
        """What is logged so far is not the fuzzer's doing (start-up)."""
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def new_errors(self) -> list[str]:
        """Each ERROR or CRITICAL entry logged since the last look, its traceback lines with it."""
        try:
            with self.path.open("rb") as log:
                log.seek(self._offset)
                text = log.read()
        except FileNotFoundError:
            return []
        complete = text.rfind(b"\n") + 1
        self._offset += complete
        errors: list[str] = []
        current: list[str] | None = None
        for line in text[:complete].decode(errors="replace").splitlines():
            if _ERROR_LINE.match(line):
                current = [line]
                errors.append("")
            elif current is not None and not _LOG_LINE.match(line):
                current.append(line)
            else:
                current = None
            if current is not None:
                errors[-1] = "\n".join(current)
        return errors


def signature(error: str) -> str:
    """What makes two internal errors the same bug: the exception and where it was raised, numbers blurred."""
    lines = error.splitlines()
    raised = [line.strip() for line in lines if line.strip().startswith("File ")]
    last = lines[-1].strip() if len(lines) > 1 else re.sub(r"^\S+ \S+ ", "", lines[0])
    where = raised[-1] if raised else ""
    return blurred(f"{last} at {where}" if where else last)


def blurred(text: str) -> str:
    """Numbers (ids, sizes, line numbers, addresses) replaced, so one bug has one signature."""
    return _NUMBERS.sub("N", text)
