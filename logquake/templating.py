"""The Jinja2 templates of every page logquake writes or serves (report.html, `logquake serve`'s pages).

One environment, so one look (templates/style.css) and one escaping rule: autoescape is on, and
run data (test names, error messages, values) reaches a page only through it. A key missing from
run data renders as nothing (ChainableUndefined): a partial results.json still makes a page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined, Environment, PackageLoader

TEMPLATES = Environment(loader=PackageLoader("logquake", "templates"), autoescape=True, undefined=ChainableUndefined,
                        trim_blocks=True, lstrip_blocks=True)


def number(value: Any) -> str:
    """Floats to one decimal with thousands separators, None to nothing, the rest as they are."""
    return "" if value is None else f"{value:,.1f}" if isinstance(value, float) else str(value)


def url(value: Any) -> str:
    """A store path as a URL's path: each name percent-encoded, the slashes kept."""
    return quote(str(value), safe="/")


TEMPLATES.filters["number"] = number
TEMPLATES.filters["url"] = url


def render(template: str, **context: Any) -> str:
    return TEMPLATES.get_template(template).render(**context)
