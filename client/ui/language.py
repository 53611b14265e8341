"""The language a widget speaks: the app's `lang` (switched live with `l`), and the sentence
of a Hint in it."""

from __future__ import annotations

from typing import Any

from textual._context import NoActiveAppError
from textual.dom import DOMNode

from ..checks.result import Hint
from ..lang import Lang


def app_lang(node: DOMNode) -> Lang:
    """`zh` or `en`: the app's language, `en` outside an app (a widget being built)."""
    try:
        lang = getattr(node.app, "lang", "en")
    except NoActiveAppError:  # a widget built before the app runs: English until mounted
        return "en"
    return "zh" if str(lang) == "zh" else "en"


def say(node: DOMNode, hint: Hint, **values: Any) -> str:
    """`hint` in the app's language, with `{name}` fields filled in."""
    text = hint(app_lang(node))
    return text.format(**values) if values else text
