"""kb.acme.test: the knowledge base, long articles in Chinese and English (br-compressed)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .articles import ARTICLES, Article
from .pages import render
from .responses import compressed, html_response, json_response
from .state import RequestError

SYSTEM = "知识库 Knowledge base"
_BY_SLUG = {a.slug: a for a in ARTICLES}


def _article(request: Request) -> Article:
    slug: str = request.path_params["slug"]
    article = _BY_SLUG.get(slug)
    if article is None:
        raise RequestError(404, f"no article {slug!r}; see / for the list")
    return article


async def _index(request: Request) -> Response:
    page = render("kb_index.html", system=SYSTEM, title="知识库", articles=ARTICLES, query="")
    return html_response(page)


async def _search(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    needle = query.casefold()
    found = [a for a in ARTICLES if needle in a.title.casefold() or needle in a.content.casefold()]
    page = render("kb_index.html", system=SYSTEM, title="搜索", articles=found, query=query)
    return html_response(page)


async def _article_page(request: Request) -> Response:
    article = _article(request)
    return html_response(
        render("article.html", system=SYSTEM, title=article.title, a=article),
        compressed(request, "br"),
    )


async def _api_articles(request: Request) -> Response:
    return json_response({"articles": [a.as_json(full=False) for a in ARTICLES]})


async def _api_article(request: Request) -> Response:
    return json_response(_article(request).as_json(), compressed(request, "br"))


def routes() -> list[BaseRoute]:
    return [
        Route("/", _index),
        Route("/search", _search),
        Route("/articles/{slug}", _article_page),
        Route("/api/articles", _api_articles),
        Route("/api/articles/{slug}", _api_article),
    ]
