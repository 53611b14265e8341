"""The sample CRM's records, drawn from one seeded RNG so every run serves the same data.

Full names and addresses appear only under the example policy's field keys and selectors; the
free-text fields (notes, descriptions, chat) carry numbers and e-mails in prose, and call people
by surname and honorific, as agents write them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from . import identities, lookalikes
from .identities import PersonName, Written
from .regions import Region

DEFAULT_SEED = 20260314
DEFAULT_CUSTOMERS = 200
FIRST_CUSTOMER_ID = 1001

AGENTS = ("A1023", "A1031", "A1044", "A1057", "A1062", "A1078")
PRODUCTS = ("安心意外险", "康宁重疾险", "畅行车险", "家财无忧险", "百万医疗险")
TICKET_CATEGORIES = ("退款", "理赔", "续保", "投诉", "资料变更", "咨询")
TICKET_STATUSES = ("open", "pending", "resolved", "closed")
RELATIONS = ("配偶", "父亲", "母亲", "子女", "兄弟姐妹", "朋友")
LEVELS = ("普通", "普通", "普通", "银卡", "金卡", "VIP")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    relation: str
    mobile: Written
    mobile_as_number: bool
    """The old CTI system stores some contact numbers as JSON numbers, not strings."""

    def as_json(self) -> dict[str, object]:
        mobile: object = int(self.mobile.shown) if self.mobile_as_number else self.mobile.shown
        return {"name": self.name, "relation": self.relation, "mobile": mobile}


@dataclass(frozen=True, slots=True)
class InsurancePolicy:
    number: Written
    product: str
    premium: str
    start: str
    end: str
    holder_name: str
    holder_address: str

    def as_json(self) -> dict[str, object]:
        return {
            "policy_no": self.number.shown,
            "product": self.product,
            "premium": self.premium,
            "start": self.start,
            "end": self.end,
            "holder": {"name": self.holder_name, "address": self.holder_address},
        }


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    name: PersonName
    gender: str
    region: Region
    resident_id: Written
    mobile: Written
    landline: Written
    email: Written
    address: str
    bank_card: Written
    level: str
    account: str
    created_at_ms: int
    contacts: tuple[Contact, ...]
    policies: tuple[InsurancePolicy, ...]

    @property
    def honorific(self) -> str:
        return self.name.surname + ("先生" if self.gender == "男" else "女士")

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name.full,
            "gender": self.gender,
            "level": self.level,
            "resident_id": self.resident_id.shown,
            "mobile": self.mobile.shown,
            "landline": self.landline.shown,
            "email": self.email.shown,
            "address": self.address,
            "bank_card": self.bank_card.shown,
            "policy_no": self.policies[0].number.shown,
            "account": self.account,
            "created_at_ms": self.created_at_ms,
            "contacts": [c.as_json() for c in self.contacts],
        }


@dataclass(frozen=True, slots=True)
class TicketNote:
    by: str
    at_ms: int
    note: str

    def as_json(self) -> dict[str, object]:
        return {"by": self.by, "at_ms": self.at_ms, "note": self.note}


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    ref: str
    customer_id: int
    customer_name: str
    category: str
    status: str
    agent: str
    subject: str
    summary: str
    description: str
    order_no: str
    tracking_no: str
    amount: str
    created_at_ms: int
    notes: tuple[TicketNote, ...]
    history: tuple[tuple[int, str, str], ...]
    """(at_ms, by, message) status changes."""

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "ref": self.ref,
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "category": self.category,
            "status": self.status,
            "agent": self.agent,
            "subject": self.subject,
            "summary": self.summary,
            "description": self.description,
            "order_no": self.order_no,
            "tracking_no": self.tracking_no,
            "amount": self.amount,
            "created_at_ms": self.created_at_ms,
            "notes": [n.as_json() for n in self.notes],
            "history": [{"at_ms": t, "by": b, "message": m} for t, b, m in self.history],
        }


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    sender: str
    text: str
    sent_at_ms: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "from": self.sender,
            "text": self.text,
            "sent_at_ms": self.sent_at_ms,
        }


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: str
    customer_id: int
    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True, slots=True)
class Dataset:
    seed: int
    customers: tuple[Customer, ...]
    tickets: tuple[Ticket, ...]
    chats: tuple[ChatSession, ...]
    customers_by_id: Mapping[int, Customer]
    tickets_by_id: Mapping[int, Ticket]
    tickets_by_customer: Mapping[int, tuple[Ticket, ...]]
    policies_by_number: Mapping[str, tuple[Customer, InsurancePolicy]]


def _customer(rng: random.Random, customer_id: int) -> Customer:
    name = identities.person_name(rng)
    male = rng.random() < 0.5
    region = identities.region(rng)
    born = identities.birth_date(rng, region)
    address = identities.address(rng, region)
    contacts = []
    for _ in range(rng.choice((0, 1, 1, 2))):
        number = identities.mobile(rng)
        contacts.append(
            Contact(
                name=identities.person_name(rng).full,
                relation=rng.choice(RELATIONS),
                mobile=number,
                mobile_as_number=number.shown.isascii()
                and number.shown.isdigit()
                and rng.random() < 0.5,
            )
        )
    policies = []
    for _ in range(rng.choice((1, 1, 2))):
        start_year = rng.randint(2019, 2025)
        start = f"{start_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        policies.append(
            InsurancePolicy(
                number=identities.policy_number(rng),
                product=rng.choice(PRODUCTS),
                premium=lookalikes.amount(rng),
                start=start,
                end=f"{start_year + 1}{start[4:]}",
                holder_name=name.full,
                holder_address=address,
            )
        )
    return Customer(
        id=customer_id,
        name=name,
        gender="男" if male else "女",
        region=region,
        # about one ID in eleven ends in X by chance; make sure some always do
        resident_id=identities.resident_id(
            rng, region, born, male=male, force_x=customer_id % 9 == 0
        ),
        mobile=identities.mobile(rng),
        landline=identities.landline(rng, region),
        email=identities.email(rng, name),
        address=address,
        bank_card=identities.bank_card(rng),
        level=rng.choice(LEVELS),
        account=lookalikes.uuid4(rng),
        created_at_ms=lookalikes.timestamp_ms(rng),
        contacts=tuple(contacts),
        policies=tuple(policies),
    )


def _description(rng: random.Random, c: Customer, order_no: str, tracking: str, amount: str) -> str:
    policy = c.policies[0].number.shown
    templates = (
        f"客户{c.honorific}来电，称银行卡 {c.bank_card.shown} 被重复扣款 {amount}，订单号 "
        f"{order_no}。已核实身份证 {c.resident_id.shown}，请财务在 3 个工作日内处理。",
        f"{c.honorific}要求把保单 {policy} 的通知邮件改发到 {c.email.shown}，"
        f"并确认回访电话为 {c.mobile.shown}。",
        f"Customer ({c.honorific}) called from {c.landline.shown} about parcel {tracking}; asked "
        f"us to call back on {c.mobile.shown} after 18:00. Order {order_no}, amount {amount}.",
        f"理赔资料已收到，保单号 {policy}，赔付金额 {amount} 将打入尾号卡 {c.bank_card.shown}。"
        f"已告知客户可拨打 95588 查询到账情况。",
        f"{c.honorific}反映快递 {tracking} 中的保单原件丢失，申请补发至登记地址；联系电话 "
        f"{c.landline.shown}，邮箱 {c.email.shown}。",
    )
    return rng.choice(templates)


def _ticket(rng: random.Random, ticket_id: int, c: Customer) -> Ticket:
    order_no = lookalikes.order_number(rng)
    tracking = lookalikes.tracking_number(rng)
    amount = lookalikes.amount(rng)
    created = lookalikes.timestamp_ms(rng)
    ref = lookalikes.uuid4(rng)
    category = rng.choice(TICKET_CATEGORIES)
    agent = rng.choice(AGENTS)
    notes = [
        TicketNote(
            agent, lookalikes.later(created, 600_000), f"已回电 {c.mobile.shown}，客户确认诉求。"
        ),
    ]
    if rng.random() < 0.4:
        notes.append(
            TicketNote(
                rng.choice(AGENTS),
                lookalikes.later(created, 7_200_000),
                f"Verified identity with ID {c.resident_id.shown}; card on file "
                f"{c.bank_card.shown}. Escalated to team lead.",
            )
        )
    status = rng.choice(TICKET_STATUSES)
    history = [(created, agent, "工单已创建")]
    if status != "open":
        history.append((lookalikes.later(created, 86_400_000), agent, f"状态改为 {status}"))
    return Ticket(
        id=ticket_id,
        ref=ref,
        customer_id=c.id,
        customer_name=c.name.full,
        category=category,
        status=status,
        agent=agent,
        subject=f"{category}：{c.honorific}",
        summary=f"{category}，涉及订单 {order_no}，金额 {amount}；回访 {c.mobile.shown}。",
        description=_description(rng, c, order_no, tracking, amount),
        order_no=order_no,
        tracking_no=tracking,
        amount=amount,
        created_at_ms=created,
        notes=tuple(notes),
        history=tuple(history),
    )


def _chat(rng: random.Random, number: int, c: Customer) -> ChatSession:
    start = lookalikes.timestamp_ms(rng)
    lines = [
        ("customer", f"你好，我的保单 {c.policies[0].number.shown} 什么时候到期？"),
        ("agent", "您好，请提供注册手机号，我帮您核实身份。"),
        ("customer", c.mobile.shown),
        ("agent", "已核实，谢谢。续保可以在 App 内办理，也可以拨打 400-820-8820。"),
    ]
    if rng.random() < 0.5:
        lines.append(
            ("customer", f"退款请打到 {c.bank_card.shown}，有问题发邮件到 {c.email.shown}")
        )
        lines.append(("agent", "请不要在聊天中发送卡号，退款会原路退回。"))
    else:
        lines.append(("customer", f"我的身份证号是 {c.resident_id.shown}，座机 {c.landline.shown}"))
        lines.append(("agent", "好的，已为您登记，我们不会在聊天中需要证件号码。"))
    messages = tuple(
        ChatMessage(i + 1, sender, text, lookalikes.later(start, 45_000 * i))
        for i, (sender, text) in enumerate(lines)
    )
    return ChatSession(f"S{number}", c.id, messages)


def build_dataset(customer_count: int = DEFAULT_CUSTOMERS, seed: int = DEFAULT_SEED) -> Dataset:
    """The same records for the same arguments, on every machine and every run (built once)."""
    if customer_count < 1:
        raise ValueError(f"customer_count must be at least 1, not {customer_count}")
    return _build(customer_count, seed)


@cache  # one key per (count, seed), however the caller spelled the arguments
def _build(customer_count: int, seed: int) -> Dataset:
    rng = random.Random(seed)
    customers = tuple(_customer(rng, FIRST_CUSTOMER_ID + i) for i in range(customer_count))
    tickets: list[Ticket] = []
    own: list[list[Ticket]] = []
    for customer in customers:
        own.append([])
        for _ in range(rng.choice((1, 2, 2, 3))):
            own[-1].append(_ticket(rng, 500001 + len(tickets), customer))
            tickets.append(own[-1][-1])
    chat_customers = customers[:: max(1, len(customers) // 24)][:24]
    chats = tuple(_chat(rng, 9001 + i, c) for i, c in enumerate(chat_customers))
    return Dataset(
        seed=seed,
        customers=customers,
        tickets=tuple(tickets),
        chats=chats,
        customers_by_id={c.id: c for c in customers},
        tickets_by_id={t.id: t for t in tickets},
        tickets_by_customer={c.id: tuple(ts) for c, ts in zip(customers, own, strict=True)},
        policies_by_number={p.number.canonical: (c, p) for c in customers for p in c.policies},
    )
