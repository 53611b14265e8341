"""The microphone's level while the noise check records: a bar from silence to full scale,
so the agent sees the room being heard (and that the right microphone is on)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..checks.hints import number
from .language import say
from .texts import NOISE_METER

FLOOR_DBFS = -90.0
"""The bar's left end: quieter than any real room through a PC microphone."""
BAR_COLUMNS = 40


def level_bar(dbfs: float, columns: int = BAR_COLUMNS) -> str:
    """`█████·····` with the filled part proportional to the level between the floor and 0."""
    share = (min(0.0, max(FLOOR_DBFS, dbfs)) - FLOOR_DBFS) / -FLOOR_DBFS
    filled = round(share * columns)
    return "█" * filled + "·" * (columns - filled)


class LevelMeter(Static):
    level: reactive[float | None] = reactive(None)
    """The latest input level in dBFS(A); None hides the meter (nothing is recording)."""

    def on_mount(self) -> None:
        self.watch(self.app, "lang", self.show, init=False)
        self.show()

    def watch_level(self) -> None:
        self.show()

    def show(self, _: object = None) -> None:
        self.display = self.level is not None
        if self.level is None:
            return
        line = Text(f"{say(self, NOISE_METER)}  ")
        style = "green" if self.level < -30 else "yellow" if self.level < -10 else "red"
        line.append(level_bar(self.level), style=style)
        line.append(f" {number(self.level)} dBFS(A)")
        self.update(line)
