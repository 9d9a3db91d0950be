"""Leave approval in the admin console: each approver's queue, single and bulk
approve and reject through CSRF-enforcing clients, read-only content, scope.
Also the read-only, scoped registrations of the other attendance models."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.urls import reverse

from attendance.choices import LeaveStatus
from attendance.models import (
    AttendanceSettings,
    HelpLog,
    LeaveRequest,
    SignIn,
    WorkDay,
)
from core.choices import Role
from tests.attendance.test_leave import (
    MON,
    Leave,
    approve,
    approved,
    ask,
    day,
    many,
    setup_leave,
)
from tests.conftest import csrf_post
from tests.factories import make_user
from tests.teams.factories import make_cadre, make_team, station

CHANGELIST = "admin:attendance_leaverequest_changelist"


def change_url(req) -> str:
    return reverse("admin:attendance_leaverequest_change", args=[req.pk])


def approve_url(req_or_pk) -> str:
    pk = getattr(req_or_pk, "pk", req_or_pk)
    return reverse("admin:attendance_leaverequest_approve", args=[pk])


def reject_url(req_or_pk) -> str:
    pk = getattr(req_or_pk, "pk", req_or_pk)
    return reverse("admin:attendance_leaverequest_reject", args=[pk])


@dataclass
class Queues:
    lv: Leave
    a: LeaveRequest  # 一村, waiting for the village
    b: LeaveRequest  # 二村, waiting for the village
    c: LeaveRequest  # 一村, waiting for the township
    d: LeaveRequest  # 二村, waiting for the township
    e: LeaveRequest  # 一村, waiting for the county
    f: LeaveRequest  # 三村 (the far county), waiting for the village
    g: LeaveRequest  # 一村, approved, return overdue


def make_queues(world) -> Queues:
    lv = setup_leave(world)
    u = lv.users
    far_user = make_user("cadre3", Role.CADRE)
    far = make_cadre(world.far_unit, "赵六", user=far_user)
    station(far, make_team(world.far_village), start=datetime.date(2026, 1, 1))
    u["cadre3"] = far_user
    a = ask(u["cadre"], start=MON, end=MON)
    b = ask(u["cadre2"], start=MON, end=MON)
    c = approve(u["leader"], ask(u["cadre"], start=day(1), end=day(1)))
    d = approve(u["leader2"], ask(u["cadre2"], start=day(1), end=day(1)))
    e = ask(u["cadre"], start=day(7), end=day(11))
    e = approve(u["township"], approve(u["leader"], e))
    f = ask(u["cadre3"], start=MON, end=MON)
    g = approved(lv, start=day(2), end=day(2))
    return Queues(lv=lv, a=a, b=b, c=c, d=d, e=e, f=f, g=g)


@pytest.fixture
def q(world) -> Queues:
    return make_queues(world)


def listed(client, query: str = "") -> list[int]:
    response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- what each approver sees --------------------------------------------------------------


@pytest.mark.django_db
def test_each_approver_sees_exactly_their_queue(q, login):
    u = q.lv.users
    assert listed(login(u["leader"])) == [q.a.pk]
    assert listed(login(u["leader2"])) == [q.b.pk]
    assert listed(login(u["township"])) == [q.c.pk]
    assert listed(login(u["other_township"])) == [q.d.pk]
    assert listed(login(u["county"])) == [q.e.pk]
    assert listed(login(u["far_county"])) == []


@pytest.mark.django_db
def test_the_other_statuses_stay_inside_the_area(q, login):
    u = q.lv.users
    in_township = sorted([q.a.pk, q.c.pk, q.e.pk, q.g.pk])
    assert listed(login(u["township"]), "?status=all") == in_township
    assert listed(login(u["county"]), "?status=all") == sorted(
        [q.a.pk, q.b.pk, q.c.pk, q.d.pk, q.e.pk, q.g.pk]
    )
    assert listed(login(u["far_county"]), "?status=all") == [q.f.pk]
    assert listed(login(u["leader2"]), "?status=all") == sorted([q.b.pk, q.d.pk])
    assert listed(login(u["township"]), "?status=approved") == [q.g.pk]
    assert listed(login(u["township"]), "?status=all&overdue=yes") == [q.g.pk]
    assert listed(login(u["township"]), "?status=all&kind=business") == []


@pytest.mark.django_db
def test_the_leaders_own_request_is_not_in_their_queue(q, login):
    own = ask(q.lv.users["leader"], start=day(14), end=day(14))
    assert own.pk not in listed(login(q.lv.users["leader"]))
    assert own.pk in listed(login(q.lv.users["leader"]), "?status=all")
    page = login(q.lv.users["leader"]).get(change_url(own))
    assert page.status_code == 200 and not page.context["can_decide"]


@pytest.mark.django_db
def test_the_list_shows_applicant_village_halves_days_status_and_overdue(q, login):
    html = login(q.lv.users["township"]).get(reverse(CHANGELIST) + "?status=all").content.decode()
    assert "张三" in html and "一村" in html and "李四" not in html
    assert "2026-03-04" in html  # g's dates
    assert "icon-yes.svg" in html  # the overdue flag of g


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "attr"),
    [("township", "d"), ("township", "b"), ("leader", "b"), ("county", "f"), ("far_county", "a")],
)
def test_a_request_outside_the_area_is_the_same_as_missing(q, login, who, attr):
    client = login(q.lv.users[who])
    other = client.get(change_url(getattr(q, attr)))
    missing = client.get(reverse("admin:attendance_leaverequest_change", args=[987654]))
    assert other.status_code == missing.status_code == 302
    assert other["Location"] == missing["Location"]
    target = getattr(q, attr)
    before = target.status
    response = csrf_post(client, approve_url(target))
    assert response.status_code == 302
    assert response["Location"] == csrf_post(client, approve_url(987654))["Location"]
    target.refresh_from_db()
    assert target.status == before


@pytest.mark.django_db
def test_nobody_edits_a_request_here(q, login):
    client = login(q.lv.users["township"])
    page = client.get(change_url(q.c))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="reason"' not in html
    assert csrf_post(client, change_url(q.c), {"reason": "改了"}).status_code == 403
    assert client.get(reverse("admin:attendance_leaverequest_add")).status_code == 403
    delete = reverse("admin:attendance_leaverequest_delete", args=[q.c.pk])
    assert client.get(delete).status_code == 403
    q.c.refresh_from_db()
    assert q.c.reason == "家中有事"


@pytest.mark.django_db
def test_who_gets_into_the_admin_list(q, login):
    for key in ("cadre", "unit", "inspector"):
        response = login(q.lv.users[key]).get(reverse(CHANGELIST))
        assert response.status_code == 302 and "/login/" in response["Location"], key
    for key in ("sysadmin", "secadmin", "auditadmin"):
        assert login(q.lv.users[key]).get(reverse(CHANGELIST)).status_code == 403, key


# --- one at a time ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_approve_from_the_change_page(q, login):
    client = login(q.lv.users["township"])
    page = client.get(change_url(q.c)).content.decode()
    assert 'data-testid="approve"' in page and approve_url(q.c) in page
    assert client.get(approve_url(q.c)).status_code == 405
    response = csrf_post(client, approve_url(q.c), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse(CHANGELIST))
    q.c.refresh_from_db()
    assert q.c.status == LeaveStatus.APPROVED
    assert q.c.pk not in [o.pk for o in response.context["cl"].result_list]
    assert any("张三" in m for m in messages_of(response))
    # twice: refused, nothing changes
    response = csrf_post(client, approve_url(q.c), follow=True)
    assert q.c.decisions.count() == 2
    assert any("张三" in m for m in messages_of(response))


@pytest.mark.django_db
def test_the_buttons_only_where_the_user_decides(q, login):
    township = login(q.lv.users["township"])
    assert not township.get(change_url(q.a)).context["can_decide"]  # waits for the village
    assert not township.get(change_url(q.g)).context["can_decide"]  # final
    assert township.get(change_url(q.c)).context["can_decide"]
    assert 'data-testid="approve"' not in township.get(change_url(q.a)).content.decode()


@pytest.mark.django_db
def test_approving_at_the_wrong_level_is_refused(q, login):
    client = login(q.lv.users["leader"])
    response = csrf_post(
        client, approve_url(q.c) + "?_changelist_filters=status%3Dall", follow=True
    )
    q.c.refresh_from_db()
    assert q.c.status == LeaveStatus.PENDING_TOWNSHIP
    assert response.redirect_chain[-1][0].endswith("?status=all")
    assert len(messages_of(response)) == 1


@pytest.mark.django_db
def test_reject_from_the_change_page_asks_for_a_reason(q, login):
    client = login(q.lv.users["township"])
    page = client.get(reject_url(q.c))
    assert page.status_code == 200
    assert "reject-form" in page.content.decode()
    empty = csrf_post(client, reject_url(q.c), {"reason": "   "})
    assert empty.status_code == 200 and empty.context["form"].errors
    q.c.refresh_from_db()
    assert q.c.status == LeaveStatus.PENDING_TOWNSHIP
    done = csrf_post(client, reject_url(q.c), {"reason": "农忙时节"})
    assert done.status_code == 302
    q.c.refresh_from_db()
    assert q.c.status == LeaveStatus.REJECTED
    assert q.c.decisions.last().reason == "农忙时节"


@pytest.mark.django_db
def test_the_admin_needs_csrf(q, login):
    client = login(q.lv.users["township"])
    assert client.post(approve_url(q.c)).status_code == 403
    assert client.post(reject_url(q.c), {"reason": "x"}).status_code == 403
    bulk = {"action": "approve_selected", "_selected_action": [q.c.pk], "index": 0}
    assert client.post(reverse(CHANGELIST), bulk).status_code == 403
    q.c.refresh_from_db()
    assert q.c.status == LeaveStatus.PENDING_TOWNSHIP


# --- in bulk -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bulk_approve_reports_what_was_refused(q, login):
    u = q.lv.users
    c2 = approve(u["leader"], ask(u["cadre"], start=day(14), end=day(14)))
    client = login(u["township"])
    data = {"action": "approve_selected", "_selected_action": [q.c.pk, c2.pk, q.a.pk], "index": 0}
    response = csrf_post(client, reverse(CHANGELIST) + "?status=all", data, follow=True)
    assert response.status_code == 200
    for req in (q.c, c2, q.a):
        req.refresh_from_db()
    assert q.c.status == c2.status == LeaveStatus.APPROVED
    assert q.a.status == LeaveStatus.PENDING_VILLAGE
    text = " ".join(messages_of(response))
    assert "2" in text and "1" in text and "张三" in text


@pytest.mark.django_db
def test_bulk_ignores_rows_outside_the_area(q, login):
    client = login(q.lv.users["township"])
    data = {"action": "approve_selected", "_selected_action": [q.d.pk, q.c.pk], "index": 0}
    csrf_post(client, reverse(CHANGELIST), data)
    q.c.refresh_from_db()
    q.d.refresh_from_db()
    assert q.c.status == LeaveStatus.APPROVED
    assert q.d.status == LeaveStatus.PENDING_TOWNSHIP and q.d.decisions.count() == 1


@pytest.mark.django_db
def test_bulk_reject_asks_for_a_reason_on_an_intermediate_page(q, login):
    u = q.lv.users
    c2 = approve(u["leader"], ask(u["cadre"], start=day(14), end=day(14)))
    client = login(u["township"])
    data = {"action": "reject_selected", "_selected_action": [q.c.pk, c2.pk], "index": 0}
    page = csrf_post(client, reverse(CHANGELIST), data)
    assert page.status_code == 200
    assert page.templates[0].name == "admin/attendance/leaverequest/reject.html"
    html = page.content.decode()
    assert html.count('name="_selected_action"') == 2
    for req in (q.c, c2):
        req.refresh_from_db()
        assert req.status == LeaveStatus.PENDING_TOWNSHIP
    # confirming without a reason shows the page again
    confirm = {"action": "reject_selected", "_selected_action": [q.c.pk, c2.pk], "post": "yes"}
    again = csrf_post(client, reverse(CHANGELIST), {**confirm, "reason": " "})
    assert again.status_code == 200 and again.context["form"].errors
    done = csrf_post(client, reverse(CHANGELIST), {**confirm, "reason": "人手不足"}, follow=True)
    for req in (q.c, c2):
        req.refresh_from_db()
        assert req.status == LeaveStatus.REJECTED
        assert req.decisions.last().reason == "人手不足"
    assert any("2" in m for m in messages_of(done))


@pytest.mark.django_db
def test_the_actions_are_offered_to_approvers_only(q, login):
    response = login(q.lv.users["township"]).get(reverse(CHANGELIST))
    choices = [c[0] for c in response.context["action_form"].fields["action"].choices]
    assert "approve_selected" in choices and "reject_selected" in choices
    assert "delete_selected" not in choices


@pytest.mark.django_db
def test_the_list_has_a_fixed_number_of_queries(world, login, django_assert_max_num_queries):
    q = make_queues(world)
    client = login(q.lv.users["township"])
    url = reverse(CHANGELIST) + "?status=all"
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    many(q.lv, 15, day(14))
    with django_assert_max_num_queries(20) as large:
        response = client.get(url)
    assert len(response.context["cl"].result_list) > 15
    assert len(large.captured_queries) == len(small.captured_queries)


# --- the other attendance models: read-only and scoped --------------------------------------


@pytest.mark.django_db
def test_the_other_models_are_read_only_and_scoped(q, login):
    import uuid

    from django.utils import timezone

    u = q.lv.users
    now = timezone.now()
    HelpLog.objects.create(cadre=q.lv.cadre, date=MON, content="走访三户")
    HelpLog.objects.create(cadre=q.lv.cadre2, date=MON, content="二村日志")
    SignIn.objects.create(
        client_id=uuid.uuid4(),
        cadre=q.lv.cadre,
        village=q.lv.world.village,
        signed_at=now,
        date=MON,
        half="am",
        in_area=True,
        counts=True,
    )
    AttendanceSettings.objects.create(county=q.lv.world.county)

    township = login(u["township"])
    page = township.get(reverse("admin:attendance_helplog_changelist")).content.decode()
    assert "走访三户" in page and "二村日志" not in page
    assert (
        login(u["other_township"])
        .get(reverse("admin:attendance_helplog_changelist"))
        .context["cl"]
        .result_count
        == 1
    )
    signins = township.get(reverse("admin:attendance_signin_changelist"))
    assert signins.context["cl"].result_count == 1
    assert (
        login(u["other_township"])
        .get(reverse("admin:attendance_signin_changelist"))
        .context["cl"]
        .result_count
        == 0
    )
    county = login(u["county"])
    # both counties' calendars are seeded (their cadres asked for leave)
    counties = {q.lv.world.county.pk, q.lv.world.other_county.pk}
    assert set(WorkDay.objects.values_list("county_id", flat=True)) == counties
    days = county.get(reverse("admin:attendance_workday_changelist")).context["cl"]
    assert days.result_count == 365
    assert {d.county_id for d in days.result_list} == {q.lv.world.county.pk}
    # the calendar is the county office's: a township office sees none of it
    workdays = login(u["township"]).get(reverse("admin:attendance_workday_changelist"))
    assert workdays.context["cl"].result_count == 0
    settings = AttendanceSettings.objects.get()
    url = reverse("admin:attendance_attendancesettings_change", args=[settings.pk])
    assert county.get(url).status_code == 200
    assert csrf_post(county, url, {"return_grace_days": 9}).status_code == 403
    assert county.get(reverse("admin:attendance_attendancesettings_add")).status_code == 403
    far = login(u["far_county"]).get(url)
    assert far.status_code == 302
    signin = SignIn.objects.get()
    detail = township.get(reverse("admin:attendance_signin_change", args=[signin.pk]))
    assert detail.status_code == 200
    assert "latitude" not in detail.content.decode()
    for name in (
        "signin",
        "helplog",
        "attendancesettings",
        "workday",
        "calendaryear",
        "attendancebatch",
        "monthlyattendance",
        "onpostcheck",
    ):
        response = county.get(reverse(f"admin:attendance_{name}_changelist"))
        assert response.status_code == 200, name
        assert "action_form" not in response.context or not response.context["action_form"], name


@pytest.mark.django_db
def test_decision_times_are_shown_in_local_time(q, login, monkeypatch):
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    moment = datetime.datetime(2026, 3, 10, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(timezone, "now", lambda: moment)  # 2026-03-09 16:30 UTC
    req = approve(q.lv.users["leader"], ask(q.lv.users["cadre"], start=day(14), end=day(14)))
    monkeypatch.undo()
    html = login(q.lv.users["township"]).get(change_url(req)).content.decode()
    assert "2026-03-10 00:30" in html and "2026-03-09 16:30" not in html
    mine = login(q.lv.users["cadre"]).get(reverse("leave_list")).content.decode()
    assert "2026-03-10 00:30" in mine
