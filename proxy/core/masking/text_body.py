"""Plain text (and script-like text) and HTML form bodies (`a=b&c=d`, percent-encoded)."""

from __future__ import annotations

from urllib.parse import quote_plus, unquote_plus

from .errors import UnmaskableBodyError
from .run import MaskRun


def mask_plain(run: MaskRun, text: str) -> str | None:
    """Text, read also with JavaScript escapes spelt out (text bodies are often scripts)."""
    return run.text(text, "text", js=True)


def mask_form(run: MaskRun, text: str, charset: str) -> str | None:
    """Each field's name and value percent-decoded, masked, and encoded again if changed.

    A field named like a single-key JSON field rule (`name`) is masked by that rule.
    """
    by_name = {
        rule.segments[0]: rule.rule
        for rule in run.json_rules
        if len(rule.segments) == 1 and rule.segments[0] != "*"
    }
    pairs = text.split("&")
    changed = False
    for index, pair in enumerate(pairs):
        raw_name, equals, raw_value = pair.partition("=")
        try:
            name = unquote_plus(raw_name, encoding=charset, errors="strict")
            value = unquote_plus(raw_value, encoding=charset, errors="strict")
        except UnicodeDecodeError as err:
            raise UnmaskableBodyError(f"form field {index + 1} is not valid {charset}") from err
        where = f"form field {name!r}"
        rule = by_name.get(name)
        new_value = run.field(rule, value, where) if rule and value else run.text(value, where)
        new_name = run.text(name, f"{where} (name)")
        if new_value is None and new_name is None:
            continue
        pairs[index] = (
            quote_plus(new_name if new_name is not None else name, encoding=charset, safe="*")
            + equals
            + quote_plus(new_value if new_value is not None else value, encoding=charset, safe="*")
        )
        changed = True
    return "&".join(pairs) if changed else None
