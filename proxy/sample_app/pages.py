"""HTML pages from the package's autoescaped Jinja templates (CSS inlined: agents may reach
only the data paths, so a separate stylesheet URL would be denied by the gateway)."""

from __future__ import annotations

import json

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup


def _script_json(value: object) -> Markup:
    """JSON safe inside <script>: raw UTF-8, but no character that could end the element."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - escaped above for the script context


def entities(value: str, positions: tuple[int, ...] = (0,), *, hex_refs: bool = False) -> Markup:
    """`value` with the characters at `positions` written as numeric character references.

    `entities("13800138000")` is `&#49;3800138000`: a browser shows the number, a pattern
    match on the raw bytes does not see it.
    """
    parts = []
    for index, char in enumerate(value):
        if index in positions:
            parts.append(f"&#x{ord(char):X};" if hex_refs else f"&#{ord(char)};")
        else:
            parts.append(str(Markup.escape(char)))
    return Markup("".join(parts))  # noqa: S704 - every character escaped or a reference


_ENVIRONMENT = Environment(
    loader=PackageLoader("homeagent.proxy.sample_app", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters["script_json"] = _script_json


def render(template: str, **context: object) -> str:
    return _ENVIRONMENT.get_template(template).render(**context)
