"""Field rules: data no pattern can find (names, addresses), masked by where it sits, and the
JSON paths that say where."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..policy.masking import FieldKind, FieldRule
from .styles import keep_ends

_COMPOUND_SURNAME_LIST = """
        欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒
        令狐 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 万俟 闻人 赫连
        澹台 公冶 宗政 濮阳 太叔 申屠 钟离 拓跋 第五 左丘 东郭 微生
        羊舌 谷梁 梁丘 司空 司寇 亓官 巫马 乐正 壤驷 公良 漆雕 段干
        东门 仲孙 叔孙 公西 颛孙 子车 鲜于 闾丘 单于 淳于 太史 公羊
        歐陽 司馬 諸葛 東方 長孫 軒轅 獨孤 南宮 鍾離
"""
COMPOUND_SURNAMES = frozenset(_COMPOUND_SURNAME_LIST.split())

_NOT_SPACE = re.compile(r"\S")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
# One administrative unit: a name and its suffix. A name never holds digits or the words of
# street addresses, so "中关村大街1号院2区" is never kept as a district.
_ADMIN_UNIT = re.compile(
    r"[^\d\s省市区县州盟旗路街号巷弄村镇乡栋楼室院小园苑庭府厦场层单元座期]{1,12}?"
    r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|省|市|区|县|州|盟|旗)"
)
_ADMIN_LEVELS = 3


def person_name(value: str) -> str:
    """Keep the surname: 张三丰 → 张**, 欧阳娜娜 → 欧阳**, John Smith → J*** S****."""
    text = value.strip()
    if not text:
        return value
    if _LATIN_WORD.match(text) and text.isascii():
        return _LATIN_WORD.sub(lambda m: m.group()[0] + "*" * (len(m.group()) - 1), text)
    keep = 2 if len(text) > 2 and text[:2] in COMPOUND_SURNAMES else 1
    return text[:keep] + _NOT_SPACE.sub("*", text[keep:])


def address(value: str) -> str:
    """Keep up to the district: 北京市海淀区中关村大街1号 → 北京市海淀区****."""
    text = value.strip()
    end = 0
    for _ in range(_ADMIN_LEVELS):
        match = _ADMIN_UNIT.match(text, end)
        if match is None:
            break
        end = match.end()
    return text[:end] + "****"


def apply_kind(kind: FieldKind, value: str) -> str:
    if kind is FieldKind.PERSON_NAME:
        return person_name(value)
    if kind is FieldKind.ADDRESS:
        return address(value)
    if kind is FieldKind.PARTIAL:
        return keep_ends(value) if len(value) >= 4 else value[:1] + "*" * (len(value) - 1)
    return "*" * len(value)


@dataclass(frozen=True, slots=True)
class JsonPathRule:
    """A field rule's JSON path: `name` anywhere, `holder.name` as the end of a longer path,
    `contacts.*.name` with `*` for any one key or array index; `$.a.b` from the root only."""

    rule: FieldRule
    segments: tuple[str, ...]
    anchored: bool

    @classmethod
    def parse(cls, rule: FieldRule, path: str) -> JsonPathRule:
        anchored = path.startswith("$.")
        segments = tuple((path[2:] if anchored else path).split("."))
        if not all(segments):
            raise ValueError(f"field rule {rule.name!r}: empty segment in JSON path {path!r}")
        return cls(rule, segments, anchored)
