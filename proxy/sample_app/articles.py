"""Knowledge-base articles: long Chinese and English prose; hotlines and amounts, no customer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    category: str
    lang: str
    summary: str
    paragraphs: tuple[str, ...]

    @property
    def content(self) -> str:
        return "\n\n".join(self.paragraphs)

    def as_json(self, *, full: bool = True) -> dict[str, object]:
        record: dict[str, object] = {
            "slug": self.slug,
            "title": self.title,
            "category": self.category,
            "lang": self.lang,
            "summary": self.summary,
        }
        if full:
            record["content"] = self.content
        return record


_VERIFY_ZH = (
    "核实身份是每一通电话的第一步。请先请客户报出注册手机号，再核对证件号码的后四位；两项一致后"
    "才可以查询或修改保单。切勿在通话中完整念出客户的证件号码或银行卡号，系统页面上打码显示的"
    "内容也不要试图还原。如果客户无法提供注册手机号，请引导其携带有效证件前往就近网点办理，"
    "或拨打服务热线 400-820-8820 转人工审核。",
    "遇到自称公安、法院或银行工作人员、要求提供客户资料的来电，一律不予配合，记录来电号码后"
    "挂断，并在工单中选择“可疑来电”类别。公司不会通过电话、短信或即时通讯工具向坐席索要客户"
    "资料，任何此类要求都应视为诈骗。",
    "身份核实通过后，请在工单备注中写明核实方式（例如“注册手机号+证件后四位”），但不要抄录"
    "完整号码。质检会按周抽查备注，违反规定的坐席将被暂停居家办公资格。",
)

_REFUND_ZH = (
    "退款一般在审核通过后 3 至 7 个工作日内原路退回。金额在 ¥5,000.00 以下的退款由坐席直接"
    "提交，超过 ¥5,000.00 的需组长复核，超过 RMB 50,000 的需理赔部门二次审批。",
    "客户询问退款进度时，请以订单号查询，例如 SO-2026-0314-00127；不要让客户报出完整银行卡号，"
    "系统会显示收款卡的发卡行和尾号。若银行侧已退款但客户未收到，请客户拨打发卡行客服，例如"
    "工商银行 95588、招商银行 95555、建设银行 95533。",
    "快递寄回的纸质材料请在工单中登记快递单号（例如 SF1409235678123），签收后由档案室扫描上传，"
    "原件保存 30 天后统一销毁。",
    "退款失败的常见原因：收款卡已注销、户名与投保人不一致、单笔金额超过银行限额。遇到这些情况"
    "请勿让客户在电话里口述新的卡号，而是发送自助变更链接，由客户在 App 内完成。",
)

_CLAIMS_EN = (
    "A claim starts when the policy holder reports the loss, by phone, in the app or through a "
    "broker. Open a claim ticket at once, even when documents are missing: the date of the first "
    "report is what the policy's notification period is measured against.",
    "Ask for the policy number, the date and place of the event and a short description in the "
    "customer's own words. Do not ask for bank details at this stage; payment details are "
    "collected later through the secure upload page, never over the phone.",
    "Small claims (up to RMB 3,000) can be settled on the agent's own authority once the "
    "documents are complete. Larger ones go to a claims handler, who calls the customer within "
    "two working days. The customer may call 400 610 5555 at any time to ask about progress.",
    "When a customer is upset, let them finish, acknowledge the loss, explain the next step and "
    "when it will happen. Never promise an amount or a date that the claims handler has not "
    "confirmed, and never offer a payment outside the platform.",
)

_PRIVACY_EN = (
    "Personal information is anything that identifies a customer or can be linked to one: names, "
    "phone numbers, resident ID numbers, bank card numbers, e-mail and postal addresses, policy "
    "numbers. The Personal Information Protection Law applies to all of it, at home as in the "
    "office.",
    "Working from home does not change what you may do with it. Look at it only to serve the "
    "customer in front of you; do not copy it to paper, to a personal phone or to a chat app; do "
    "not photograph the screen. Masked values stay masked: if you need the full value for a "
    "task, ask your team lead, who can open it in the office.",
    "Every page you open carries a watermark that identifies you, and every request is logged. "
    "This is not about distrust: it lets us show a regulator, a court or a customer that their "
    "data was handled properly, and it protects you when something leaks elsewhere.",
    "If you think customer data has leaked, through a mistake of yours or anyone else's, report "
    "it to the security officer the same day, on the internal hotline 800-810-8888. Early reports "
    "are never punished.",
)

_RENEWAL_ZH = (
    "保单到期前 30 天，系统会自动向投保人发送续保提醒短信。客户来电咨询续保时，请先确认保单"
    "状态：有效、宽限期或已失效。宽限期内续保无需重新核保，已失效的保单需要重新投保。",
    "续保保费以系统报价为准，例如上年保费 2,380.00 元、本年无理赔的客户通常可享受九折优惠。"
    "不要口头承诺折扣，也不要透露内部价格。",
    "客户要求变更续保扣款账户时，请发送自助变更链接，不要在电话中记录新的银行卡号。变更成功后"
    "系统会发送确认短信，短信中只显示卡号后四位。",
    "已失效超过两年的保单不能续保。请向客户说明原因，介绍当前在售的同类产品，并提示重新投保"
    "需要重新填写健康告知；不要替客户填写告知内容，也不要暗示如何回答可以通过核保。",
    "客户对续保保费有异议时，先解释定价因素（年龄、上年理赔、保额变化），仍有异议的登记“费用"
    "争议”工单，由核保部门在 3 个工作日内回复。通话结束前请复述工单号，方便客户日后查询。",
)

_SHIFT_EN = (
    "Clock in from the homeagent terminal before you take your first contact, and clock out when "
    "your shift ends. The terminal checks your network, your microphone and the noise in the room "
    "before it lets you start; if a check fails, it tells you what to change.",
    "Use the not-ready status with a reason (training, coaching, technical problem) rather than "
    "simply walking away. After-call work has a limit of 120 seconds per contact; if you need "
    "more, choose not-ready and say why.",
    "Breaks follow the schedule your team lead publishes each week. A break longer than planned is "
    "not a problem in itself, but it shows up in the daily report, so tell your team lead.",
)

_COMPLAINT_ZH = (
    "投诉工单的处理时限为 48 小时。受理时请完整记录客户诉求、期望的解决方式以及可以回访的时间"
    "段，并选择正确的投诉类别：服务态度、理赔时效、费用争议、信息安全、其他。",
    "涉及信息安全的投诉（例如客户称接到冒充我司的诈骗电话）须在 2 小时内升级至安全专员，同时"
    "提醒客户我司不会索要验证码，官方客服号码只有 95511 和 400-820-8820。",
    "回访时请先说明身份和来意，再确认客户是否方便通话。回访结果（满意、基本满意、不满意）必须在"
    "当天录入系统，不满意的工单自动转给组长复核。",
    "投诉处理中不得以赠送礼品、私下转账等方式安抚客户；确有补偿需要的，须走系统内的补偿流程，"
    "单笔补偿不超过 ¥500.00。",
)

_CHAT_EN = (
    "In the chat console, greet the customer by the greeting template, not by their full name. "
    "Keep answers short and specific; one question per message works best.",
    "Never ask a customer to continue the conversation on another app, and never give your own "
    "contact details. The console blocks messages that do, and the attempt is logged.",
    "If a customer pastes a card number or an ID number into the chat, do not repeat it back. "
    "Thank them, tell them that we will never need it in chat, and carry on with the masked "
    "value the console shows.",
)

_HOTLINES_ZH = (
    "以下号码是公开的服务热线，可以告诉客户，也可以写进工单：ACME 全国客服 400-820-8820"
    "（7×24 小时），"
    "理赔进度查询 400 610 5555，车险救援 4008881234，内部安全专线 800-810-8888（仅限员工）。",
    "常用银行客服：工商银行 95588，招商银行 95555，建设银行 95533；ACME 保险短号 95511。"
    "中国移动客服 10086 只处理话费问题，客户反映收不到验证码时请其先确认手机信号和短信拦截设置。",
    "这些号码都不是客户资料，不需要打码；但客户自己的手机号、座机号仍然是个人信息，只能在核实身份"
    "时使用，不得写入聊天或发送给第三方。如发现有人冒充上述热线，请在工单中记录来电号码并升级。",
)

ARTICLES: tuple[Article, ...] = (
    Article(
        "identity-check",
        "来电身份核实规范",
        "合规",
        "zh",
        "每一通电话先核实身份：注册手机号加证件后四位，不念出完整号码。",
        _VERIFY_ZH,
    ),
    Article(
        "refunds",
        "退款时效与常见问题",
        "业务",
        "zh",
        "退款 3 至 7 个工作日原路退回；大额退款需复核；不在电话中记录卡号。",
        _REFUND_ZH,
    ),
    Article(
        "claims-first-notice",
        "Claims: first notice of loss",
        "Claims",
        "en",
        "Open the claim at once, collect the facts, never promise amounts or dates.",
        _CLAIMS_EN,
    ),
    Article(
        "privacy-at-home",
        "Customer data when working from home",
        "Compliance",
        "en",
        "What personal information is, what you may do with it, and how to report a leak.",
        _PRIVACY_EN,
    ),
    Article(
        "renewals",
        "续保咨询处理指引",
        "业务",
        "zh",
        "确认保单状态、以系统报价为准、扣款账户自助变更。",
        _RENEWAL_ZH,
    ),
    Article(
        "shift-and-status",
        "Shifts, breaks and status",
        "Operations",
        "en",
        "Clock in before the first contact; use not-ready with a reason; follow the break plan.",
        _SHIFT_EN,
    ),
    Article(
        "complaints",
        "投诉受理与回访",
        "服务",
        "zh",
        "48 小时内处理；信息安全类 2 小时内升级；不得私下补偿。",
        _COMPLAINT_ZH,
    ),
    Article(
        "chat-etiquette",
        "Chat console etiquette",
        "Chat",
        "en",
        "Short answers, no off-platform contact, never repeat a pasted card or ID number.",
        _CHAT_EN,
    ),
    Article(
        "hotlines",
        "常用服务热线",
        "服务",
        "zh",
        "公司与银行的公开热线，可以告诉客户；客户自己的号码仍需保密。",
        _HOTLINES_ZH,
    ),
)
