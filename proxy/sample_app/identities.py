"""Fake but well-formed personal data: names, phones, resident IDs, cards, e-mails, addresses.

Every number carries a valid check digit (GB 11643 for IDs, Luhn for cards and ACME policy
numbers) so that detectors which verify checksums must mask them. Each value comes in one of the
written forms real systems use (separators, +86, full-width digits), with its canonical form.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from stdnum import luhn
from stdnum.cn import ric

from .regions import ESTATES, REGIONS, STREETS, Region

# (surname, pinyin); compound surnames are rarer in life, so they come up less often here too.
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
    ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("何", "he"), ("林", "lin"),
    ("罗", "luo"), ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"), ("彭", "peng"),
    ("曾", "zeng"), ("萧", "xiao"), ("田", "tian"), ("董", "dong"), ("潘", "pan"), ("袁", "yuan"),
    ("蔡", "cai"), ("蒋", "jiang"), ("余", "yu"), ("叶", "ye"), ("程", "cheng"), ("魏", "wei"),
    ("苏", "su"), ("吕", "lv"), ("丁", "ding"), ("沈", "shen"), ("姚", "yao"), ("卢", "lu"),
)  # fmt: skip
COMPOUND_SURNAMES: tuple[tuple[str, str], ...] = (
    ("欧阳", "ouyang"), ("司马", "sima"), ("上官", "shangguan"), ("诸葛", "zhuge"),
    ("东方", "dongfang"), ("皇甫", "huangfu"), ("慕容", "murong"), ("令狐", "linghu"),
)  # fmt: skip
GIVEN_CHARACTERS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("国", "guo"), ("文", "wen"), ("玲", "ling"), ("婷", "ting"), ("浩", "hao"),
    ("宇", "yu"), ("欣", "xin"), ("子", "zi"), ("梓", "zi"), ("涵", "han"), ("晨", "chen"),
    ("嘉", "jia"), ("怡", "yi"), ("俊", "jun"), ("雪", "xue"), ("鹏", "peng"), ("琳", "lin"),
)  # fmt: skip

MOBILE_PREFIXES: tuple[str, ...] = (
    *(f"13{d}" for d in range(10)),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159", "166"),
    *("172", "173", "175", "176", "177", "178", "191", "198", "199"),
    *(f"18{d}" for d in range(10)),
)
# Issuer prefixes (BINs) of large Chinese banks, with the card lengths they issue.
CARD_ISSUERS: tuple[tuple[str, int], ...] = (
    ("622202", 19), ("622848", 19), ("621700", 19), ("622588", 16), ("622262", 17),
    ("621661", 19), ("625965", 16), ("436742", 16), ("622609", 18), ("621483", 16),
)  # fmt: skip
MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com")

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass(frozen=True, slots=True)
class Written:
    """A value as a page shows it, and the canonical form a detector should reduce it to."""

    shown: str
    canonical: str


@dataclass(frozen=True, slots=True)
class PersonName:
    full: str
    surname: str
    pinyin: str


def person_name(rng: random.Random) -> PersonName:
    surname, sur_py = rng.choice(COMPOUND_SURNAMES if rng.random() < 0.08 else SURNAMES)
    given = [rng.choice(GIVEN_CHARACTERS) for _ in range(rng.choice((1, 2, 2)))]
    return PersonName(
        full=surname + "".join(c for c, _ in given),
        surname=surname,
        pinyin=sur_py + "".join(p for _, p in given),
    )


def mobile(rng: random.Random) -> Written:
    digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    a, b, c = digits[:3], digits[3:7], digits[7:]
    forms = (
        digits,
        digits,
        f"{a}-{b}-{c}",
        f"{a} {b} {c}",
        f"+86 {a} {b} {c}",
        f"+86-{digits}",
        f"(+86){digits}",
        digits.translate(FULL_WIDTH),
    )
    weights = (30, 10, 15, 10, 12, 6, 5, 4)
    return Written(rng.choices(forms, weights)[0], digits)


def landline(rng: random.Random, region: Region) -> Written:
    local_len = 8 if len(region.area_code) == 3 or rng.random() < 0.8 else 7
    local = str(rng.randint(2, 8)) + "".join(str(rng.randrange(10)) for _ in range(local_len - 1))
    half = local_len // 2
    forms = (
        f"{region.area_code}-{local}",
        f"({region.area_code}) {local[:half]} {local[half:]}",
        f"{region.area_code}-{local[:half]} {local[half:]}",
        f"{region.area_code} {local}",
    )
    return Written(rng.choices(forms, (50, 20, 15, 15))[0], region.area_code + local)


def birth_date(rng: random.Random, region: Region) -> datetime.date:
    year = rng.randint(max(1955, region.since), 2004)
    start = datetime.date(year, 1, 1)
    return start + datetime.timedelta(days=rng.randrange(365))


def resident_id(
    rng: random.Random, region: Region, born: datetime.date, *, male: bool, force_x: bool = False
) -> Written:
    """An 18-character ID with a valid GB 11643 check character; `force_x` finds one ending X."""
    for _ in range(200):
        sequence = rng.randrange(1000)
        if (sequence % 2 == 1) != male:
            sequence = (sequence + 1) % 1000
        body = f"{region.code}{born:%Y%m%d}{sequence:03d}"
        check = ric.calc_check_digit(body + "0")
        if check == "X" or not force_x:
            number = body + check
            shown = number.lower() if check == "X" and rng.random() < 0.2 else number
            return Written(shown, number)
    raise RuntimeError("no sequence number gives check character X")  # pragma: no cover


def bank_card(rng: random.Random) -> Written:
    issuer, length = rng.choice(CARD_ISSUERS)
    body = issuer + "".join(str(rng.randrange(10)) for _ in range(length - len(issuer) - 1))
    number = body + luhn.calc_check_digit(body)
    groups = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    dashed = "-".join(number[i : i + 4] for i in range(0, len(number), 4))
    forms = (number, groups, dashed)
    return Written(rng.choices(forms, (55, 35, 10))[0], number)


def email(rng: random.Random, name: PersonName) -> Written:
    domain = rng.choice(MAIL_DOMAINS)
    if domain == "qq.com":
        local = str(rng.randint(10**7, 4 * 10**9))
    else:
        local = rng.choice(
            (
                name.pinyin,
                f"{name.pinyin}{rng.randint(1, 99)}",
                f"{name.pinyin}.{rng.randint(70, 99)}",
            )
        )
    address = f"{local}@{domain}"
    shown = address.upper() if rng.random() < 0.03 else address
    return Written(shown, address)


def address(rng: random.Random, region: Region) -> str:
    city = "" if region.municipality else region.city
    street = rng.choice(STREETS)
    number = rng.randint(1, 999)
    if rng.random() < 0.6:
        estate = rng.choice(ESTATES)
        room = f"{rng.randint(1, 32)}0{rng.randint(1, 4)}"
        unit = f"{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{room}室"
        return f"{region.province}{city}{region.district}{street}{number}号{estate}{unit}"
    return f"{region.province}{city}{region.district}{street}{number}号{rng.randint(1, 28)}楼"


def policy_number(rng: random.Random) -> Written:
    """An ACME policy number: PN and ten digits, the last a Luhn check digit."""
    body = f"{rng.randrange(10**9):09d}"
    number = "PN" + body + luhn.calc_check_digit(body)
    return Written(number, number)


def region(rng: random.Random) -> Region:
    return rng.choice(REGIONS)
