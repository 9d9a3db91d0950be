"""Leave and official business: the rules of the services, and the cadre's pages.

Dates are in March 2026 (no calendar rows: Monday to Friday) unless a test adds
calendar rows; 2026-03-02 is a Monday."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from attendance import leave as svc
from attendance.choices import ApprovalLevel, DaySource, LeaveKind, LeaveStatus
from attendance.models import AttendanceSettings, LeaveDecision, LeaveRequest, WorkDay
from core.choices import AuditAction, Role
from core.models import AuditLog
from teams.choices import MemberRole
from teams.models import Cadre
from tests.conftest import csrf_post
from tests.factories import World, make_user
from tests.teams.factories import make_cadre, make_team, station

SH = ZoneInfo("Asia/Shanghai")
MON = datetime.date(2026, 3, 2)
STATION_START = datetime.date(2026, 1, 1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def day(n: int) -> datetime.date:
    """MON + n days."""
    return MON + datetime.timedelta(days=n)


def zh(message) -> str:
    with translation.override("zh-hans"):
        return str(message)


@dataclass
class Leave:
    world: World
    cadre: Cadre  # users["cadre"], member in 一村
    cadre2: Cadre  # users["cadre2"], member in 二村
    leader_cadre: Cadre  # users["leader"] is also 一村's first secretary
    users: dict


def setup_leave(world: World) -> Leave:
    users = dict(world.users)
    users["cadre2"] = make_user("cadre2", Role.CADRE)
    users["leader2"] = make_user("leader2", Role.TEAM_LEADER, scope_area=world.other_village)
    users["township2"] = make_user("township2", Role.TOWNSHIP_OFFICE, scope_area=world.township)
    team = make_team(world.village)
    other_team = make_team(world.other_village)
    cadre = make_cadre(world.unit, "张三", user=users["cadre"])
    station(cadre, team, start=STATION_START)
    cadre2 = make_cadre(world.unit, "李四", user=users["cadre2"])
    station(cadre2, other_team, start=STATION_START)
    leader_cadre = make_cadre(world.unit, "王五", user=users["leader"])
    station(leader_cadre, team, role=MemberRole.SECRETARY_AND_LEADER, start=STATION_START)
    return Leave(world=world, cadre=cadre, cadre2=cadre2, leader_cadre=leader_cadre, users=users)


@pytest.fixture
def lv(world) -> Leave:
    return setup_leave(world)


def ask(
    user,
    start: datetime.date = MON,
    start_half: str = "am",
    end: datetime.date | None = None,
    end_half: str = "pm",
    kind: str = LeaveKind.LEAVE,
    leave_type: str = "事假",
    reason: str = "家中有事",
    attachment=None,
) -> LeaveRequest:
    return svc.leave_request_create(
        user=user,
        kind=kind,
        leave_type=leave_type if kind == LeaveKind.LEAVE else "",
        start_date=start,
        start_half=start_half,
        end_date=end or start,
        end_half=end_half,
        reason=reason,
        attachment=attachment,
    )


def approve(actor, request: LeaveRequest) -> LeaveRequest:
    return svc.leave_decide(actor=actor, request=request, decision="approve")


def reject(actor, request: LeaveRequest, reason: str = "工作需要") -> LeaveRequest:
    return svc.leave_decide(actor=actor, request=request, decision="reject", reason=reason)


def approved(lv: Leave, **kw) -> LeaveRequest:
    """A request of 张三 taken through every level it needs."""
    req = ask(lv.users["cadre"], **kw)
    req = approve(lv.users["leader"], req)
    req = approve(lv.users["township"], req)
    if req.status == LeaveStatus.PENDING_COUNTY:
        req = approve(lv.users["county"], req)
    assert req.status == LeaveStatus.APPROVED
    return req


def working_days_after(county, after: datetime.date, n: int) -> list[datetime.date]:
    """The first n working days after a date, by the county's calendar."""
    from attendance.calendar import is_working

    found, current = [], after
    while len(found) < n:
        current += datetime.timedelta(days=1)
        if is_working(county, current):
            found.append(current)
    return found


