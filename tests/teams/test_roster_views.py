"""The roster downloads, every role both ways: the template needs
teams.import_roster, the export teams.export_roster, full numbers also
teams.reveal_personal and ?reveal=1; scope decides the rows."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.urls import reverse

from core.choices import AuditAction
from core.models import AuditLog
from teams.rosters import ROSTERS
from tests.teams import factories as f

pytestmark = pytest.mark.django_db
KINDS = sorted(ROSTERS)
ALLOWED = {"county", "township", "other_township", "far_county"}  # the two office roles


def _urls(kind: str) -> list[str]:
    return [
        reverse("roster_template", kwargs={"kind": kind}),
        reverse("roster_export", kwargs={"kind": kind}),
    ]


def _text(response) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    return " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value)


@pytest.fixture
def people(world):
    here = f.make_cadre(world.unit, "赵六", number=f.id_number(serial=901), phone="13811110001")
    f.station(here, f.make_team(world.village))
    there = f.make_cadre(world.unit, "钱七", number=f.id_number(serial=902), phone="13811110002")
    f.station(there, f.make_team(world.other_village))
    far = f.make_cadre(world.far_unit, "远方", number=f.id_number(serial=903), phone="13811110003")
    f.station(far, f.make_team(world.far_village))
    return here, there, far


def test_anonymous_users_get_the_login_page(world, client):
    for kind in KINDS:
        for url in _urls(kind):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.parametrize("kind", KINDS)
def test_every_role_both_ways(world, login, kind):
    for key, user in world.users.items():
        client = login(user)
        for url in _urls(kind):
            response = client.get(url)
            if key in ALLOWED:
                assert response.status_code == 200, (key, url)
                assert response["Content-Type"].startswith(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml"
                )
                assert "attachment; filename*=UTF-8''" in response["Content-Disposition"]
            else:
                assert response.status_code == 403, (key, url)


def test_unknown_kind_is_not_found(world, login):
    client = login(world.users["county"])
    assert client.get("/rosters/people/template/").status_code == 404
    assert client.get("/rosters/people/export/").status_code == 404


def test_template_is_the_roster(world, login):
    response = login(world.users["township"]).get(reverse("roster_template", args=["cadres"]))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.worksheets[0]["A1"].value == "姓名*"
    assert (
        "驻村工作队花名册" in response["Content-Disposition"]
        or "%E9%A9%BB" in response["Content-Disposition"]
    )


def test_reveal_only_with_the_permission(world, login, people):
    here, _, _ = people
    number = here.get_number("id_number")
    url = reverse("roster_export", args=["cadres"])
    county = login(world.users["county"])
    assert number in _text(county.get(url + "?reveal=1"))
    masked = _text(county.get(url))
    assert number not in masked and here.id_number_masked in masked
    township = login(world.users["township"])  # no teams.reveal_personal
    text = _text(township.get(url + "?reveal=1"))
    assert number not in text and here.id_number_masked in text
    entries = AuditLog.objects.filter(action=AuditAction.EXPORT).order_by("pk")
    assert [e.detail["revealed"] for e in entries] == [True, False, False]
    assert all(e.ip_address for e in entries)


def test_township_export_holds_its_township_only(world, login, people):
    text = _text(login(world.users["township"]).get(reverse("roster_export", args=["cadres"])))
    assert "赵六" in text and "钱七" not in text and "远方" not in text
    villages = _text(
        login(world.users["township"]).get(reverse("roster_export", args=["villages"]))
    )
    assert "一村" in villages and "二村" not in villages and "三村" not in villages


def test_another_countys_data_never_appears(world, login, people):
    client = login(world.users["county"])
    for kind in KINDS:
        text = _text(client.get(reverse("roster_export", args=[kind]) + "?reveal=1"))
        assert "远方" not in text and "三村" not in text and "丙镇" not in text
    far = _text(login(world.users["far_county"]).get(reverse("roster_export", args=["cadres"])))
    assert "远方" in far and "赵六" not in far and "钱七" not in far


def test_post_is_not_allowed(world, login):
    client = login(world.users["county"])
    from tests.conftest import csrf_post

    assert csrf_post(client, reverse("roster_template", args=["villages"])).status_code == 405
