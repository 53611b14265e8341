"""crm.acme.test: customers and tickets as HTML and JSON, the legacy views, and the admin exports.

Each encoding the gateway must handle has its own route here: list pages are gzip, customer
details br, the legacy page GB18030, the legacy JSON `\\u`-escaped, the contact card uses HTML
character references, the softphone view is form-encoded, and `/admin/` exports everything.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .dataset import AGENTS, Customer, Ticket
from .pages import entities, render
from .responses import compressed, encoded, html_response, json_response, wants_json
from .state import RequestError, SampleState, posted_fields

SYSTEM = "CRM 客户关系管理"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _paging(request: Request) -> tuple[int, int]:
    values = []
    for name, default in (("page", 1), ("size", DEFAULT_PAGE_SIZE)):
        raw = request.query_params.get(name, str(default))
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise RequestError(400, f"{name} must be a whole number from 1, not {raw!r}")
        values.append(int(raw))
    page, size = values
    if size > MAX_PAGE_SIZE:
        raise RequestError(400, f"size must be at most {MAX_PAGE_SIZE}, not {size}")
    return page, size


def _customer_record(state: SampleState, c: Customer) -> dict[str, object]:
    record = c.as_json()
    record["policies"] = [p.as_json() for p in c.policies]
    record["tickets"] = [t.id for t in state.dataset.tickets_by_customer[c.id]]
    record["notes"] = state.notes.get(c.id, [])
    return record


class CrmRoutes:
    """The endpoints, bound to one app's state."""

    def __init__(self, state: SampleState) -> None:
        self.state = state
        self.dataset = state.dataset

    def _customer(self, request: Request) -> Customer:
        customer_id: int = request.path_params["customer_id"]
        customer = self.dataset.customers_by_id.get(customer_id)
        if customer is None:
            raise RequestError(404, f"no customer {customer_id}; see /customers for the list")
        return customer

    def _ticket(self, request: Request) -> Ticket:
        ticket_id: int = request.path_params["ticket_id"]
        ticket = self.dataset.tickets_by_id.get(ticket_id)
        if ticket is None:
            raise RequestError(404, f"no ticket {ticket_id}; see /tickets for the list")
        return ticket

    async def customers(self, request: Request) -> Response:
        page, size = _paging(request)
        total = len(self.dataset.customers)
        shown = self.dataset.customers[(page - 1) * size : page * size]
        if wants_json(request):
            body = {
                "page": page,
                "size": size,
                "total": total,
                "customers": [c.as_json() for c in shown],
            }
            return json_response(body, compressed(request, "gzip"))
        page_html = render(
            "customers.html",
            system=SYSTEM,
            title="客户列表",
            customers=shown,
            page=page,
            size=size,
            total=total,
        )
        return html_response(page_html, compressed(request, "gzip"))

    async def customer(self, request: Request) -> Response:
        c = self._customer(request)
        record = _customer_record(self.state, c)
        if wants_json(request):
            return json_response(record, compressed(request, "br"))
        tickets = self.dataset.tickets_by_customer[c.id]
        page_html = render(
            "customer.html",
            system=SYSTEM,
            title=f"客户 {c.id}",
            c=c,
            tickets=tickets,
            record=record,
            extra_notes=self.state.notes.get(c.id, []),
        )
        return html_response(page_html, compressed(request, "br"))

    async def contact_card(self, request: Request) -> Response:
        c = self._customer(request)
        middle = len(c.address) // 2
        page_html = render(
            "contact_card.html",
            system=SYSTEM,
            title=f"联系卡片 {c.id}",
            c=c,
            name=entities(c.name.full, (0,), hex_refs=True),
            mobile=entities(c.mobile.shown),
            mobile_tel=c.mobile.canonical,
            resident_id=entities(c.resident_id.shown, (0, 6, 17)),
            email=entities(c.email.shown, (c.email.shown.index("@"),)),
            address=entities(c.address, (middle,), hex_refs=True),
        )
        return html_response(page_html)

    async def legacy_page(self, request: Request) -> Response:
        c = self._customer(request)
        return html_response(render("legacy.html", c=c), charset="gb18030")

    async def legacy_json(self, request: Request) -> Response:
        return json_response(self._customer(request).as_json(), ascii_only=True)

    async def softphone_form(self, request: Request) -> Response:
        """The record as the old softphone posts it: application/x-www-form-urlencoded."""
        c = self._customer(request)
        fields = {
            "id": str(c.id),
            "name": c.name.full,
            "mobile": c.mobile.shown,
            "resident_id": c.resident_id.shown,
            "email": c.email.shown,
            "address": c.address,
            "bank_card": c.bank_card.shown,
            "policy_no": c.policies[0].number.shown,
        }
        return encoded(urlencode(fields).encode("ascii"), "application/x-www-form-urlencoded")

    async def policies(self, request: Request) -> Response:
        c = self._customer(request)
        return json_response({"customer_id": c.id, "policies": [p.as_json() for p in c.policies]})

    async def add_note(self, request: Request) -> Response:
        c = self._customer(request)
        fields = await posted_fields(request)
        note = fields.get("note", "").strip()
        if not note:
            raise RequestError(422, "send a non-empty 'note' field")
        notes = self.state.add_note(c.id, note)
        if request.headers.get("content-type", "").startswith("application/x-www-form") and (
            "text/html" in request.headers.get("accept", "")
        ):
            return RedirectResponse(f"/customers/{c.id}", status_code=303)
        return json_response({"customer_id": c.id, "note": note, "notes": notes}, status=201)

    def _tickets_page(self, request: Request) -> tuple[int, int, int, tuple[Ticket, ...]]:
        page, size = _paging(request)
        chosen = self.dataset.tickets
        customer_id = request.query_params.get("customer_id")
        if customer_id is not None:
            chosen = tuple(t for t in chosen if str(t.customer_id) == customer_id)
        return page, size, len(chosen), chosen[(page - 1) * size : page * size]

    async def tickets(self, request: Request) -> Response:
        if wants_json(request):
            return await self.api_tickets(request)
        page, size, total, shown = self._tickets_page(request)
        page_html = render(
            "tickets.html",
            system=SYSTEM,
            title="工单列表",
            tickets=shown,
            page=page,
            size=size,
            total=total,
        )
        return html_response(page_html)

    async def ticket(self, request: Request) -> Response:
        t = self._ticket(request)
        if wants_json(request):
            return json_response(t.as_json(), compressed(request, "gzip"))
        page_html = render("ticket.html", system=SYSTEM, title=f"工单 {t.id}", t=t)
        return html_response(page_html, compressed(request, "gzip"))

    async def api_customers(self, request: Request) -> Response:
        page, size = _paging(request)
        shown = self.dataset.customers[(page - 1) * size : page * size]
        return json_response(
            {
                "page": page,
                "size": size,
                "total": len(self.dataset.customers),
                "customers": [c.as_json() for c in shown],
            }
        )

    async def api_customer(self, request: Request) -> Response:
        return json_response(_customer_record(self.state, self._customer(request)))

    async def api_tickets(self, request: Request) -> Response:
        page, size, total, shown = self._tickets_page(request)
        tickets = [t.as_json() for t in shown]
        return json_response({"page": page, "size": size, "total": total, "tickets": tickets})

    async def api_ticket(self, request: Request) -> Response:
        return json_response(self._ticket(request).as_json())

    async def api_policy(self, request: Request) -> Response:
        number: str = request.path_params["policy_no"]
        found = self.dataset.policies_by_number.get(number.upper())
        if found is None:
            raise RequestError(404, f"no policy {number!r}; policy numbers look like PN0123456789")
        customer, insurance = found
        return json_response({"customer_id": customer.id, **insurance.as_json()})

    async def admin(self, request: Request) -> Response:
        page_html = render(
            "admin.html", system=SYSTEM, title="管理", customers=len(self.dataset.customers)
        )
        return html_response(page_html)

    async def export_jsonl(self, request: Request) -> Response:
        lines = (
            json.dumps(_customer_record(self.state, c), ensure_ascii=False)
            for c in self.dataset.customers
        )
        body = ("\n".join(lines) + "\n").encode("utf-8")
        return encoded(body, "application/x-ndjson", compressed(request, "gzip"))

    async def export_all(self, request: Request) -> Response:
        everything = {
            "customers": [_customer_record(self.state, c) for c in self.dataset.customers],
            "tickets": [t.as_json() for t in self.dataset.tickets],
            "chats": {
                session: [m.as_json() for m in messages]
                for session, messages in self.state.chats.items()
            },
        }
        return json_response(everything, compressed(request, "gzip"))

    async def agents(self, request: Request) -> Response:
        return json_response({"agents": [{"id": a, "role": "inbound"} for a in AGENTS]})