def many(lv: Leave, n: int, after: datetime.date) -> list[LeaveRequest]:
    """n one-day requests of 张三 on working days after a date, approved by the village."""
    return [
        approve(lv.users["leader"], ask(lv.users["cadre"], start=d, end=d))
        for d in working_days_after(lv.world.county, after, n)
    ]


@pytest.fixture
def at(monkeypatch):
    """at(aware datetime): freeze Django's clock there."""

    def _at(moment: datetime.datetime) -> None:
        assert moment.tzinfo is not None
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _at


def audit_rows(req: LeaveRequest):
    return AuditLog.objects.filter(
        object_type="attendance.leaverequest", object_id=str(req.pk)
    ).order_by("pk")


# --- working days and the final level -------------------------------------------------


@pytest.mark.django_db
def test_two_working_days_are_final_at_the_township(lv):
    req = ask(lv.users["cadre"], start=MON, end=day(1))
    assert req.working_days == Decimal("2")
    assert req.final_level == ApprovalLevel.TOWNSHIP
    assert req.status == LeaveStatus.PENDING_VILLAGE
    assert req.membership.team.village == lv.world.village
    req = approve(lv.users["leader"], req)
    assert req.status == LeaveStatus.PENDING_TOWNSHIP and req.decided_at is None
    req = approve(lv.users["township"], req)
    assert req.status == LeaveStatus.APPROVED
    assert req.decided_at is not None
    levels = list(req.decisions.values_list("level", "decision", "approver__username"))
    assert levels == [
        ("village", "approve", "leader"),
        ("township", "approve", "township"),
    ]
    # final: the county cannot add a decision
    with pytest.raises(ValidationError):
        approve(lv.users["county"], req)


@pytest.mark.django_db
def test_two_and_a_half_days_need_the_county(lv):
    req = ask(lv.users["cadre"], start=MON, end=day(2), end_half="am")
    assert req.working_days == Decimal("2.5")
    assert req.final_level == ApprovalLevel.COUNTY
    req = approve(lv.users["leader"], req)
    req = approve(lv.users["township"], req)
    assert req.status == LeaveStatus.PENDING_COUNTY and req.decided_at is None
    req = approve(lv.users["county"], req)
    assert req.status == LeaveStatus.APPROVED
    assert req.decisions.count() == 3


@pytest.mark.django_db
def test_the_county_setting_moves_the_threshold(lv):
    AttendanceSettings.objects.create(county=lv.world.county, township_final_days=Decimal("3"))
    req = ask(lv.users["cadre"], start=MON, end=day(2), end_half="am")
    assert req.working_days == Decimal("2.5")
    assert req.final_level == ApprovalLevel.TOWNSHIP
    longer = ask(lv.users["cadre"], start=day(7), end=day(10), end_half="am")
    assert longer.working_days == Decimal("3.5")
    assert longer.final_level == ApprovalLevel.COUNTY


@pytest.mark.django_db
def test_official_business_is_approved_by_the_township(lv):
    req = ask(lv.users["cadre"], start=MON, end=day(4), kind=LeaveKind.BUSINESS, reason="县培训班")
    assert req.working_days == Decimal("5")
    assert req.leave_type == ""
    assert req.final_level == ApprovalLevel.TOWNSHIP
    req = approve(lv.users["leader"], req)
    req = approve(lv.users["township"], req)
    assert req.status == LeaveStatus.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "start_half", "end", "end_half", "days"),
    [
        (MON, "am", MON, "am", "0.5"),
        (MON, "pm", MON, "pm", "0.5"),
        (MON, "am", MON, "pm", "1"),
        (day(4), "pm", day(7), "am", "1"),  # Friday afternoon to Monday morning
        (day(4), "am", day(7), "pm", "2"),  # the weekend does not count
        (MON, "pm", day(4), "am", "4"),
    ],
)
def test_working_days_count_halves(lv, start, start_half, end, end_half, days):
    req = ask(lv.users["cadre"], start=start, start_half=start_half, end=end, end_half=end_half)
    assert req.working_days == Decimal(days)


