"""Demo data for the teams app, at Kailu's scale (called by ``seed_demo``).

254 teams of 3 (762 members) from the 89 county units and 12 townships, 1,343
pairing cadres helping 3,432 households (5 not yet out of poverty, 3,427 out
of poverty), and visits for last month and this month so far. Deterministic.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.hashers import make_password
from django.utils import timezone
from stdnum.cn import ric

from core.choices import AreaLevel, Role
from core.models import Area, DispatchingUnit, User

from .choices import (
    DEPUTY_SECTION_OR_ABOVE,
    MATCHING_RULE,
    Education,
    HouseholdType,
    MemberRole,
    PoliticalStatus,
    Rank,
)
from .models import Cadre, Household, Membership, Pairing, Team, Visit
from .names import pinyin_keys

MEMBERS_PER_TEAM = 3
PAIRING_CADRES = 1343
HOUSEHOLDS_NOT_OUT = 5
HOUSEHOLDS_OUT = 3427

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文包"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁龙林欣雪梅琳晨阳海波峰志斌亮建国庆春兰凤云巴特尔其木格乌兰图雅"
VISIT_NOTES = (
    "入户走访，了解家庭收入和务工情况",
    "宣讲惠民政策，核实帮扶台账",
    "帮助联系技术员指导养殖",
    "协调解决饮水问题",
    "了解子女上学情况，落实教育资助",
    "查看庭院经济种植情况",
    "帮助办理医保报销手续",
)


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _id_number(rng: random.Random, serial: int, birth: datetime.date) -> str:
    body = f"150523{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _birth(rng: random.Random, youngest: int, oldest: int) -> datetime.date:
    today = timezone.localdate()
    start = datetime.date(today.year - oldest, 1, 1)
    span = (datetime.date(today.year - youngest, 12, 31) - start).days
    return start + datetime.timedelta(days=rng.randrange(span))


def seed(*, county: Area, stdout) -> None:
    rng = random.Random(3432)
    today = timezone.localdate()
    villages = list(
        Area.objects.filter(county=county, level=AreaLevel.VILLAGE).order_by("code", "pk")
    )
    units = list(DispatchingUnit.objects.filter(county=county).order_by("pk"))
    by_kind: dict[str, list[DispatchingUnit]] = {}
    for unit in units:
        by_kind.setdefault(unit.kind, []).append(unit)
    password = make_password(None)  # unusable until the township office issues a code
    serial = iter(range(1, 10**6))
    phones = iter(range(10**6))
    cadres: list[Cadre] = []
    users: list[User] = []

    def new_cadre(unit: DispatchingUnit, stationed: bool) -> Cadre:
        n = next(serial)
        name = _name(rng)
        birth = _birth(rng, 26, 57) if stationed else _birth(rng, 24, 59)
        number = _id_number(rng, n, birth)
        phone = f"1{rng.choice('3578')}{next(phones):09d}"
        pinyin, initials = pinyin_keys(name)
        roll = rng.random()
        education = (
            Education.DOCTORATE
            if roll < 0.004
            else Education.MASTER
            if roll < 0.03
            else Education.BACHELOR
            if roll < 0.62
            else Education.COLLEGE
            if roll < 0.86
            else Education.SECONDARY_VOCATIONAL
            if roll < 0.95
            else Education.HIGH_SCHOOL
        )
        rank = rng.choices(
            [r.value for r in Rank],
            weights=[0, 1, 6, 16, 45, 20, 12] if stationed else [0, 1, 5, 12, 50, 22, 10],
        )[0]
        political = rng.choices([p.value for p in PoliticalStatus], weights=[66, 3, 8, 2, 21])[0]
        cadre = Cadre(
            county=county,
            unit=unit,
            name=name,
            name_pinyin=pinyin,
            name_initials=initials,
            sex="男" if int(number[16]) % 2 else "女",
            birth_date=birth,
            post=rng.choice(["科员", "副主任", "主任科员", "副局长", "干事", "站长", ""]),
            rank=rank if rank in DEPUTY_SECTION_OR_ABOVE or rng.random() < 0.9 else "",
            education=education,
            major=rng.choice(
                ["农学", "畜牧兽医", "汉语言文学", "法学", "会计学", "计算机", "行政管理", "林学"]
            ),
            political_status=political,
            rural_experience=rng.random() < 0.58,
            prior_poverty_service=rng.random() < 0.31,
        )
        cadre.agri_major = cadre.major in ("农学", "畜牧兽医", "林学")
        cadre.set_number("id_number", number)
        cadre.set_number("phone", phone)
        users.append(
            User(
                username=phone,
                full_name=name,
                role=Role.CADRE,
                password=password,
                is_active=True,
            )
        )
        cadres.append(cadre)
        return cadre

    # Teams: three members per village; units chosen to fit the matching rule
    # mostly, with a few mismatches for the matching report to show.
    start = datetime.date(today.year - 1, 3, 1)
    teams = [Team(village=v, formed_on=start) for v in villages]
    memberships: list[tuple[int, Cadre, str]] = []
    for index, village in enumerate(villages):
        wanted = next((k for k, c in MATCHING_RULE.items() if c == village.condition), None)
        lead_unit = (
            rng.choice(by_kind[wanted]) if wanted and rng.random() < 0.93 else rng.choice(units)
        )
        roles = (
            [MemberRole.SECRETARY_AND_LEADER, MemberRole.MEMBER, MemberRole.MEMBER]
            if rng.random() < 0.7
            else [MemberRole.FIRST_SECRETARY, MemberRole.LEADER, MemberRole.MEMBER]
        )
        for slot, role in enumerate(roles[:MEMBERS_PER_TEAM]):
            unit = lead_unit if slot == 0 else rng.choice(units)
            memberships.append((index, new_cadre(unit, stationed=True), role))
    stationed_count = len(cadres)
    pairing_start = len(cadres)
    for _ in range(PAIRING_CADRES):
        new_cadre(rng.choice(units), stationed=False)

    User.objects.bulk_create(users, batch_size=1000)
    user_ids = dict(
        User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk")
    )
    for cadre, user in zip(cadres, users, strict=True):
        cadre.user_id = user_ids[user.username]
    Cadre.objects.bulk_create(cadres, batch_size=1000)
    Team.objects.bulk_create(teams)
    Membership.objects.bulk_create(
        [
            Membership(
                team=teams[index],
                cadre=cadre,
                role=role,
                start_date=start + datetime.timedelta(days=rng.randrange(0, 20)),
            )
            for index, cadre, role in memberships
        ],
        batch_size=1000,
    )

    # Households: 5 not yet out of poverty, the rest out of poverty; spread over villages.
    households = []
    for n in range(HOUSEHOLDS_NOT_OUT + HOUSEHOLDS_OUT):
        village = villages[n % len(villages)]
        birth = _birth(rng, 30, 85)
        household = Household(
            village=village,
            head_name=_name(rng),
            size=rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 6]),
            type=HouseholdType.NOT_OUT if n < HOUSEHOLDS_NOT_OUT else HouseholdType.OUT_OF_POVERTY,
            year_out_of_poverty=None if n < HOUSEHOLDS_NOT_OUT else rng.choice(range(2016, 2021)),
        )
        household.set_number("head_id_number", _id_number(rng, 500_000 + n, birth))
        if rng.random() < 0.8:
            household.set_number("phone", f"15{next(phones):09d}")
        households.append(household)
    Household.objects.bulk_create(households, batch_size=1000)

    # Pairings: every household one current cadre; each pairing cadre 2–3 households.
    pairing_cadres = cadres[pairing_start:]
    pairings = []
    for n, household in enumerate(households):
        cadre = pairing_cadres[n % len(pairing_cadres)]
        pairings.append(Pairing(cadre=cadre, household=household, start_date=start))
    Pairing.objects.bulk_create(pairings, batch_size=1000)

    # Visits: last month and this month so far; most cadres reach 4 a month, some do not.
    this_month = today.replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    by_cadre: dict[int, list[Household]] = {}
    for pairing in pairings:
        by_cadre.setdefault(pairing.cadre_id, []).append(pairing.household)
    visits = []
    for month_start, month_end in (
        (last_month, this_month - datetime.timedelta(days=1)),
        (this_month, today),
    ):
        days = (month_end - month_start).days + 1
        for cadre_id, homes in by_cadre.items():
            count = (
                rng.choice([2, 3, 4, 4, 5, 5, 6, 8])
                if month_start == last_month
                else rng.randint(0, 4)
            )
            for k in range(count):
                visits.append(
                    Visit(
                        cadre_id=cadre_id,
                        household=homes[k % len(homes)],
                        date=month_start + datetime.timedelta(days=rng.randrange(days)),
                        content=rng.choice(VISIT_NOTES),
                    )
                )
    Visit.objects.bulk_create(visits, batch_size=2000)

    # The demo team leader and demo cadre are people of the first village's team.
    first_team = teams[0]
    leader_cadre = Membership.objects.filter(team=first_team).order_by("pk").first().cadre
    member_cadre = Membership.objects.filter(team=first_team).order_by("pk")[1].cadre
    for username, cadre in (("demo_leader", leader_cadre), ("demo_cadre", member_cadre)):
        demo = User.objects.filter(username=username).first()
        if demo is None:
            continue
        spare = cadre.user_id
        cadre.user = demo
        cadre.save(update_fields=["user"])
        User.objects.filter(pk=spare).delete()

    stdout.write(
        f"驻村工作队 {len(teams)} 支、队员 {stationed_count} 名，帮扶干部 {PAIRING_CADRES} 名，"
        f"帮扶户 {len(households)} 户，走访记录 {len(visits)} 条"
    )
