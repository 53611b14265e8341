"""Fail closed: an exception in any of our mitmproxy hooks refuses the flow; it never lets it
through the way mitmproxy itself would (it logs addon errors and carries on)."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from mitmproxy.test import tflow
from sqlalchemy.exc import OperationalError

from homeagent.proxy.addons import access, audit, deadline, gate, protect, upstream, words
from homeagent.proxy.addons.context import REFUSAL
from homeagent.proxy.addons.guard import GUARDED, HOOKS, guarded

ADDONS = [
    deadline.Deadline,
    gate.Gate,
    access.Access,
    words.Words,
    upstream.Upstream,
    protect.Protect,
    audit.Audit,
]


@pytest.mark.parametrize("addon", ADDONS, ids=lambda a: a.__name__)
def test_every_hook_of_the_chain_is_guarded(addon: type) -> None:
    assert getattr(addon, GUARDED, False)
    hooks = HOOKS & set(vars(addon))
    assert hooks, f"{addon.__name__} defines no mitmproxy hook"
    for name in hooks:
        assert getattr(addon, name).__wrapped__ is not None


@guarded
class Broken:
    def request(self, flow: object) -> None:
        raise KeyError("a bug")

    async def response(self, flow: object) -> None:
        raise RuntimeError("another bug")


def test_an_exception_in_a_request_hook_refuses_the_flow() -> None:
    flow = tflow.tflow()
    assert flow.response is None
    Broken().request(flow)
    assert flow.response is not None and flow.response.status_code == 502
    assert flow.metadata[REFUSAL].rule == "broken.error"


def test_an_exception_in_a_response_hook_replaces_the_response() -> None:
    flow = tflow.tflow(resp=True)
    assert inspect.iscoroutinefunction(Broken.response)
    asyncio.run(Broken().response(flow))
    assert flow.response is not None and flow.response.status_code == 502
    assert b"cannot-inspect" in (flow.response.content or b"")  # the block page, not what came back
    assert flow.metadata[REFUSAL].code == "cannot-inspect"


@guarded
class StoreAway:
    def request(self, flow: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))


def test_a_database_outage_in_a_hook_is_refused_as_such() -> None:
    flow = tflow.tflow()
    StoreAway().request(flow)
    assert flow.response is not None and flow.response.status_code == 503
    refusal = flow.metadata[REFUSAL]
    assert refusal.code == "gateway-unavailable" and refusal.rule == "storeaway.store"
    assert "database did not answer" in refusal.detail and "SELECT" not in refusal.detail