@pytest.mark.django_db
def test_the_calendar_rows_decide_holidays_and_make_up_days(lv):
    county = lv.world.county
    # Wednesday a holiday, Saturday a make-up working day (调休上班)
    WorkDay.objects.create(county=county, date=day(2), is_working=False, source=DaySource.MANUAL)
    WorkDay.objects.create(county=county, date=day(5), is_working=True, source=DaySource.MANUAL)
    req = ask(lv.users["cadre"], start=MON, end=day(6))
    assert req.working_days == Decimal("5")  # Mon Tue Thu Fri Sat
    wed = ask(lv.users["cadre"], start=day(9), start_half="pm", end=day(9))
    assert wed.working_days == Decimal("0.5")  # a weekday, no row
    with pytest.raises(ValidationError) as exc:
        ask(lv.users["cadre"], start=day(13), end=day(13))  # Sunday
    assert zh(svc.refusal_message(exc.value)) == zh(_("There is no working day in this period."))


@pytest.mark.django_db
def test_only_rest_days_is_refused(lv):
    with pytest.raises(ValidationError):
        ask(lv.users["cadre"], start=day(5), end=day(6))
    assert not LeaveRequest.objects.exists()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start": day(1), "end": MON}, "end_date"),
        ({"start": MON, "start_half": "pm", "end": MON, "end_half": "am"}, "end_date"),
        ({"leave_type": ""}, "leave_type"),
        ({"leave_type": "旅游假"}, "leave_type"),
        ({"reason": "   "}, "reason"),
        ({"start_half": "noon"}, "start_half"),
        ({"start": MON, "end": day(400)}, "end_date"),
    ],
)
def test_bad_input_is_refused_by_field(lv, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        ask(lv.users["cadre"], **kwargs)
    assert field in exc.value.message_dict
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_business_with_a_leave_type_is_refused(lv):
    with pytest.raises(ValidationError) as exc:
        svc.leave_request_create(
            user=lv.users["cadre"],
            kind=LeaveKind.BUSINESS,
            leave_type="事假",
            start_date=MON,
            start_half="am",
            end_date=MON,
            end_half="pm",
            reason="开会",
        )
    assert "leave_type" in exc.value.message_dict


@pytest.mark.django_db
def test_a_request_must_fall_within_a_membership(lv):
    with pytest.raises(ValidationError):
        ask(lv.users["cadre"], start=datetime.date(2025, 12, 31), end=datetime.date(2026, 1, 2))
    membership = lv.cadre.memberships.get()
    membership.end_date = day(3)
    membership.end_reason = "完成轮换"
    membership.save()
    with pytest.raises(ValidationError):
        ask(lv.users["cadre"], start=day(3), end=day(4))
    assert ask(lv.users["cadre"], start=day(3), end=day(3)).working_days == 1


@pytest.mark.django_db
def test_who_cannot_ask(lv):
    with pytest.raises(PermissionDenied):
        ask(lv.users["township"])  # no permission to ask
    with pytest.raises(ValidationError):
        ask(make_user("nocadre", Role.CADRE))  # no cadre linked
    refused = AuditLog.objects.filter(success=False, detail__event=svc.EVENT_CREATE)
    assert refused.count() == 2


@pytest.mark.django_db
def test_overlapping_requests_are_refused(lv):
    first = ask(lv.users["cadre"], start=MON, end=day(1), end_half="am")
    for start, start_half, end, end_half in [
        (MON, "am", MON, "am"),
        (day(1), "am", day(1), "am"),
        (day(-3), "am", day(2), "pm"),  # surrounds it
    ]:
        with pytest.raises(ValidationError) as exc:
            ask(lv.users["cadre"], start=start, start_half=start_half, end=end, end_half=end_half)
        assert MON.isoformat() in svc.refusal_message(exc.value)
    # the next half is free
    second = ask(lv.users["cadre"], start=day(1), start_half="pm", end=day(1))
    assert second.working_days == Decimal("0.5")
    # withdrawn and rejected requests do not block
    svc.leave_withdraw(user=lv.users["cadre"], request=first)
    reject(lv.users["leader"], second)
    assert ask(lv.users["cadre"], start=MON, end=day(1)).working_days == 2
    # another cadre is not blocked
    assert ask(lv.users["cadre2"], start=MON, end=day(1)).working_days == 2


@pytest.mark.django_db
def test_approved_requests_block_too(lv):
    approved(lv, start=MON, end=MON)
    with pytest.raises(ValidationError):
        ask(lv.users["cadre"], start=MON, start_half="pm", end=MON)


# --- decisions: who may decide ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "actor", ["cadre", "cadre2", "township", "county", "leader2", "unit", "inspector", "sysadmin"]
)
def test_only_the_villages_leader_decides_first(lv, actor):
    req = ask(lv.users["cadre"])
    with pytest.raises(PermissionDenied):
        approve(lv.users[actor], req)
    req.refresh_from_db()
    assert req.status == LeaveStatus.PENDING_VILLAGE
    assert not req.decisions.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["leader", "other_township", "county", "cadre", "inspector"])
