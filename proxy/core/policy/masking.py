"""The `masking` section: which personal data is hidden from agents, and how."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator

from .access import URLPatternText
from .base import Name, Strict

BUILTIN_DETECTORS = ("cn_mobile", "cn_landline", "cn_id", "bank_card", "email")


class Style(StrEnum):
    PARTIAL = "partial"
    """Keep the ends, star the middle: 138****8000."""
    FULL = "full"
    """Star every character."""
    PSEUDONYM = "pseudonym"
    """A keyed token: the same value always gives the same token in one deployment."""


class DetectorSetting(Strict):
    enabled: bool = True
    style: Style = Style.PARTIAL


class Validator(StrEnum):
    NONE = "none"
    LUHN = "luhn"
    CN_ID = "cn_id"


class CustomDetector(Strict):
    name: Name
    pattern: str
    validator: Validator = Validator.NONE
    style: Style = Style.FULL

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as err:
            raise ValueError(f"pattern does not compile: {err}") from err
        if compiled.match(""):
            raise ValueError("pattern matches the empty string")
        return value


class FieldKind(StrEnum):
    PERSON_NAME = "person_name"
    """Keep the surname: 张三丰 → 张**, John Smith → J*** S****."""
    ADDRESS = "address"
    """Keep up to the district: 北京市海淀区中关村大街1号 → 北京市海淀区****."""
    FULL = "full"
    PARTIAL = "partial"


class FieldRule(Strict):
    """Data no pattern can find, located by where it sits."""

    name: Name
    kind: FieldKind
    json_paths: list[str] = Field(default_factory=list, alias="json")
    """JSON keys (`name`) or dotted paths (`customer.name`, `items.*.name`)."""
    html_selectors: list[str] = Field(default_factory=list, alias="html")
    """CSS selectors of elements whose text is masked (`td.customer-name`)."""


class Exemption(Strict):
    """Where a detector does not apply (e.g. supervisors see e-mail addresses)."""

    name: Name
    roles: list[Name] = Field(default_factory=list)
    detectors: list[str] = Field(min_length=1)
    url: URLPatternText = "*://*:*/**"


class Masking(Strict):
    detectors: dict[str, DetectorSetting] = Field(
        default_factory=lambda: {name: DetectorSetting() for name in BUILTIN_DETECTORS}
    )
    """Built-in detectors and their style; a built-in left out is still on, with style partial."""
    custom: list[CustomDetector] = Field(default_factory=list)
    fields: list[FieldRule] = Field(default_factory=list)
    exempt: list[Exemption] = Field(default_factory=list)
    max_body_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    """A response body larger than this is refused, never passed unmasked."""

    def setting(self, detector: str) -> DetectorSetting:
        return self.detectors.get(detector, DetectorSetting())
