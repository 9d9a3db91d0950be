"""Resident ID numbers (GB 11643): 18 characters, a real birth date, the check digit.

An unknown region code is only a warning: a number keeps the code of the year
it was first issued, often long after birth, so ``stdnum.cn.ric.validate``'s
check that the code existed in the birth year refuses real numbers (祁东县's
430426 dates from 1983, and most of its cadres were born before that).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone
from stdnum import numdb
from stdnum.cn import ric


class IdNumberError(ValueError):
    """The number is not a valid 18-character resident ID number."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    sex: str  # "男" or "女"
    region_known: bool


def parse_id_number(value: str) -> IdNumber:
    number = (value or "").strip().upper().replace(" ", "")
    if len(number) == 15 and number.isdigit():
        raise IdNumberError("不支持15位旧身份证号，请填写18位身份证号")
    if len(number) != 18:
        raise IdNumberError("身份证号应为18位")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdNumberError("身份证号前17位应为数字，最后一位为数字或X")
    try:
        birth = ric.get_birth_date(number)
    except ric.InvalidComponent as exc:
        raise IdNumberError("身份证号中的出生日期不存在") from exc
    if birth.year < 1900 or birth > timezone.localdate():
        raise IdNumberError("身份证号中的出生日期不合理")
    if ric.calc_check_digit(number) != number[17]:
        raise IdNumberError("身份证号校验位错误")
    sex = "男" if int(number[16]) % 2 == 1 else "女"
    return IdNumber(number=number, birth_date=birth, sex=sex, region_known=region_known(number))


def region_known(number: str) -> bool:
    return _region_code_known(number[:6])


@lru_cache(maxsize=8192)
def _region_code_known(code: str) -> bool:
    """The region table costs ~40 µs a look-up; a county's numbers share few codes."""
    return bool(numdb.get("cn/loc").info(code)[0][1]) if code.isdigit() else False


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Whole years of age on a day."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
