"""reports.acme.test: the supervisors' daily ticket report; counts only, no customer data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .dataset import Dataset
from .pages import render
from .responses import html_response, json_response

SYSTEM = "报表 Reports"


@dataclass(frozen=True, slots=True)
class DailyFigures:
    summary: str
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_agent: dict[str, int]

    @classmethod
    def of(cls, dataset: Dataset) -> DailyFigures:
        tickets = dataset.tickets
        by_status = Counter(t.status for t in tickets)
        waiting = by_status["open"] + by_status["pending"]
        return cls(
            summary=f"共 {len(tickets)} 张工单，其中 {waiting} 张待处理。",
            by_status=dict(sorted(by_status.items())),
            by_category=dict(sorted(Counter(t.category for t in tickets).items())),
            by_agent=dict(sorted(Counter(t.agent for t in tickets).items())),
        )


def routes(dataset: Dataset) -> list[BaseRoute]:
    figures = DailyFigures.of(dataset)

    async def report(request: Request) -> Response:
        page = render(
            "report.html",
            system=SYSTEM,
            title="日报",
            summary=figures.summary,
            by_status=figures.by_status.items(),
            by_category=figures.by_category.items(),
            by_agent=figures.by_agent.items(),
        )
        return html_response(page)

    async def daily(request: Request) -> Response:
        return json_response(
            {
                "summary": figures.summary,
                "by_status": figures.by_status,
                "by_category": figures.by_category,
                "by_agent": figures.by_agent,
            }
        )

    return [Route("/", report), Route("/api/daily", daily)]
