"""A report's rows on a terminal (an aligned table), as CSV or as JSON: times in the report's
zone (ISO 8601 with the offset), durations as whole seconds in files and H:MM:SS on screen."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

FORMATS = ("table", "csv", "json")


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    """attendance, status, security, floor."""
    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    heading: str = ""
    """What the table shows above itself: the window and the zone."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """What JSON carries beside the rows (window, zone, generated_at)."""
    screen_only: Sequence[str] = ()
    """Columns for people only (a note summing up others), left out of CSV and JSON."""
    file_only: Sequence[str] = ()
    """Columns too wide for the screen, kept in CSV and JSON."""


def clock(span: dt.timedelta) -> str:
    """`7:59:30`; whole seconds, hours past 24 kept (`30:00:00`)."""
    seconds = int(span.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _for_file(value: Any, zone: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    if isinstance(value, dt.timedelta):
        return int(value.total_seconds())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _for_file(item, zone) for key, item in value.items()}
    return value


def _for_screen(value: Any, zone: dt.tzinfo) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, dt.datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.timedelta):
        return clock(value)
    return str(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ";".join(f"{key}={item}" for key, item in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_report(report: Report, out: IO[str], fmt: str, zone: dt.tzinfo) -> None:
    if fmt == "json":
        columns = [c for c in report.columns if c not in report.screen_only]
        json.dump(
            {
                "report": report.name,
                **{key: _for_file(value, zone) for key, value in report.meta.items()},
                "rows": [{c: _for_file(row.get(c), zone) for c in columns} for row in report.rows],
            },
            out,
            ensure_ascii=False,
            indent=2,
        )
        out.write("\n")
    elif fmt == "csv":
        columns = [c for c in report.columns if c not in report.screen_only]
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in report.rows:
            writer.writerow([_csv_cell(_for_file(row.get(c), zone)) for c in columns])
    elif fmt == "table":
        out.write(render_table(report, zone))
    else:
        raise ValueError(f"unknown format {fmt!r} (one of: {', '.join(FORMATS)})")


def render_table(report: Report, zone: dt.tzinfo) -> str:
    columns = [c for c in report.columns if c not in report.file_only]
    header = [c.upper() for c in columns]
    cells = [[_for_screen(row.get(c), zone) for c in columns] for row in report.rows]
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(columns))]
    lines = [report.heading] if report.heading else []
    for line in [header, *cells]:
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        )
    if not report.rows:
        lines.append("(nothing in this window)")
    return "\n".join(lines) + "\n"
