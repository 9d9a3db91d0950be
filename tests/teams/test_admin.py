"""The teams admin console: scoped lists, dropdowns and objects; history
read-only with changes through the services (actions); import through the
roster engine; masked, audited exports."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.choices import AuditAction
from core.models import AuditLog
from teams.choices import EndReason
from teams.models import Cadre, Membership, Pairing
from tests.conftest import csrf_post
from tests.teams.factories import (
    make_cadre,
    make_household,
    make_team,
    mobile,
    pair,
    station,
)

pytestmark = pytest.mark.django_db

ON = datetime.date(2024, 5, 10)


@pytest.fixture
def data(world):
    team = make_team(world.village)
    phone = mobile()
    zhang = make_cadre(world.unit, "张三", phone=phone, post="=HYPERLINK(1)")
    # a history in the same township: two memberships and a pairing
    station(
        zhang,
        team,
        start=datetime.date(2020, 1, 1),
        end_date=datetime.date(2020, 12, 31),
        end_reason=EndReason.ROTATION,
    )
    membership = station(zhang, team, start=datetime.date(2021, 3, 1))
    household = make_household(world.village, "李四")
    pairing = pair(zhang, household)
    other = make_cadre(world.unit, "王五")
    other_membership = station(other, make_team(world.other_village))
    return {
        "zhang": zhang,
        "phone": phone,
        "membership": membership,
        "household": household,
        "pairing": pairing,
        "other": other,
        "other_membership": other_membership,
    }


def changelist(model: str) -> str:
    return reverse(f"admin:teams_{model}_changelist")


def test_cadre_list_is_scoped_masked_and_one_row_per_cadre(world, login, data):
    page = login(world.users["township"]).get(changelist("cadre")).content.decode()
    assert page.count(f">{data['zhang'].name}<") == 1  # no repeated rows
    assert "王五" not in page
    assert data["zhang"].phone_masked in page and data["phone"] not in page
    assert data["zhang"].get_number("id_number") not in page
    county = login(world.users["county"]).get(changelist("cadre")).content.decode()
    assert "张三" in county and "王五" in county
    far = login(world.users["far_county"]).get(changelist("cadre")).content.decode()
    assert "张三" not in far and "王五" not in far


@pytest.mark.parametrize("term", ["zhangsan", "zs", "张"])
def test_cadres_are_found_by_name_pinyin_and_initials(world, login, data, term):
    page = login(world.users["county"]).get(changelist("cadre"), {"q": term}).content.decode()
    assert "张三" in page and "王五" not in page


def test_an_object_outside_scope_is_the_same_as_a_missing_one(world, login, data):
    client = login(world.users["township"])
    own = client.get(reverse("admin:teams_cadre_change", args=[data["zhang"].pk]))
    assert own.status_code == 200
    other = client.get(reverse("admin:teams_cadre_change", args=[data["other"].pk]))
    missing = client.get(reverse("admin:teams_cadre_change", args=[987654]))
    assert other.status_code == missing.status_code == 302
    assert other["Location"] == missing["Location"]


def test_correcting_a_cadre_goes_through_the_service(world, login, data):
    zhang = data["zhang"]
    client = login(world.users["township"])
    response = csrf_post(
        client,
        reverse("admin:teams_cadre_change", args=[zhang.pk]),
        {
            "name": "张山",
            "unit": world.unit.pk,
            "post": "科长",
            "rank": "",
            "education": "大学本科",
            "major": "",
            "political_status": "中共党员",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    zhang.refresh_from_db()
    assert zhang.name == "张山" and zhang.post == "科长" and zhang.name_initials == "zs"
    row = AuditLog.objects.get(detail__what="cadre")
    assert row.actor == world.users["township"] and "name" in row.detail["fields"]


def test_the_unit_dropdown_is_scoped(world, login, data):
    page = login(world.users["township"]).get(
        reverse("admin:teams_cadre_change", args=[data["zhang"].pk])
    )
    text = page.content.decode()
    assert "县财政局" in text and "邻县财政局" not in text


def test_no_adding_or_deleting_cadres_here(world, login, data):
    client = login(world.users["county"])
    assert client.get(reverse("admin:teams_cadre_add")).status_code == 403
    assert (
        client.get(reverse("admin:teams_cadre_delete", args=[data["zhang"].pk])).status_code == 403
    )


def test_memberships_are_read_only_history(world, login, data):
    client = login(world.users["township"])
    url = reverse("admin:teams_membership_change", args=[data["membership"].pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert csrf_post(client, url, {"role": "工作队长"}).status_code == 403
    assert Membership.objects.get(pk=data["membership"].pk).role == "工作队员"
    assert client.get(reverse("admin:teams_membership_add")).status_code == 403


def _action(client, model: str, action: str, pks: list[int], **fields):
    payload = {"action": action, "_selected_action": pks, "index": 0, **fields}
    return csrf_post(client, changelist(model), payload)


def test_recall_action_with_a_decision(world, login, data):
    client = login(world.users["township"])
    response = _action(
        client,
        "membership",
        "recall",
        [data["membership"].pk],
        on=ON.isoformat(),
        decision="召回〔2024〕1号",
    )
    assert response.status_code == 302
    ended = Membership.objects.get(pk=data["membership"].pk)
    assert ended.end_reason == EndReason.RECALL and ended.end_date == ON
    assert ended.end_decision == "召回〔2024〕1号"
    assert AuditLog.objects.filter(detail__what="membership_end", actor=world.users["township"])


def test_recall_action_without_a_decision_changes_nothing(world, login, data):
    client = login(world.users["township"])
    _action(client, "membership", "recall", [data["membership"].pk], on=ON.isoformat())
    assert Membership.objects.get(pk=data["membership"].pk).end_date is None
    refused = AuditLog.objects.get(detail__what="membership_recall", success=False)
    assert refused.actor == world.users["township"]


def test_actions_cannot_reach_outside_the_scope(world, login, data):
    client = login(world.users["township"])
    _action(
        client,
        "membership",
        "recall",
        [data["other_membership"].pk],
        on=ON.isoformat(),
        decision="x",
    )
    assert Membership.objects.get(pk=data["other_membership"].pk).end_date is None


def test_adjust_action_moves_the_member(world, login, data):
    client = login(world.users["county"])
    page = client.get(changelist("membership")).content.decode()
    assert f'value="{world.other_village.pk}"' in page and "三村" not in page
    _action(
        client,
        "membership",
        "adjust",
        [data["membership"].pk],
        on=ON.isoformat(),
        decision="调整〔2024〕2号",
        village=world.other_village.pk,
    )
    assert Membership.objects.get(pk=data["membership"].pk).end_reason == EndReason.ADJUSTMENT
    current = Membership.objects.current().get(cadre=data["zhang"])
    assert current.team.village == world.other_village and current.start_date == ON


def test_adjust_to_a_village_outside_scope_is_refused(world, login, data):
    client = login(world.users["township"])
    _action(
        client,
        "membership",
        "adjust",
        [data["membership"].pk],
        on=ON.isoformat(),
        decision="x",
        village=world.other_village.pk,
    )
    assert Membership.objects.get(pk=data["membership"].pk).end_date is None


def test_reassign_action_gives_the_household_a_new_cadre(world, login, data):
    newcomer = make_cadre(world.unit, "赵六")
    station(newcomer, data["membership"].team)
    client = login(world.users["township"])
    page = client.get(changelist("pairing")).content.decode()
    assert "赵六" in page and "王五" not in page  # the dropdown is scoped
    _action(
        client,
        "pairing",
        "reassign",
        [data["pairing"].pk],
        cadre=newcomer.pk,
        on=ON.isoformat(),
    )
    current = Pairing.objects.current().get(household=data["household"])
    assert current.cadre == newcomer
    assert Pairing.objects.get(pk=data["pairing"].pk).end_date == ON - datetime.timedelta(days=1)


def test_leader_sees_but_cannot_act(world, login, data):
    client = login(world.users["leader"])
    page = client.get(changelist("membership"))
    assert page.status_code == 200
    _action(
        client, "membership", "recall", [data["membership"].pk], on=ON.isoformat(), decision="x"
    )
    assert Membership.objects.get(pk=data["membership"].pk).end_date is None


# --- import and export ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "kind"), [("cadre", "cadres"), ("household", "households"), ("pairing", "pairings")]
)
def test_admin_import_opens_the_roster_upload(world, login, model, kind):
    client = login(world.users["township"])
    page = client.get(changelist(model)).content.decode()
    assert reverse(f"admin:teams_{model}_import") in page
    response = client.get(reverse(f"admin:teams_{model}_import"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('import_list')}?kind={kind}"


def test_admin_import_needs_the_import_permission(world, login):
    client = login(world.users["leader"])
    page = client.get(changelist("cadre")).content.decode()
    assert reverse("admin:teams_cadre_import") not in page
    assert client.get(reverse("admin:teams_cadre_import")).status_code == 403
    assert csrf_post(client, reverse("admin:teams_cadre_process_import")).status_code == 403


def test_export_is_masked_escaped_scoped_and_audited(world, login, data):
    client = login(world.users["township"])
    response = csrf_post(
        client,
        reverse("admin:teams_cadre_export"),
        {
            "format": "0",
            "resource": "0",
            "cadreresource_name": "on",
            "cadreresource_id_number": "on",
            "cadreresource_phone": "on",
            "cadreresource_post": "on",
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("姓名", "身份证号", "手机号", "职务")
    assert rows[1:] == [
        ("张三", data["zhang"].id_number_masked, data["zhang"].phone_masked, "'=HYPERLINK(1)")
    ]
    row = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert row.actor == world.users["township"]
    assert row.detail["rows"] == 1 and row.detail["columns"] == [
        "姓名",
        "身份证号",
        "手机号",
        "职务",
    ]
    assert row.detail["what"] == "admin:teams.cadre"


def test_export_needs_the_export_permission(world, login, data):
    client = login(world.users["leader"])
    assert client.get(reverse("admin:teams_cadre_export")).status_code == 403
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()


def test_team_and_visit_lists_are_scoped(world, login, data):
    client = login(world.users["township"])
    teams = client.get(changelist("team")).content.decode()
    assert "一村驻村工作队" in teams and "二村驻村工作队" not in teams
    assert client.get(changelist("visit")).status_code == 200
    assert client.get(changelist("household")).status_code == 200
    assert Cadre.objects.count() == 2