def test_only_the_applicants_township_decides_second(lv, actor):
    req = approve(lv.users["leader"], ask(lv.users["cadre"]))
    with pytest.raises(PermissionDenied):
        approve(lv.users[actor], req)
    assert approve(lv.users["township2"], req).status == LeaveStatus.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ["far_county", "township", "leader"])
def test_only_the_applicants_county_decides_last(lv, actor):
    req = ask(lv.users["cadre"], start=MON, end=day(4))
    req = approve(lv.users["township"], approve(lv.users["leader"], req))
    assert req.status == LeaveStatus.PENDING_COUNTY
    with pytest.raises(PermissionDenied):
        approve(lv.users[actor], req)
    assert approve(lv.users["county"], req).status == LeaveStatus.APPROVED


@pytest.mark.django_db
def test_an_approver_never_decides_their_own_request(lv):
    req = ask(lv.users["leader"])  # the first secretary asks for leave
    assert req.cadre == lv.leader_cadre
    with pytest.raises(PermissionDenied) as exc:
        approve(lv.users["leader"], req)
    assert str(exc.value) == str(_("You cannot decide on your own request."))
    assert not req.decisions.exists()


@pytest.mark.django_db
def test_scope_is_the_membership_of_the_request(lv):
    """A cadre moved from 一村 to 二村: 一村's leader does not decide the 二村 request."""
    membership = lv.cadre.memberships.get()
    membership.end_date = datetime.date(2026, 2, 27)
    membership.end_reason = "调整"
    membership.save()
    station(lv.cadre, lv.cadre2.memberships.get().team, start=datetime.date(2026, 2, 28))
    req = ask(lv.users["cadre"])
    assert req.membership.team.village == lv.world.other_village
    with pytest.raises(PermissionDenied):
        approve(lv.users["leader"], req)
    assert approve(lv.users["leader2"], req).status == LeaveStatus.PENDING_TOWNSHIP
    with pytest.raises(PermissionDenied):
        approve(lv.users["township"], req)
    assert approve(lv.users["other_township"], req).status == LeaveStatus.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["village", "township", "county"])
def test_a_rejection_needs_a_reason_and_ends_the_request(lv, level):
    req = ask(lv.users["cadre"], start=MON, end=day(4))
    actors = {"village": "leader", "township": "township", "county": "county"}
    for before in ("village", "township", "county"):
        if before == level:
            break
        req = approve(lv.users[actors[before]], req)
    with pytest.raises(ValidationError) as exc:
        reject(lv.users[actors[level]], req, reason="  ")
    assert "reason" in exc.value.message_dict
    req = reject(lv.users[actors[level]], req, reason="村里有检查")
    assert req.status == LeaveStatus.REJECTED and req.decided_at is not None
    last = req.decisions.last()
    assert (last.level, last.decision, last.reason) == (level, "reject", "村里有检查")
    for key in actors.values():
        with pytest.raises((ValidationError, PermissionDenied)):
            approve(lv.users[key], req)
    with pytest.raises(ValidationError):
        svc.leave_withdraw(user=lv.users["cadre"], request=req)
    req.refresh_from_db()
    assert req.status == LeaveStatus.REJECTED


