"""The 200-day check as JSON, the at-risk page and the dashboard panels:
shapes, scoping both ways, fixed query counts."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from attendance.choices import OnPostStatus
from attendance.models import OnPostCheck
from attendance.panels import on_post_at_risk_panel
from core import dashboard
from core.choices import Role
from core.models import AuditLog
from tests.factories import make_user
from tests.teams.factories import make_cadre, make_team, station

Y = 2026
AS_OF = datetime.date(Y, 11, 30)
API = "/api/v1/attendance/on-post/"
MET, ON_TRACK, AT_RISK = OnPostStatus.MET, OnPostStatus.ON_TRACK, OnPostStatus.AT_RISK
CJK = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.django_db


def put(cadre, village, on_post, *, required=200, remaining=23, year=Y):
    """A stored check (as the weekly check writes it) with its status by the rule."""
    on_post = Decimal(on_post)
    if on_post >= required:
        status = MET
    elif on_post + remaining < required:
        status = AT_RISK
    else:
        status = ON_TRACK
    return OnPostCheck.objects.create(
        cadre=cadre,
        year=year,
        as_of=AS_OF,
        township_id=village.township_id,
        village=village,
        required_days=required,
        on_post_days=on_post,
        remaining_working_days=remaining,
        status=status,
        computed_at=timezone.now(),
    )


def stationed(village, name, unit, user=None):
    team = village.teams.first() or make_team(village)
    cadre = make_cadre(unit, name, user=user)
    station(cadre, team)
    return cadre


@pytest.fixture
def checks(world):
    """一村 (甲镇): 张危 at risk, 李稳 on track (the cadre user), 王达 met;
    二村 (乙镇): 赵危 at risk (another unit); 三村 (far county): 钱危 at risk."""
    w = world
    rows = {
        "张危": put(stationed(w.village, "张危", w.unit), w.village, 150),
        "李稳": put(stationed(w.village, "李稳", w.unit, user=w.users["cadre"]), w.village, 180),
        "王达": put(stationed(w.village, "王达", w.other_unit), w.village, 201),
        "赵危": put(stationed(w.other_village, "赵危", w.other_unit), w.other_village, "170.5"),
        "钱危": put(stationed(w.far_village, "钱危", w.far_unit), w.far_village, 100),
    }
    return rows


def more(world, n: int) -> None:
    for i in range(n):
        village = world.village if i % 2 else world.other_village
        put(stationed(village, f"加{i}", world.unit), village, 100 + i)


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


# --- the API -----------------------------------------------------------------------


def test_api_shape(world, checks, login):
    response = login(world.users["county"]).get(API, {"year": Y, "area": world.county.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4 and body["next"] is None
    # at risk first, the furthest behind first
    assert [r["name"] for r in body["results"]] == ["张危", "赵危", "李稳", "王达"]
    first = body["results"][0]
    assert set(first) == {
        "cadre",
        "name",
        "unit",
        "township_id",
        "township",
        "village_id",
        "village",
        "year",
        "as_of",
        "required_days",
        "on_post_days",
        "remaining_working_days",
        "status",
        "status_display",
        "days_short",
        "weekly_needed",
        "computed_at",
    }
    assert first["cadre"] == checks["张危"].cadre_id
    assert (first["township"], first["village"], first["unit"]) == ("甲镇", "一村", "县财政局")
    assert first["required_days"] == 200 and first["on_post_days"] == 150
    assert first["remaining_working_days"] == 23 and first["status"] == "at_risk"
    assert first["as_of"] == "2026-11-30" and first["year"] == Y
    # 50 short over 23 working days: 50 × 5 ÷ 23 = 10.87 → 10.9 a week
    assert first["days_short"] == 50 and first["weekly_needed"] == 10.9
    by_name = {r["name"]: r for r in body["results"]}
    assert by_name["赵危"]["on_post_days"] == 170.5
    assert by_name["李稳"]["weekly_needed"] == 4.4  # 20 × 5 ÷ 23 = 4.35 → 4.4
    assert by_name["王达"]["weekly_needed"] == 0 and by_name["王达"]["days_short"] == 0


def test_api_filters_by_status_and_unit(world, checks, login):
    county = login(world.users["county"])
    assert names(county.get(API, {"year": Y, "status": "at_risk"})) == ["张危", "赵危"]
    assert names(county.get(API, {"year": Y, "unit": world.other_unit.pk})) == ["赵危", "王达"]
    assert names(county.get(API, {"year": Y, "area": world.other_village.pk})) == ["赵危"]
    assert county.get(API, {"year": Y - 1}).json()["count"] == 0


def test_api_year_defaults_to_this_year(world, checks, login, monkeypatch):
    monkeypatch.setattr(
        timezone, "now", lambda: datetime.datetime(Y, 12, 31, 16, 1, tzinfo=datetime.UTC)
    )  # 00:01 on January 1st local: a new year without checks yet
    assert login(world.users["county"]).get(API).json()["count"] == 0
    monkeypatch.setattr(
        timezone, "now", lambda: datetime.datetime(Y, 12, 31, 15, 59, tzinfo=datetime.UTC)
    )
    assert login(world.users["county"]).get(API).json()["count"] == 4


@pytest.mark.parametrize(
    ("user", "area", "expected"),
    [
        ("county", "county", ["张危", "赵危", "李稳", "王达"]),
        ("township", "township", ["张危", "李稳", "王达"]),
        ("township", None, ["张危", "李稳", "王达"]),
        ("other_township", None, ["赵危"]),
        ("leader", "village", ["张危", "李稳", "王达"]),
        ("inspector", "township", ["张危", "李稳", "王达"]),
        ("unit", None, ["张危", "李稳"]),
        ("cadre", None, ["李稳"]),
        ("far_county", None, ["钱危"]),
    ],
)
def test_api_rows_stay_in_scope(world, checks, login, user, area, expected):
    params = {"year": Y}
    if area:
        params["area"] = getattr(world, area).pk
    response = login(world.users[user]).get(API, params)
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    ("user", "param", "target"),
    [
        ("township", "area", "other_township"),
        ("township", "area", "county"),
        ("township", "area", "other_village"),
        ("far_county", "area", "county"),
        ("county", "area", "far_village"),
        ("leader", "area", "other_village"),
        ("unit", "area", "village"),
        ("unit", "unit", "other_unit"),
        ("county", "unit", "far_unit"),
    ],
)
def test_api_outside_scope_is_404_like_missing(world, checks, login, user, param, target):
    client = login(world.users[user])
    outside = client.get(API, {"year": Y, param: getattr(world, target).pk})
    missing = client.get(API, {"year": Y, param: 987654})
    assert outside.status_code == missing.status_code == 404
    assert outside.json() == missing.json()


def test_api_needs_login_and_permission(world, checks, login):
    anonymous = Client(enforce_csrf_checks=True).get(API, {"year": Y})
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"].startswith("Token")
    for user in ("sysadmin", "secadmin", "auditadmin"):
        assert login(world.users[user]).get(API, {"year": Y}).status_code == 403
    assert AuditLog.objects.filter(
        action="denied", username="sysadmin", detail__path=API, success=False
    ).exists()


def test_api_token_authentication(world, checks):
    token = Token.objects.create(user=world.users["township"])
    client = Client(enforce_csrf_checks=True)
    response = client.get(API, {"year": Y}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert names(response) == ["张危", "李稳", "王达"]
    wrong = client.get(API, {"year": Y}, HTTP_AUTHORIZATION="Token nope")
    assert wrong.status_code == 401


def test_api_bad_input_in_chinese(world, checks, login):
    client = login(world.users["county"])
    for params in ({"year": "二〇二六"}, {"year": 1999}, {"status": "late"}, {"area": "x"}):
        response = client.get(API, params)
        assert response.status_code == 400, params
        message = str(next(iter(response.json().values())))
        assert CJK.search(message), message


def test_api_query_count_is_fixed(world, checks, login, django_assert_max_num_queries):
    client = login(world.users["county"])
    client.get(API, {"year": Y, "area": world.county.pk})  # warm the session
    with django_assert_max_num_queries(10) as small:
        assert client.get(API, {"year": Y, "area": world.county.pk}).status_code == 200
    more(world, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(API, {"year": Y, "area": world.county.pk})
    assert response.json()["count"] == 34


# --- the page ----------------------------------------------------------------------

PAGE = reverse("on_post_list")


def rows_of(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    return re.findall(r'<tr data-status="(\w+)"[^>]*>\s*<td>([^<]+)</td>', html)


def test_page_lists_at_risk_first_highlighted(world, checks, login):
    response = login(world.users["county"]).get(PAGE, {"year": Y})
    assert response.status_code == 200
    assert rows_of(response) == [
        ("at_risk", "张危"),
        ("at_risk", "赵危"),
        ("on_track", "李稳"),
        ("met", "王达"),
    ]
    html = response.content.decode()
    assert html.count('class="table-danger"') == 2
    assert '<span class="fw-bold text-danger">10.9</span>' in html
    assert 'data-testid="count-at_risk">2<' in html and 'data-testid="count-met">1<' in html


def test_page_defaults_to_the_newest_year_checked(world, checks, login):
    put(stationed(world.village, "去年", world.unit), world.village, 190, year=Y - 1, remaining=0)
    response = login(world.users["county"]).get(PAGE)
    assert [n for _, n in rows_of(response)] == ["张危", "赵危", "李稳", "王达"]
    assert f'name="year" value="{Y}"' in response.content.decode()  # the year shown
    old = login(world.users["county"]).get(PAGE, {"year": Y - 1})
    assert rows_of(old) == [("at_risk", "去年")]


def test_page_filters(world, checks, login):
    county = login(world.users["county"])
    by_status = county.get(PAGE, {"year": Y, "status": "at_risk"})
    assert [n for _, n in rows_of(by_status)] == ["张危", "赵危"]
    by_township = county.get(PAGE, {"year": Y, "township": world.other_township.pk})
    assert [n for _, n in rows_of(by_township)] == ["赵危"]
    by_village = county.get(PAGE, {"year": Y, "village": world.village.pk, "status": "met"})
    assert [n for _, n in rows_of(by_village)] == ["王达"]
    by_unit = county.get(PAGE, {"year": Y, "unit": world.unit.pk})
    assert [n for _, n in rows_of(by_unit)] == ["张危", "李稳"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("county", ["张危", "赵危", "李稳", "王达"]),
        ("township", ["张危", "李稳", "王达"]),
        ("other_township", ["赵危"]),
        ("leader", ["张危", "李稳", "王达"]),
        ("inspector", ["张危", "李稳", "王达"]),
        ("unit", ["张危", "李稳"]),
        ("cadre", ["李稳"]),
        ("far_county", ["钱危"]),
    ],
)
def test_page_rows_stay_in_scope(world, checks, login, user, expected):
    response = login(world.users[user]).get(PAGE, {"year": Y})
    assert response.status_code == 200
    assert [n for _, n in rows_of(response)] == expected


def test_page_dropdowns_and_filters_stay_in_scope(world, checks, login):
    township = login(world.users["township"])
    html = township.get(PAGE).content.decode()
    assert "一村" in html and "二村" not in html and "三村" not in html
    assert 'name="township"' not in html  # a township office has one township
    # a village outside the scope is refused like an unknown one, and shows nothing
    outside = township.get(PAGE, {"year": Y, "village": world.other_village.pk})
    missing = township.get(PAGE, {"year": Y, "village": 987654})
    assert rows_of(outside) == rows_of(missing) == []
    assert "invalid-feedback" in outside.content.decode()
    far = login(world.users["far_county"]).get(PAGE, {"unit": world.unit.pk})
    assert rows_of(far) == []
    unit_page = login(world.users["unit"]).get(PAGE).content.decode()
    assert 'name="unit"' not in unit_page and 'name="village"' not in unit_page


def test_page_needs_login_and_permission(world, checks, login):
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    for user in ("sysadmin", "secadmin", "auditadmin"):
        assert login(world.users[user]).get(PAGE).status_code == 403
    pending = make_user("nobody", Role.PENDING)
    assert login(pending).get(PAGE).status_code == 403


def test_page_query_count_is_fixed(world, checks, login, django_assert_max_num_queries):
    client = login(world.users["county"])
    client.get(PAGE)
    with django_assert_max_num_queries(14) as small:
        assert client.get(PAGE, {"year": Y}).status_code == 200
    more(world, 60)  # more than a page
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(PAGE, {"year": Y})
    assert len(rows_of(response)) == 50


# --- the dashboard panels ----------------------------------------------------------


@pytest.fixture
def panel():
    added = on_post_at_risk_panel not in dashboard.PANELS
    dashboard.register(on_post_at_risk_panel)
    yield
    if added:
        dashboard.PANELS.remove(on_post_at_risk_panel)


def panel_rows(response) -> list[str]:
    html = response.content.decode()
    if 'data-testid="panel-onpost"' not in html:
        return []
    table = html.split('data-testid="panel-onpost"', 1)[1]
    return re.findall(r'<tr class="table-danger">\s*<td>([^<]+)</td>', table)


def test_panel_on_the_county_page(world, checks, login, panel):
    response = login(world.users["county"]).get(reverse("area_detail", args=[world.county.pk]))
    assert panel_rows(response) == ["张危", "赵危"]
    html = response.content.decode()
    assert 'data-testid="panel-at_risk">' in html
    assert f"{reverse('on_post_list')}?year={Y}&amp;status=at_risk" in html


def test_panel_on_the_township_page(world, checks, login, panel):
    url = reverse("area_detail", args=[world.township.pk])
    assert panel_rows(login(world.users["township"]).get(url)) == ["张危"]
    assert panel_rows(login(world.users["county"]).get(url)) == ["张危"]
    other = reverse("area_detail", args=[world.other_township.pk])
    assert panel_rows(login(world.users["other_township"]).get(other)) == ["赵危"]


def test_panel_on_the_unit_page(world, checks, login, panel):
    url = reverse("unit_detail", args=[world.unit.pk])
    assert panel_rows(login(world.users["unit"]).get(url)) == ["张危"]
    # a township office sees the unit's cadres of its own township only
    other = reverse("unit_detail", args=[world.other_unit.pk])
    assert panel_rows(login(world.users["county"]).get(other)) == ["赵危"]
    assert panel_rows(login(world.users["township"]).get(other)) == []


def test_panel_is_not_on_village_pages_nor_without_checks(world, login, panel):
    village = login(world.users["county"]).get(reverse("area_detail", args=[world.village.pk]))
    assert 'data-testid="panel-onpost"' not in village.content.decode()
    county = login(world.users["county"]).get(reverse("area_detail", args=[world.county.pk]))
    assert 'data-testid="panel-onpost"' not in county.content.decode()


def test_panel_says_when_nobody_is_at_risk(world, login, panel):
    put(stationed(world.village, "王达", world.unit), world.village, 201)
    response = login(world.users["county"]).get(reverse("area_detail", args=[world.county.pk]))
    html = response.content.decode()
    assert 'data-testid="panel-onpost"' in html and panel_rows(response) == []


def test_panel_query_count_is_fixed(world, checks, login, panel, django_assert_max_num_queries):
    client = login(world.users["county"])
    url = reverse("area_detail", args=[world.county.pk])
    client.get(url)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    baseline = len(small.captured_queries)
    more(world, 40)
    with django_assert_max_num_queries(baseline):
        response = client.get(url)
    assert len(panel_rows(response)) == 20  # the panel's limit; the rest behind the link
    unit = reverse("unit_detail", args=[world.unit.pk])
    client.get(unit)
    with django_assert_max_num_queries(baseline):
        client.get(unit)
