"""Teams test data: cadres with valid ID numbers, teams, households, pairings."""

from __future__ import annotations

import datetime
import itertools

from stdnum.cn import ric

from core.idcard import parse_id_number
from core.models import Area, DispatchingUnit
from teams.choices import HouseholdType, MemberRole
from teams.models import Cadre, Household, Membership, Pairing, Team, Visit
from teams.names import pinyin_keys

_serial = itertools.count(1)


def id_number(birth: str = "19800101", region: str = "150523", serial: int | None = None) -> str:
    """A valid 18-character ID number (check digit computed)."""
    seq = next(_serial) if serial is None else serial
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def mobile(n: int | None = None) -> str:
    return f"138{(next(_serial) if n is None else n):08d}"


def make_cadre(
    unit: DispatchingUnit,
    name: str = "张三",
    *,
    number: str | None = None,
    phone: str | None = None,
    **fields,
) -> Cadre:
    number = number or id_number()
    parsed = parse_id_number(number)
    values = {
        "education": "大学本科",
        "political_status": "中共党员",
    }
    values.update(fields)
    cadre = Cadre(
        county_id=unit.county_id,
        unit=unit,
        name=name,
        name_pinyin=pinyin_keys(name)[0],
        name_initials=pinyin_keys(name)[1],
        sex=parsed.sex,
        birth_date=parsed.birth_date,
        **values,
    )
    cadre.set_number("id_number", number)
    cadre.set_number("phone", phone or mobile())
    cadre.save()
    return cadre


def make_team(village: Area, formed_on: datetime.date = datetime.date(2021, 3, 1)) -> Team:
    return Team.objects.create(village=village, formed_on=formed_on)


def station(
    cadre: Cadre,
    team: Team,
    role: str = MemberRole.MEMBER,
    start: datetime.date = datetime.date(2021, 3, 1),
    **fields,
) -> Membership:
    return Membership.objects.create(team=team, cadre=cadre, role=role, start_date=start, **fields)


def make_household(
    village: Area,
    head_name: str = "李四",
    *,
    number: str | None = None,
    size: int = 3,
    type: str = HouseholdType.OUT_OF_POVERTY,
    **fields,
) -> Household:
    household = Household(village=village, head_name=head_name, size=size, type=type, **fields)
    household.set_number("head_id_number", number or id_number(birth="19650505"))
    household.save()
    return household


def pair(
    cadre: Cadre, household: Household, start: datetime.date = datetime.date(2021, 3, 1)
) -> Pairing:
    return Pairing.objects.create(cadre=cadre, household=household, start_date=start)


def visit(
    cadre: Cadre, household: Household, date: datetime.date, content: str = "入户走访"
) -> Visit:
    return Visit.objects.create(cadre=cadre, household=household, date=date, content=content)