@pytest.mark.django_db
def test_every_decision_is_in_the_audit_log(lv):
    req = ask(lv.users["cadre"])
    with pytest.raises(PermissionDenied):
        approve(lv.users["township"], req)
    req = approve(lv.users["leader"], req)
    req = approve(lv.users["township"], req)
    with pytest.raises(ValidationError):
        approve(lv.users["township"], req)
    rows = list(audit_rows(req).values_list("action", "username", "success", "detail"))
    assert rows[0][:3] == (AuditAction.OBJECT_CREATE, "cadre", True)
    assert rows[1][:3] == (AuditAction.PERMISSION_DENIED, "township", False)
    assert rows[1][3]["event"] == svc.EVENT_DECIDE and rows[1][3]["refused"]
    assert rows[2][:3] == (AuditAction.OBJECT_CHANGE, "leader", True)
    assert rows[2][3]["from"] == "pending_village" and rows[2][3]["to"] == "pending_township"
    assert rows[3][:3] == (AuditAction.OBJECT_CHANGE, "township", True)
    assert rows[3][3]["to"] == "approved"
    assert rows[4][:3] == (AuditAction.OBJECT_CHANGE, "township", False)
    assert len(rows) == 5


@pytest.mark.django_db
def test_the_database_keeps_one_decision_per_level(lv):
    from django.db import IntegrityError, transaction

    req = approve(lv.users["leader"], ask(lv.users["cadre"]))
    with pytest.raises(IntegrityError), transaction.atomic():
        LeaveDecision.objects.create(
            request=req, level="village", decision="approve", approver=lv.users["leader"]
        )


# --- withdraw -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdraw_only_while_not_final(lv):
    first = ask(lv.users["cadre"], start=MON, end=MON)
    assert svc.leave_withdraw(user=lv.users["cadre"], request=first).status == "withdrawn"
    second = approve(lv.users["leader"], ask(lv.users["cadre"], start=day(1), end=day(1)))
    assert svc.leave_withdraw(user=lv.users["cadre"], request=second).status == "withdrawn"
    with pytest.raises(ValidationError):
        approve(lv.users["township"], second)  # withdrawn is final
    third = approved(lv, start=day(2), end=day(2))
    with pytest.raises(ValidationError):
        svc.leave_withdraw(user=lv.users["cadre"], request=third)
    with pytest.raises(ValidationError):
        svc.leave_withdraw(user=lv.users["cadre"], request=first)  # already withdrawn
    third.refresh_from_db()
    assert third.status == LeaveStatus.APPROVED


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["cadre2", "leader", "township", "county"])
def test_only_the_applicant_withdraws(lv, who):
    req = ask(lv.users["cadre"])
    with pytest.raises(PermissionDenied):
        svc.leave_withdraw(user=lv.users[who], request=req)
    req.refresh_from_db()
    assert req.status == LeaveStatus.PENDING_VILLAGE
    assert audit_rows(req).filter(success=False, detail__event=svc.EVENT_WITHDRAW).exists()


# --- the return and the overdue flag -------------------------------------------------------


@pytest.mark.django_db
def test_report_the_return(lv, at):
    at(datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SH))
    req = approved(lv, start=MON, end=day(4))
    with pytest.raises(ValidationError):
        svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(9))  # future
    with pytest.raises(ValidationError):
        svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(-1))
    with pytest.raises(PermissionDenied):
        svc.leave_report_return(user=lv.users["leader"], request=req, returned_on=day(7))
    req = svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(7))
    assert req.returned_on == day(7)
    with pytest.raises(ValidationError):
        svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(8))
    assert audit_rows(req).filter(success=True, detail__event=svc.EVENT_RETURN).count() == 1


@pytest.mark.django_db
def test_only_approved_leave_is_reported_back(lv, at):
    at(datetime.datetime(2026, 3, 10, 9, 0, tzinfo=SH))
    req = ask(lv.users["cadre"])
    with pytest.raises(ValidationError):
        svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(1))


