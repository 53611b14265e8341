"""What the UI says, in Chinese and English: titles, key names and the sentences that are not
a check's own (check names, figures and hints come from the checks and `homeagent check`)."""

from __future__ import annotations

from ..checks.result import Hint

APP_TITLE = Hint(zh="居家坐席", en="homeagent")

# --- keys: the action a binding runs → what the key bar calls it -------------------------------
KEY_NAMES: dict[str, Hint] = {
    "help": Hint(zh="帮助", en="Help"),
    "show_checks": Hint(zh="检查", en="Checks"),
    "show_work": Hint(zh="工作", en="Work"),
    "show_activity": Hint(zh="拦截记录", en="Activity"),
    "switch_language": Hint(zh="English", en="中文"),
    "quit": Hint(zh="退出", en="Quit"),
    "run_checks": Hint(zh="重新检查", en="Check again"),
    "show_report": Hint(zh="上报内容", en="Report"),
    "clock_in": Hint(zh="上班打卡", en="Clock in"),
    "clock_out": Hint(zh="下班打卡", en="Clock out"),
    "set_ready": Hint(zh="就绪", en="Ready"),
    "set_not_ready": Hint(zh="未就绪", en="Not ready"),
    "set_break": Hint(zh="休息", en="Break"),
    "set_after_call_work": Hint(zh="话后处理", en="After-call"),
    "reload": Hint(zh="刷新", en="Refresh"),
    "close": Hint(zh="关闭", en="Close"),
    "dismiss": Hint(zh="关闭", en="Close"),
    "accept": Hint(zh="同意", en="I agree"),
    "trust_browsers": Hint(zh="信任浏览器", en="Trust browser"),
}

# --- the check screen ---------------------------------------------------------------------------
CHECKS_TITLE = Hint(zh="居家环境检查", en="Home-setup checks")
LIMITS_BUNDLED = Hint(
    zh="标准：公司默认标准（本机尚未登记到网关）",
    en="Limits: the company's defaults (this PC is not enrolled with a gateway yet)",
)
LIMITS_GATEWAY = Hint(
    zh="标准：来自公司网关，按您的岗位", en="Limits: from your gateway, for your role"
)
WAITING = Hint(zh="等待中", en="waiting")
RUNNING = Hint(zh="检查中…", en="checking…")
NOISE_METER = Hint(zh="麦克风音量", en="Microphone level")
PROGRESS_SUMMARY = Hint(zh="正在检查 {done}/{total} 项…", en="Checking {done} of {total}…")
ALL_PASSED = Hint(zh="全部通过。可以开始工作。", en="All passed. You are ready to work.")
PASSED_WITH_WARNINGS = Hint(
    zh="通过，有 {count} 项警告（{names}）：可以工作，请尽快处理。",
    en="Passed, with {count} warning(s) ({names}): you can work; please fix them soon.",
)
NOT_PASSED = Hint(
    zh="未通过：{count} 项（{names}）。请按每项下面的提示处理，然后按 r 重新检查。",
    en="Not passed: {count} ({names}). Do what each says below, then press r to check again.",
)

# --- the posture report -------------------------------------------------------------------------
REPORT_TITLE = Hint(zh="发送给公司网关的检查报告", en="The check report sent to your gateway")
REPORT_EXPLAINED = Hint(
    zh="这就是发送的全部内容：只有下面这些数字和结果，不含录音、文件或其他程序的名单。",
    en="This is all that is sent: only these figures and results; no recording, no files, no "
    "list of your other programs.",
)
REPORT_NOT_YET = Hint(
    zh="还没有检查结果：请等检查完成后再查看。", en="No results yet: wait for the checks to finish."
)

