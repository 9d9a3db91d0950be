"""Team structure statistics on a constructed data set with hand-computed
answers, and the age in SQL against ``core.idcard.age_on``."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.idcard import age_on
from teams import selectors
from teams.models import Cadre, Team
from tests.factories import make_village
from tests.teams.factories import id_number, make_cadre, make_team, station

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 6, 30)


def person(unit, name, birth, **fields):
    return make_cadre(unit, name, number=id_number(birth=birth), **fields)


def structure_world(world):
    """On 2024-06-30:

    甲镇 / 一村, team A (formed 2021-03-01):
      a1 born 1980-06-30 (birthday that day: 44) 博士研究生 中共党员 处级, agri, rural, prior
      a2 born 1990-07-01 (birthday the next day: 33) 硕士研究生 中共预备党员 科级副职, rural
      a3 born 1996-02-29 (28) 大学专科 共青团员 科员, agri
      a6 born 1972-01-01 (52) 中专 群众 科级正职, prior; recalled ON the day (counts)
      a4 ended the day before; a5 starts the day after (neither counts)
      mover: left team A on the day and joined team B the same day (counts once, in B)
    乙镇 / 二村, team B (formed 2021-03-01):
      b1 born 1985-12-31 (38) 大学本科 中共党员 厅级, rural, prior
      b2 born 2000-01-01 (24) no education, status or rank; joined ON the day
      mover born 1975-03-01 (49) 大学本科 中共党员 科员, agri, rural
    乙镇 / 四村, team C dissolved 2024-06-15: its member c1 does not count.
    邻县: a team the county never sees.

    甲镇: 1 team, 4 members, ages 44+33+28+52 = 157 / 4 = 39.25 -> 39.3 (half up)
    乙镇: 1 team, 3 members, ages 38+24+49 = 111 / 3 = 37.0
    county: 2 teams, 7 members, 268 / 7 = 38.2857 -> 38.3
    """
    unit = world.unit
    team_a = make_team(world.village)
    team_b = make_team(world.other_village)
    fourth = make_village(world.other_township, "四村")
    team_c = Team.objects.create(
        village=fourth,
        formed_on=datetime.date(2021, 3, 1),
        dissolved_on=datetime.date(2024, 6, 15),
    )
    start = datetime.date(2021, 3, 1)
    a1 = person(
        unit,
        "甲一",
        "19800630",
        education="博士研究生",
        political_status="中共党员",
        rank="处级",
        agri_major=True,
        rural_experience=True,
        prior_poverty_service=True,
    )
    station(a1, team_a, "第一书记兼工作队长", start)
    a2 = person(
        unit,
        "甲二",
        "19900701",
        education="硕士研究生",
        political_status="中共预备党员",
        rank="科级副职",
        rural_experience=True,
    )
    station(a2, team_a, start=datetime.date(2022, 1, 1))
    a3 = person(
        unit,
        "甲三",
        "19960229",
        education="大学专科",
        political_status="共青团员",
        rank="科员",
        agri_major=True,
    )
    station(a3, team_a, start=start)
    a6 = person(
        unit,
        "甲六",
        "19720101",
        education="中专",
        political_status="群众",
        rank="科级正职",
        prior_poverty_service=True,
    )
    station(a6, team_a, start=start, end_date=DAY, end_reason="召回", end_decision="召回决定")
    a4 = person(unit, "甲四", "19600101", education="博士研究生", rank="厅级")
    station(a4, team_a, start=start, end_date=DAY - datetime.timedelta(days=1), end_reason="调整")
    a5 = person(unit, "甲五", "19600102", education="博士研究生", rank="厅级")
    station(a5, team_a, start=DAY + datetime.timedelta(days=1))
    mover = person(
        unit,
        "移动",
        "19750301",
        education="大学本科",
        political_status="中共党员",
        rank="科员",
        agri_major=True,
        rural_experience=True,
    )
    station(mover, team_a, start=start, end_date=DAY, end_reason="调整")
    station(mover, team_b, start=DAY)
    b1 = person(
        unit,
        "乙一",
        "19851231",
        education="大学本科",
        political_status="中共党员",
        rank="厅级",
        rural_experience=True,
        prior_poverty_service=True,
    )
    station(b1, team_b, start=start)
    b2 = person(unit, "乙二", "20000101", education="", political_status="", rank="")
    station(b2, team_b, start=DAY)
    c1 = person(unit, "丙一", "19700101", education="博士研究生", political_status="中共党员")
    station(c1, team_c, start=start)
    far = person(world.far_unit, "远一", "19700101", education="博士研究生")
    station(far, make_team(world.far_village), start=start)


TOWNSHIP_A = {
    "teams": 1,
    "members": 4,
    "average_age": Decimal("39.3"),
    "college_or_above": 3,
    "postgraduates": 2,
    "doctorates": 1,
    "party_members": 2,
    "deputy_section_or_above": 3,
    "agri_majors": 2,
    "rural_experience": 2,
    "prior_poverty_service": 2,
}
TOWNSHIP_B = {
    "teams": 1,
    "members": 3,
    "average_age": Decimal("37.0"),
    "college_or_above": 2,
    "postgraduates": 0,
    "doctorates": 0,
    "party_members": 2,
    "deputy_section_or_above": 1,
    "agri_majors": 1,
    "rural_experience": 2,
    "prior_poverty_service": 1,
}
COUNTY = {
    "teams": 2,
    "members": 7,
    "average_age": Decimal("38.3"),
    "college_or_above": 5,
    "postgraduates": 2,
    "doctorates": 1,
    "party_members": 4,
    "deputy_section_or_above": 4,
    "agri_majors": 3,
    "rural_experience": 4,
    "prior_poverty_service": 3,
}
EMPTY = dict.fromkeys(selectors.STRUCTURE_KEYS, 0) | {"average_age": None}


@pytest.fixture
def structure(world):
    structure_world(world)
    return world


def test_county_figures(structure):
    figures = selectors.team_structure_for_area(
        user=structure.users["county"], area=structure.county, day=DAY
    )
    assert figures == COUNTY


def test_township_and_village_figures(structure):
    county = structure.users["county"]
    assert (
        selectors.team_structure_for_area(user=county, area=structure.township, day=DAY)
        == TOWNSHIP_A
    )
    assert (
        selectors.team_structure_for_area(user=county, area=structure.village, day=DAY)
        == TOWNSHIP_A
    )
    assert (
        selectors.team_structure_for_area(user=county, area=structure.other_township, day=DAY)
        == TOWNSHIP_B
    )


def test_rows_for_the_county_office_one_query_per_level(structure, django_assert_num_queries):
    with django_assert_num_queries(4):  # scope area, areas, county level, township level
        rows = selectors.team_structure(user=structure.users["county"], day=DAY)
    by_name = {r.area.name: r.figures for r in rows}
    assert rows[0].area == structure.county
    assert by_name == {"测试县": COUNTY, "甲镇": TOWNSHIP_A, "乙镇": TOWNSHIP_B}


def test_rows_for_a_township_office_and_a_team_leader(structure):
    township = selectors.team_structure(user=structure.users["township"], day=DAY)
    assert [(r.area.name, r.figures) for r in township] == [("甲镇", TOWNSHIP_A)]
    leader = selectors.team_structure(user=structure.users["leader"], day=DAY)
    assert [(r.area.name, r.figures) for r in leader] == [("一村", TOWNSHIP_A)]
    assert selectors.team_structure(user=structure.users["unit"], day=DAY) == []


def test_the_day_after(structure):
    """a6 and the mover's old membership ended on the 30th; a5 starts on 1 July."""
    figures = selectors.team_structure_for_area(
        user=structure.users["county"], area=structure.township, day=DAY + datetime.timedelta(1)
    )
    assert figures["members"] == 4  # a1, a2, a3, a5
    # ages on 2024-07-01: 44, 34 (a2's birthday), 28, 64
    assert figures["average_age"] == Decimal("42.5")
    assert figures["doctorates"] == 2