def _overdue(lv, today) -> set[int]:
    return set(
        svc.overdue_returns(county=lv.world.county, today=today).values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_overdue_after_three_days(lv):
    fri = day(4)
    req = approved(lv, start=MON, end=fri)
    business = ask(lv.users["cadre"], start=day(7), end=day(7), kind=LeaveKind.BUSINESS)
    business = approve(lv.users["township"], approve(lv.users["leader"], business))
    assert business.status == LeaveStatus.APPROVED
    assert _overdue(lv, fri + datetime.timedelta(days=3)) == set()  # Monday: still in time
    assert _overdue(lv, fri + datetime.timedelta(days=4)) == {req.pk}  # Tuesday: overdue
    # the flag on any queryset
    flags = dict(
        svc.with_overdue(LeaveRequest.objects.all(), fri + datetime.timedelta(days=4)).values_list(
            "pk", "is_overdue"
        )
    )
    assert flags == {req.pk: True, business.pk: False}
    # a pending request is never overdue
    pending = ask(lv.users["cadre"], start=day(14), end=day(14))
    assert pending.pk not in _overdue(lv, day(60))


@pytest.mark.django_db
def test_overdue_follows_the_county_setting(lv):
    req = approved(lv, start=MON, end=day(4))
    settings = AttendanceSettings.objects.create(county=lv.world.county, return_grace_days=5)
    assert _overdue(lv, day(4 + 5)) == set()
    assert _overdue(lv, day(4 + 6)) == {req.pk}
    settings.return_grace_days = 1
    settings.save()
    assert _overdue(lv, day(4 + 2)) == {req.pk}
    # another county's setting does not change ours
    settings.delete()
    AttendanceSettings.objects.create(county=lv.world.other_county, return_grace_days=30)
    assert _overdue(lv, day(4 + 3)) == set()
    assert _overdue(lv, day(4 + 4)) == {req.pk}


@pytest.mark.django_db
def test_reporting_the_return_clears_the_flag(lv, at):
    req = approved(lv, start=MON, end=day(4))
    assert _overdue(lv, day(20)) == {req.pk}
    at(datetime.datetime(2026, 3, 22, 9, 0, tzinfo=SH))
    svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(7))
    assert _overdue(lv, day(20)) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("moment", "overdue"),
    [
        # The leave ends Friday 03-06; with 3 days' grace the flag starts on 03-10 local.
        (datetime.datetime(2026, 3, 9, 23, 59, tzinfo=SH), False),
        (datetime.datetime(2026, 3, 10, 0, 1, tzinfo=SH), True),  # 03-09 16:01 UTC
        (datetime.datetime(2026, 3, 9, 7, 59, tzinfo=datetime.UTC), False),  # 15:59 local
        (datetime.datetime(2026, 3, 9, 16, 1, tzinfo=datetime.UTC), True),  # 00:01 local
    ],
)
def test_overdue_uses_the_local_day(lv, at, moment, overdue):
    req = approved(lv, start=MON, end=day(4))
    at(moment)
    assert (req.pk in _overdue(lv, timezone.localdate())) is overdue
    flagged = svc.with_overdue(LeaveRequest.objects.filter(pk=req.pk)).get().is_overdue
    assert flagged is overdue


@pytest.mark.django_db
def test_the_return_day_is_the_local_day(lv, at):
    req = approved(lv, start=MON, end=day(4))
    # 00:01 on 03-10 in Shanghai is still 03-09 in UTC: 03-10 is today, not the future
    at(datetime.datetime(2026, 3, 10, 0, 1, tzinfo=SH))
    assert svc.leave_report_return(
        user=lv.users["cadre"], request=req, returned_on=day(8)
    ).returned_on == day(8)


@pytest.mark.django_db
def test_the_return_day_cannot_be_tomorrow_at_23_59(lv, at):
    req = approved(lv, start=MON, end=day(4))
    at(datetime.datetime(2026, 3, 9, 23, 59, tzinfo=SH))
    with pytest.raises(ValidationError):
        svc.leave_report_return(user=lv.users["cadre"], request=req, returned_on=day(8))