async def _home(request: Request) -> Response:
    return RedirectResponse("/customers", status_code=302)


async def _admin_slash(request: Request) -> Response:
    return RedirectResponse("/admin/", status_code=308)


def routes(state: SampleState) -> list[BaseRoute]:
    crm = CrmRoutes(state)
    customer = "/customers/{customer_id:int}"
    ticket = "/tickets/{ticket_id:int}"
    return [
        Route("/", _home),
        Route("/customers", crm.customers),
        Route("/customers.json", crm.customers),
        Route(customer, crm.customer),
        Route(customer + ".json", crm.customer),
        Route(customer + "/contact-card", crm.contact_card),
        Route(customer + "/legacy", crm.legacy_page),
        Route(customer + "/legacy.json", crm.legacy_json),
        Route(customer + "/softphone", crm.softphone_form),
        Route(customer + "/policies", crm.policies),
        Route(customer + "/notes", crm.add_note, methods=["POST"]),
        Route("/tickets", crm.tickets),
        Route("/tickets.json", crm.tickets),
        Route(ticket, crm.ticket),
        Route(ticket + ".json", crm.ticket),
        Route("/api/customers", crm.api_customers),
        Route("/api/customers/{customer_id:int}", crm.api_customer),
        Route("/api/tickets", crm.api_tickets),
        Route("/api/tickets/{ticket_id:int}", crm.api_ticket),
        Route("/api/policies/{policy_no}", crm.api_policy),
        Route("/admin", _admin_slash),
        Route("/admin/", crm.admin),
        Route("/admin/export.jsonl", crm.export_jsonl),
        Route("/admin/export.json", crm.export_all),
        Route("/admin/agents", crm.agents),
    ]
