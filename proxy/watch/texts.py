"""What the floor view says, in Chinese and English (supervisors and officers may read either):
titles, column names, status names and its few sentences."""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass

from ..core.agent_status import AgentStatus


@dataclass(frozen=True, slots=True)
class Words:
    zh: str
    en: str

    def __call__(self, lang: str, **values: object) -> str:
        text = self.zh if lang == "zh" else self.en
        return text.format(**values) if values else text


def detect_lang(override: str | None = None) -> str:
    """`override` when given; else `zh` when the locale (LC_ALL, LC_MESSAGES, LANG) is Chinese.
    The same rule as the agent's client, which the gateway may not import."""
    if override in ("zh", "en"):
        return override
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    current = locale.getlocale()[0] or ""
    return "zh" if current.lower().startswith("zh") else "en"


TITLE = Words(zh="在线坐席", en="Agents on the floor")
ON_SHIFT = Words(zh="在班", en="On shift")
STATUS_NAMES: dict[AgentStatus | None, Words] = {
    AgentStatus.READY: Words(zh="就绪", en="Ready"),
    AgentStatus.BUSY: Words(zh="通话中", en="Busy"),
    AgentStatus.AFTER_CALL_WORK: Words(zh="话后处理", en="After-call"),
    AgentStatus.NOT_READY: Words(zh="未就绪", en="Not ready"),
    AgentStatus.BREAK: Words(zh="休息", en="Break"),
    None: Words(zh="未选状态", en="No status yet"),
}
COLUMNS: dict[str, Words] = {
    "agent": Words(zh="坐席", en="Agent"),
    "role": Words(zh="岗位", en="Role"),
    "status": Words(zh="状态", en="Status"),
    "reason": Words(zh="原因", en="Reason"),
    "in_status": Words(zh="本状态时长", en="For"),
    "on_shift": Words(zh="在班时长", en="On shift"),
    "clocked_in": Words(zh="上班时间", en="Clocked in"),
    "last_seen": Words(zh="最近心跳", en="Last seen"),
}
KEYS: dict[str, Words] = {
    "export": Words(zh="导出 CSV", en="Export CSV"),
    "refresh_floor": Words(zh="刷新", en="Refresh"),
    "switch_language": Words(zh="English", en="中文"),
    "quit": Words(zh="退出", en="Quit"),
}
UPDATED = Words(
    zh="更新于 {time}（{zone}），每 {interval} 秒自动刷新",
    en="Updated {time} ({zone}), refreshing every {interval} s",
)
READING = Words(zh="正在读取…", en="Reading…")
NOBODY = Words(zh="目前没有人上班。", en="Nobody is clocked in.")
EXPORTED = Words(zh="已导出 {count} 行到 {path}", en="Exported {count} rows to {path}")
EXPORT_FAILED = Words(zh="无法导出到 {path}：{error}", en="Cannot export to {path}: {error}")
READ_FAILED = Words(
    zh="无法读取数据库：{error}。每 {interval} 秒重试；下面是上一次的数据。",
    en="Cannot read the store: {error}. Retrying every {interval} s; the table shows the last "
    "good read.",
)