def test_before_any_team(structure):
    figures = selectors.team_structure_for_area(
        user=structure.users["county"], area=structure.county, day=datetime.date(2020, 1, 1)
    )
    assert figures == EMPTY


def test_a_dissolved_team_counts_until_its_dissolution(structure):
    fourth = structure.other_township.children.get(name="四村")
    figures = selectors.team_structure_for_area(
        user=structure.users["county"], area=fourth, day=datetime.date(2024, 6, 15)
    )
    assert figures["teams"] == 1 and figures["members"] == 1
    after = selectors.team_structure_for_area(
        user=structure.users["county"], area=fourth, day=datetime.date(2024, 6, 16)
    )
    assert after == EMPTY


BIRTHDAYS = [
    "19960229",
    "20000229",
    "19800630",
    "19800701",
    "19800228",
    "19800301",
    "19801231",
    "19800101",
]
DAYS = [
    datetime.date(2023, 2, 28),  # 29 Feb birthdays not yet in a common year
    datetime.date(2023, 3, 1),  # ... and reached on 1 March
    datetime.date(2024, 2, 28),
    datetime.date(2024, 2, 29),  # a leap day: the birthday itself
    datetime.date(2024, 6, 30),
    datetime.date(2024, 12, 31),
    datetime.date(2025, 1, 1),
]