# --- the work screen ----------------------------------------------------------------------------
WORK_TITLE = Hint(zh="工作", en="Work")
STATUS_NAMES: dict[str, Hint] = {
    "offline": Hint(zh="未上班", en="Clocked out"),
    "not_ready": Hint(zh="未就绪", en="Not ready"),
    "ready": Hint(zh="就绪", en="Ready"),
    "busy": Hint(zh="通话中", en="On a call"),
    "after_call_work": Hint(zh="话后处理", en="After-call work"),
    "break": Hint(zh="休息", en="Break"),
}
REASONS: dict[str, Hint] = {
    "meeting": Hint(zh="开会", en="Meeting"),
    "training": Hint(zh="培训", en="Training"),
    "coaching": Hint(zh="辅导", en="Coaching"),
    "system_issue": Hint(zh="系统问题", en="System problem"),
    "personal": Hint(zh="个人事务", en="Personal"),
}
REASON_NAMES: dict[str, Hint] = {
    **REASONS,
    # reasons the agent does not choose: the gateway's start of a shift, a break's lunch
    "clock_in": Hint(zh="刚上班，准备好后按 1", en="just clocked in: press 1 when ready"),
    "lunch": Hint(zh="午饭", en="Lunch"),
}
"""Every reason the work screen may show (`posture.<check>` is said through the check's name)."""
IN_STATUS = Hint(zh="本状态已持续", en="In this status for")
SHIFT_TIME = Hint(zh="本班已工作 {time}", en="Shift time {time}")
NO_SHIFT = Hint(zh="尚未上班：按 i 上班打卡。", en="Not clocked in: press i to clock in.")
PENDING_NONE = Hint(
    zh="所有状态更改均已送达网关。", en="Every status change has reached the gateway."
)
PENDING_SOME = Hint(
    zh="{count} 项状态更改暂存在本机，网络恢复后自动发送：{changes}",
    en="{count} status change(s) kept on this PC, sent once the gateway is back: {changes}",
)
NOT_ENROLLED = Hint(
    zh="本机尚未登记到公司网关，不能上班打卡：请运行 homeagent enrol 登记码 --gateway 网址"
    "（登记码和网址由主管提供）",
    en="This PC is not enrolled with the company gateway, so you cannot clock in yet: run "
    "`homeagent enrol CODE --gateway URL` (your supervisor gives you both)",
)
CHOOSE_REASON = Hint(
    zh="未就绪的原因（按数字或回车选择，Esc 取消）",
    en="Why not ready? (a number or Enter; Esc cancels)",
)
NOTICE_TITLE = Hint(zh="保密须知", en="Confidentiality notice")
NOTICE_KEYS = Hint(zh="回车：同意并上班    Esc：取消", en="Enter: I agree, clock in    Esc: cancel")
CLOCK_OUT_QUESTION = Hint(
    zh="现在下班打卡吗？会话将结束，业务系统在您再次上班打卡前无法使用。",
    en="Clock out now? Your session ends, and the business apps stop working until you clock "
    "in again.",
)
CLOCK_OUT_KEYS = Hint(
    zh="回车：下班打卡    Esc：继续工作", en="Enter: clock out    Esc: keep working"
)
BROWSER_NOT_TRUSTED = Hint(
    zh="浏览器尚未信任公司网关，业务页面会显示证书警告：按 t 添加信任",
    en="Your browser does not trust the company gateway yet, so business pages will show "
    "certificate warnings: press t to trust it",
)
BROWSER_TRUSTED = Hint(
    zh="浏览器已信任公司网关：请重新启动浏览器，使更改生效。",
    en="Your browser now trusts the company gateway: restart it for the change to take effect.",
)
TRUST_QUESTION = Hint(
    zh="公司网关会检查您经由它打开的业务页面，用于隐藏客户个人信息并留存记录。为此，浏览器"
    "需要信任网关的证书颁发机构（CA），SHA-256 指纹：\n{fingerprint}\n只有经 homeagent 转发的"
    "流量会被检查；可随时用 homeagent trust --remove 撤销。现在添加到 Chromium/Chrome 和 "
    "Firefox 吗？",
    en="The company gateway inspects the business pages you open through it, to hide "
    "customers' personal data and keep a record. For that your browser must trust the "
    "gateway's certificate authority (CA), SHA-256 fingerprint:\n{fingerprint}\nOnly traffic "
    "sent through homeagent is inspected; undo it any time with `homeagent trust --remove`. "
    "Add it to Chromium/Chrome and Firefox now?",
)
TRUST_KEYS = Hint(zh="回车：信任    Esc：暂不", en="Enter: trust it    Esc: not now")
BUSY_WORKING = Hint(zh="正在与网关通信…", en="Talking to the gateway…")

# --- the activity screen ------------------------------------------------------------------------
ACTIVITY_TITLE = Hint(
    zh="网关为您拦截和遮盖的内容", en="What the gateway blocked and masked for you"
)
ACTIVITY_EMPTY = Hint(
    zh="本班还没有被拦截或遮盖的内容。", en="Nothing blocked or masked in this shift yet."
)
ACTIVITY_COLUMNS = (
    Hint(zh="时间", en="Time"),
    Hint(zh="结果", en="What"),
    Hint(zh="规则", en="Rule"),
    Hint(zh="网址", en="Where"),
)
DECISIONS: dict[str, Hint] = {
    "deny": Hint(zh="已拦截", en="blocked"),  # what the gateway's audit records
    "block": Hint(zh="已拦截", en="blocked"),
    "allow": Hint(zh="已放行", en="allowed"),
    "report": Hint(zh="仅记录", en="would block"),
}
MASKED = Hint(zh="遮盖 {count} 处", en="masked {count}")

# --- help ---------------------------------------------------------------------------------------
HELP_TITLE = Hint(zh="帮助", en="Help")
HELP_TEXT = Hint(
    zh="检查（c）：检查电脑、网络、噪声、耳机、USB 存储和禁止的程序。每项不通过时，下面会说明"
    "怎么做。r 重新检查，p 查看发送给网关的报告。\n\n"
    "工作（w）：上班打卡（i）、下班打卡（o），切换状态：1 就绪、2 未就绪、3 休息、4 话后处理。"
    "网络中断时，状态更改先保存在本机，恢复后按顺序发送。\n\n"
    "拦截记录（a）：网关为您拦截的网址和遮盖的客户信息，以及对应的规则。u 刷新。\n\n"
    "任何时候：F1 帮助，l 切换中文/English，q 退出。遇到问题请联系主管或技术支持。",
    en="Checks (c): your PC, network, noise, headset, USB storage and forbidden apps. Under "
    "any that does not pass it says what to do. r checks again, p shows the report sent to "
    "the gateway.\n\n"
    "Work (w): clock in (i), clock out (o), change status: 1 ready, 2 not ready, 3 break, "
    "4 after-call work. When the network is down, changes wait on this PC and are sent in "
    "order.\n\n"
    "Activity (a): what the gateway blocked or masked for you, and the rule that did it. "
    "u refreshes.\n\n"
    "Any time: F1 help, l switches 中文/English, q quits. Stuck? Call your supervisor or "
    "support.",
)

# --- errors -------------------------------------------------------------------------------------
ERROR_TITLE = Hint(zh="出了点问题", en="Something went wrong")
ERROR_UNEXPECTED = Hint(
    zh="发生了意外错误（{detail}）：请重试；如果仍然出现，请联系技术支持并告知这段文字。",
    en="An unexpected error happened ({detail}): try again; if it happens again, call support "
    "and read them this text.",
)
OK = Hint(zh="知道了", en="OK")