# --- the cadre's pages -------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def form_data(**overrides) -> dict:
    data = {
        "kind": "leave",
        "leave_type": "病假",
        "start_date": MON.isoformat(),
        "start_half": "am",
        "end_date": day(1).isoformat(),
        "end_half": "pm",
        "reason": "感冒发烧",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_form_creates_a_request_with_an_attachment(lv, login, media):
    client = login(lv.users["cadre"])
    page = client.get(reverse("leave_create"))
    assert page.status_code == 200
    assert 'name="start_half"' in page.content.decode()
    upload = SimpleUploadedFile("诊断证明.pdf", PDF, content_type="application/pdf")
    response = csrf_post(client, reverse("leave_create"), form_data(attachment=upload))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("leave_list")
    req = LeaveRequest.objects.get()
    assert (req.cadre, req.leave_type, req.working_days) == (lv.cadre, "病假", Decimal("2"))
    assert req.attachment.name.endswith(".pdf") and "诊断" not in req.attachment.name
    listing = client.get(reverse("leave_list")).content.decode()
    assert "病假" in listing and reverse("leave_attachment", args=[req.pk]) in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("fake.pdf", b"<html><script>alert(1)</script></html>"),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024)),
    ],
)
def test_the_form_checks_the_attachments_content(lv, login, media, name, content):
    client = login(lv.users["cadre"])
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    response = csrf_post(client, reverse("leave_create"), form_data(attachment=upload))
    assert response.status_code == 200
    errors = response.context["form"].errors["attachment"]
    assert errors and not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_the_form_shows_the_services_refusals(lv, login):
    client = login(lv.users["cadre"])
    ask(lv.users["cadre"], start=MON, end=MON)
    response = csrf_post(client, reverse("leave_create"), form_data())
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    response = csrf_post(client, reverse("leave_create"), form_data(kind="leave", leave_type=""))
    assert response.context["form"].errors["leave_type"] == [zh(_("Choose a leave type."))]
    # official business: the leave type is ignored
    response = csrf_post(
        client,
        reverse("leave_create"),
        form_data(
            kind="business",
            leave_type="病假",
            start_date=day(7).isoformat(),
            end_date=day(7).isoformat(),
        ),
    )
    assert response.status_code == 302
    assert LeaveRequest.objects.get(kind="business").leave_type == ""


@pytest.mark.django_db
def test_the_form_needs_the_permission(lv, login):
    for key in ("township", "county", "unit", "inspector"):
        assert login(lv.users[key]).get(reverse("leave_create")).status_code == 403, key
    page = login(lv.users["leader"]).get(reverse("leave_create"))
    assert page.status_code == 200 and 'data-testid="no-cadre"' not in page.content.decode()
    lonely = login(make_user("lonely", Role.CADRE)).get(reverse("leave_create"))
    assert 'data-testid="no-cadre"' in lonely.content.decode()


@pytest.mark.django_db
def test_my_list_shows_my_requests_only(lv, login):
    mine = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=MON))
    theirs = ask(lv.users["cadre2"], start=MON, end=MON, reason="李四的事")
    page = login(lv.users["cadre"]).get(reverse("leave_list"))
    assert page.status_code == 200
    rows = [r.pk for r in page.context["page"]]
    assert rows == [mine.pk]
    html = page.content.decode()
    assert "李四的事" not in html
    assert f"withdraw-{mine.pk}" in html  # not final yet
    assert "leader" in html  # the village's decision and its approver
    # cadre2 sees theirs only
    assert [r.pk for r in login(lv.users["cadre2"]).get(reverse("leave_list")).context["page"]] == [
        theirs.pk
    ]


@pytest.mark.django_db
def test_my_list_flags_an_overdue_return(lv, login):
    req = approved(lv, start=MON, end=day(4))  # long past: the test clock is today
    page = login(lv.users["cadre"]).get(reverse("leave_list")).content.decode()
    assert 'data-testid="overdue"' in page
    assert f"return-{req.pk}" in page


@pytest.mark.django_db
def test_approvers_get_a_link_to_their_queue(lv, login):
    ask(lv.users["cadre"])
    leader = login(lv.users["leader"]).get(reverse("leave_list"))
    assert leader.context["waiting"] == 1
    assert reverse("admin:attendance_leaverequest_changelist") in leader.content.decode()
    township = login(lv.users["township"]).get(reverse("leave_list"))
    assert township.status_code == 200 and township.context["waiting"] == 0
    cadre = login(lv.users["cadre"]).get(reverse("leave_list")).content.decode()
    assert 'data-testid="approval-link"' not in cadre


@pytest.mark.django_db
def test_my_list_has_a_fixed_number_of_queries(lv, login, django_assert_max_num_queries):
    client = login(lv.users["cadre"])

    many(lv, 2, MON)
    with django_assert_max_num_queries(12) as small:
        assert client.get(reverse("leave_list")).status_code == 200
    many(lv, 20, day(14))
    with django_assert_max_num_queries(12) as large:
        assert client.get(reverse("leave_list")).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db