def test_age_in_sql_matches_age_on(world):
    for n, birth in enumerate(BIRTHDAYS):
        make_cadre(world.unit, f"龄{n}", number=id_number(birth=birth))
    for day in DAYS:
        rows = Cadre.objects.annotate(
            age=selectors.age_on_expression("birth_date", day)
        ).values_list("birth_date", "age")
        for birth, age in rows:
            assert age == age_on(birth, day), (birth, day, age)


def test_age_edges_by_hand(world):
    leap = make_cadre(world.unit, "闰", number=id_number(birth="19960229"))

    def age(day):
        return (
            Cadre.objects.filter(pk=leap.pk)
            .annotate(a=selectors.age_on_expression("birth_date", day))
            .get()
            .a
        )

    assert age(datetime.date(2023, 2, 28)) == 26
    assert age(datetime.date(2023, 3, 1)) == 27
    assert age(datetime.date(2024, 2, 28)) == 27
    assert age(datetime.date(2024, 2, 29)) == 28


def test_average_rounds_half_up(world):
    """ages 30 and 31 -> 30.5; 30, 30, 30, 31 -> 30.25 -> 30.3 (not 30.2)."""
    team = make_team(world.village)
    for n, birth in enumerate(["19940101", "19930101", "19940102", "19940103"]):
        station(make_cadre(world.unit, f"均{n}", number=id_number(birth=birth)), team)
    figures = selectors.team_structure_for_area(
        user=world.users["county"], area=world.village, day=datetime.date(2024, 6, 30)
    )
    assert figures["members"] == 4
    assert figures["average_age"] == Decimal("30.3")


# --- the page -----------------------------------------------------------------------------


def test_page_for_the_county(structure, login):
    response = login(structure.users["county"]).get(
        reverse("team_structure"), {"date": "2024-06-30"}
    )
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.area.name for r in rows][0] == "测试县"
    page = response.content.decode()
    assert "39.3" in page and "38.3" in page and "37.0" in page
    assert "邻县" not in page
    assert "structure-chart" in page


def test_page_for_a_township_shows_only_its_own(structure, login):
    response = login(structure.users["township"]).get(
        reverse("team_structure"), {"date": "2024-06-30"}
    )
    assert [r.area.name for r in response.context["rows"]] == ["甲镇"]
    assert "乙镇" not in response.content.decode()


def test_page_default_date_is_today_and_a_bad_date_falls_back(structure, login):
    client = login(structure.users["county"])
    from django.utils import timezone

    assert client.get(reverse("team_structure")).context["day"] == timezone.localdate()
    bad = client.get(reverse("team_structure"), {"date": "2024-13-01"})
    assert bad.status_code == 200 and bad.context["day"] == timezone.localdate()


@pytest.mark.parametrize("key", ["cadre", "sysadmin", "auditadmin"])
def test_page_needs_permission(world, login, key):
    assert login(world.users[key]).get(reverse("team_structure")).status_code == 403


def test_page_for_unit_and_leader(structure, login):
    unit = login(structure.users["unit"]).get(reverse("team_structure"))
    assert unit.status_code == 200 and unit.context["rows"] == []
    leader = login(structure.users["leader"]).get(reverse("team_structure"), {"date": "2024-06-30"})
    assert [r.area.name for r in leader.context["rows"]] == ["一村"]


def test_export(structure, login):
    response = login(structure.users["county"]).get(
        reverse("team_structure"), {"date": "2024-06-30", "export": "xlsx"}
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][:4] == ["地区", "工作队", "队员", "平均年龄"]
    county = next(r for r in rows if r[0] == "测试县")
    assert county[1:4] == [2, 7, 38.3]
