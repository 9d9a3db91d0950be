"""The JSON API: team structure and overview of an area, scoped both ways,
JSON errors (never a login redirect), and the OpenAPI schema."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from core.models import AuditLog
from teams.models import Pairing
from tests.factories import make_unit
from tests.teams.factories import make_cadre, make_household, make_team, pair, station
from tests.teams.test_stats import COUNTY, TOWNSHIP_A, TOWNSHIP_B, structure_world

pytestmark = pytest.mark.django_db

STRUCTURE_KEYS = [
    "teams",
    "members",
    "average_age",
    "college_or_above",
    "postgraduates",
    "doctorates",
    "party_members",
    "deputy_section_or_above",
    "agri_majors",
    "rural_experience",
    "prior_poverty_service",
]


def as_json(figures: dict) -> dict:
    return {
        k: (float(v) if k == "average_age" and v is not None else v) for k, v in figures.items()
    }


def structure(client, area, date="2024-06-30"):
    params = {"area": area.pk if hasattr(area, "pk") else area}
    if date is not None:
        params["date"] = date
    return client.get(reverse("api_team_structure"), params)


def test_team_structure_for_county_township_and_village(world, login):
    structure_world(world)
    client = login(world.users["county"])
    county = structure(client, world.county)
    assert county.status_code == 200
    assert county["Content-Type"] == "application/json"
    body = county.json()
    assert list(body) == STRUCTURE_KEYS
    assert body == as_json(COUNTY)
    assert body["average_age"] == 38.3 and '"average_age":38.3' in county.content.decode()
    assert structure(client, world.township).json() == as_json(TOWNSHIP_A)
    assert structure(client, world.other_township).json() == as_json(TOWNSHIP_B)
    assert structure(client, world.village).json() == as_json(TOWNSHIP_A)


def test_average_age_is_null_without_members(world, login):
    body = structure(login(world.users["county"]), world.county).json()
    assert body["members"] == 0 and body["average_age"] is None


def test_average_age_keeps_one_decimal(world, login):
    team = make_team(world.village)
    from tests.teams.factories import id_number

    station(make_cadre(world.unit, "整", number=id_number(birth="19840101")), team)
    response = structure(login(world.users["county"]), world.county)
    assert '"average_age":40.0' in response.content.decode()


def test_date_defaults_to_today(world, login):
    structure_world(world)
    assert structure(login(world.users["county"]), world.county, date=None).status_code == 200


@pytest.mark.parametrize("bad", ["2024-02-30", "20240630", "2024/06/30", "yesterday", ""])
def test_bad_date_is_400_in_chinese(world, login, bad):
    response = structure(login(world.users["county"]), world.county, date=bad)
    if bad == "":
        assert response.status_code == 200  # an empty value is the default
        return
    assert response.status_code == 400
    message = response.json()["date"][0]
    assert "日期格式" in message


@pytest.mark.parametrize(
    "key, area, status",
    [
        ("township", "township", 200),
        ("township", "village", 200),
        ("township", "other_township", 404),
        ("township", "other_village", 404),
        ("township", "county", 404),
        ("other_township", "other_township", 200),
        ("county", "other_county", 404),
        ("county", "far_village", 404),
        ("far_county", "county", 404),
        ("far_county", "other_county", 200),
        ("leader", "village", 200),
        ("leader", "township", 404),
        ("inspector", "township", 200),
        ("inspector", "other_village", 404),
        ("unit", "county", 404),
    ],
)
def test_scope_both_ways(world, login, key, area, status):
    client = login(world.users[key])
    target = getattr(world, area)
    assert structure(client, target).status_code == status
    assert client.get(reverse("api_overview"), {"area": target.pk}).status_code == status


@pytest.mark.parametrize("area", [None, "", "abc", "987654"])
def test_missing_area_is_404(world, login, area):
    client = login(world.users["county"])
    params = {} if area is None else {"area": area}
    for name in ("api_team_structure", "api_overview"):
        response = client.get(reverse(name), params)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_anonymous_gets_json_403_not_a_redirect(world, client):
    for name in ("api_team_structure", "api_overview", "api_schema"):
        response = client.get(reverse(name), {"area": world.county.pk})
        assert response.status_code in (401, 403), name
        assert "Location" not in response
        if name != "api_schema":
            assert response.json()["detail"]


@pytest.mark.parametrize("key", ["cadre", "sysadmin", "secadmin", "auditadmin"])
def test_roles_without_permission_get_403_and_an_audit_row(world, login, key):
    client = login(world.users[key])
    response = client.get(reverse("api_team_structure"), {"area": world.county.pk})
    assert response.status_code == 403
    assert "detail" in response.json()
    assert AuditLog.objects.filter(action="denied", username=key, success=False).exists()


def test_post_is_not_allowed(world, login):
    from tests.conftest import csrf_post

    client = login(world.users["county"])
    response = csrf_post(client, f"{reverse('api_overview')}?area={world.county.pk}")
    assert response.status_code == 405


# --- overview -----------------------------------------------------------------------------


def overview_world(world):
    """Current: 一村 team of 2 (县财政局, 县公安局), 二村 team of 1 (县财政局) and one
    recalled member; a dissolved old team in 一村 with a member of a third unit
    still open (does not count). Households: 一村 3 (脱贫户 2, 监测户 1), 二村 1
    (未脱贫户); pairings: 孙 with two 一村 households, 王 with the 二村 one; an
    ended pairing of 李 does not make 李 a pairing cadre."""
    from teams.models import Team

    third = make_unit(world.county, "县农业局")
    old = Team.objects.create(
        village=world.village,
        formed_on=datetime.date(2019, 1, 1),
        dissolved_on=datetime.date(2020, 12, 31),
    )
    station(make_cadre(third, "旧"), old)
    team = make_team(world.village)
    other = make_team(world.other_village)
    station(make_cadre(world.unit, "甲"), team)
    li = make_cadre(world.other_unit, "李")
    station(li, team)
    station(make_cadre(world.unit, "丙"), other)
    station(
        make_cadre(third, "丁"),
        other,
        end_date=datetime.date(2022, 1, 1),
        end_reason="召回",
    )
    sun = make_cadre(world.unit, "孙")
    wang = make_cadre(world.unit, "王")
    h1 = make_household(world.village, "户一")
    h2 = make_household(world.village, "户二")
    h3 = make_household(world.village, "户三", type="监测户")
    h4 = make_household(world.other_village, "户四", type="未脱贫户")
    pair(sun, h1)
    pair(sun, h2)
    pair(wang, h4)
    Pairing.objects.create(
        cadre=li,
        household=h3,
        start_date=datetime.date(2021, 1, 1),
        end_date=datetime.date(2021, 6, 1),
    )
    far_team = make_team(world.far_village)
    station(make_cadre(world.far_unit, "远"), far_team)
    make_household(world.far_village, "远户")


def test_overview_of_the_county(world, login):
    overview_world(world)
    response = login(world.users["county"]).get(reverse("api_overview"), {"area": world.county.pk})
    assert response.status_code == 200
    assert response.json() == {
        "villages": 2,
        "teams": 2,
        "members": 3,
        "units": 2,
        "pairing_cadres": 2,
        "households": 4,
        "households_by_type": {"脱贫户": 2, "未脱贫户": 1, "监测户": 1, "一般户": 0},
    }


def test_overview_of_a_township_and_a_village(world, login):
    overview_world(world)
    client = login(world.users["township"])
    township = client.get(reverse("api_overview"), {"area": world.township.pk}).json()
    assert township == {
        "villages": 1,
        "teams": 1,
        "members": 2,
        "units": 2,
        "pairing_cadres": 1,
        "households": 3,
        "households_by_type": {"脱贫户": 2, "未脱贫户": 0, "监测户": 1, "一般户": 0},
    }
    village = client.get(reverse("api_overview"), {"area": world.village.pk}).json()
    assert village == township
    other = login(world.users["other_township"]).get(
        reverse("api_overview"), {"area": world.other_township.pk}
    )
    assert other.json()["households_by_type"] == {
        "脱贫户": 0,
        "未脱贫户": 1,
        "监测户": 0,
        "一般户": 0,
    }
    assert other.json()["members"] == 1 and other.json()["units"] == 1


def test_overview_of_an_empty_area_has_every_key(world, login):
    body = (
        login(world.users["county"]).get(reverse("api_overview"), {"area": world.county.pk}).json()
    )
    assert body == {
        "villages": 2,
        "teams": 0,
        "members": 0,
        "units": 0,
        "pairing_cadres": 0,
        "households": 0,
        "households_by_type": {"脱贫户": 0, "未脱贫户": 0, "监测户": 0, "一般户": 0},
    }


def test_overview_query_count(world, login, django_assert_max_num_queries):
    overview_world(world)
    client = login(world.users["county"])
    # session, user, scope area, the area, five figures, the session save (3)
    with django_assert_max_num_queries(12):
        client.get(reverse("api_overview"), {"area": world.county.pk})


# --- schema ----------------------------------------------------------------------------


def test_schema_describes_both_endpoints(world, login):
    response = login(world.users["county"]).get(reverse("api_schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/stats/team-structure/" in schema["paths"]
    assert "/api/v1/stats/overview/" in schema["paths"]
    properties = schema["components"]["schemas"]["TeamStructure"]["properties"]
    assert list(properties) == STRUCTURE_KEYS


def test_interactive_docs_load_swagger_ui_from_our_own_static_files(world, login):
    response = login(world.users["county"]).get(reverse("api_docs"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("api_schema") in page  # the schema it shows
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-dist/swagger-ui-bundle.js" in s for s in sources)
    assert all(s.startswith("/") for s in sources), sources  # nothing from a CDN
    for source in sources:
        path = source.split("?")[0].removeprefix(settings.STATIC_URL)
        assert finders.find(path), source


def test_interactive_docs_are_behind_the_login_page(world, client):
    response = client.get(reverse("api_docs"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