def test_withdraw_and_return_through_the_pages(lv, login, at):
    client = login(lv.users["cadre"])
    req = ask(lv.users["cadre"], start=MON, end=MON)
    response = csrf_post(client, reverse("leave_withdraw", args=[req.pk]))
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == LeaveStatus.WITHDRAWN
    # a second withdrawal is refused with a message, nothing changes
    response = csrf_post(client, reverse("leave_withdraw", args=[req.pk]), follow=True)
    assert any(m.level_tag == "error" for m in response.context["messages"])

    done = approved(lv, start=day(1), end=day(1))
    response = csrf_post(
        client, reverse("leave_return", args=[done.pk]), {"returned_on": day(2).isoformat()}
    )
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.returned_on == day(2)


@pytest.mark.django_db
def test_the_pages_need_csrf(lv, login):
    req = ask(lv.users["cadre"])
    client = login(lv.users["cadre"])
    assert client.post(reverse("leave_withdraw", args=[req.pk])).status_code == 403
    assert client.post(reverse("leave_create"), form_data()).status_code == 403
    req.refresh_from_db()
    assert req.status == LeaveStatus.PENDING_VILLAGE


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["leave_withdraw", "leave_return"])
@pytest.mark.parametrize("who", ["cadre2", "leader", "township", "county"])
def test_someone_elses_request_is_missing(lv, login, name, who):
    req = approved(lv, start=MON, end=MON)
    client = login(lv.users[who])
    other = csrf_post(client, reverse(name, args=[req.pk]), {"returned_on": MON.isoformat()})
    missing = csrf_post(client, reverse(name, args=[987654]), {"returned_on": MON.isoformat()})
    expected = 403 if who in ("township", "county") else 404  # no permission to ask at all
    assert other.status_code == missing.status_code == expected
    req.refresh_from_db()
    assert req.status == LeaveStatus.APPROVED and req.returned_on is None


@pytest.mark.django_db
def test_the_owner_withdraws_and_reports_through_the_pages_get_is_refused(lv, login):
    req = ask(lv.users["cadre"])
    client = login(lv.users["cadre"])
    assert client.get(reverse("leave_withdraw", args=[req.pk])).status_code == 405
    assert client.get(reverse("leave_return", args=[req.pk])).status_code == 405


@pytest.mark.django_db
def test_the_attachment_both_ways(lv, login, media):
    upload = SimpleUploadedFile("x.png", PNG, content_type="image/png")
    req = ask(lv.users["cadre"], attachment=upload)
    url = reverse("leave_attachment", args=[req.pk])
    missing = reverse("leave_attachment", args=[987654])
    for who in ("cadre", "leader", "township", "county"):
        response = login(lv.users[who]).get(url)
        assert response.status_code == 200, who
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == PNG
    for who in ("cadre2", "leader2", "other_township", "far_county", "unit", "inspector"):
        client = login(lv.users[who])
        assert client.get(url).status_code == client.get(missing).status_code == 404, who
    assert login(lv.users["sysadmin"]).get(url).status_code == 403
    # without an attachment: missing
    plain = ask(lv.users["cadre"], start=day(7), end=day(7))
    assert (
        login(lv.users["cadre"]).get(reverse("leave_attachment", args=[plain.pk])).status_code
        == 404
    )


@pytest.mark.django_db
def test_anonymous_users_go_to_the_login_page(lv, client):
    req = ask(lv.users["cadre"])
    for url in (
        reverse("leave_list"),
        reverse("leave_create"),
        reverse("leave_withdraw", args=[req.pk]),
        reverse("leave_return", args=[req.pk]),
        reverse("leave_attachment", args=[req.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.django_db
def test_the_list_page_by_role(lv, login):
    for key in ("cadre", "leader", "township", "county", "unit", "inspector"):
        assert login(lv.users[key]).get(reverse("leave_list")).status_code == 200, key
    for key in ("sysadmin", "secadmin", "auditadmin"):
        assert login(lv.users[key]).get(reverse("leave_list")).status_code == 403, key
