"""java.util.Properties files: the format of Kafka's server.properties and ZooKeeper's zoo.cfg.

Users bring configuration files written for the real systems, so the parser
follows Java's rules rather than a simpler key=value convention: `=`, `:` or
whitespace separate key and value, `#` and `!` start comments, a trailing odd
backslash continues the line, and backslash escapes (including \\uXXXX) apply.
"""

from __future__ import annotations

from pathlib import Path

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_SEPARATORS = "=:"
_WHITESPACE = " \t\f"


class PropertiesError(ValueError):
    """A properties file or override that cannot be read; the message names where."""


def parse(text: str, source: str = "<string>") -> dict[str, str]:
    """Returns the key/value pairs of a properties text; later keys override earlier ones."""
    properties: dict[str, str] = {}
    for line_number, logical_line in _logical_lines(text):
        key, value = _split(logical_line)
        try:
            properties[_unescape(key)] = _unescape(value)
        except PropertiesError as error:
            raise PropertiesError(f"{source}:{line_number}: {error}") from None
    return properties


def load(path: str | Path) -> dict[str, str]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PropertiesError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise PropertiesError(f"{path} is not UTF-8 text: {error.reason} at byte {error.start}") from None
    return parse(text, source=str(path))


def parse_override(override: str) -> tuple[str, str]:
    """Splits a command-line `key=value` override, as Kafka's `--override` takes it."""
    key, separator, value = override.partition("=")
    if not separator or not key.strip():
        raise PropertiesError(f"override {override!r} is not of the form key=value")
    return key.strip(), value


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Joins continued lines and drops blanks and comments, keeping the first line's number."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.lstrip(_WHITESPACE)
        if not any(pending):
            # A continuation that has gathered nothing yet still counts as a new line in Java.
            pending = []
            if not stripped or stripped[0] in "#!":
                continue
            start = number
        if _continues(stripped):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        lines.append((start, "".join(pending)))
        pending = []
    if pending:
        lines.append((start, "".join(pending)))
    return lines


def _continues(line: str) -> bool:
    trailing_backslashes = len(line) - len(line.rstrip("\\"))
    return trailing_backslashes % 2 == 1


def _split(line: str) -> tuple[str, str]:
    """Finds the first unescaped separator; the value starts after it and any whitespace."""
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            index += 2
            continue
        if char in _SEPARATORS or char in _WHITESPACE:
            break
        index += 1
    key = line[:index]
    rest = line[index:].lstrip(_WHITESPACE)
    if rest and rest[0] in _SEPARATORS:
        rest = rest[1:].lstrip(_WHITESPACE)
    return key, rest


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        escaped = text[index + 1 : index + 2]
        if escaped == "u":
            digits = text[index + 2 : index + 6]
            if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise PropertiesError(f"malformed \\uXXXX escape {text[index:index + 6]!r}")
            out.append(chr(int(digits, 16)))
            index += 6
            continue
        out.append(_ESCAPES.get(escaped, escaped))
        index += 2
    return "".join(out)
