"""The monthly audit engine: every rule of attendance-rules.md ("Monthly audit")
with hand-computed figures, the time edge cases, re-runs, locking, the
scheduler's idempotence, and a randomised cross-check against a plain Python
reading of the rules.

March 2026 has 22 working days (2–6, 9–13, 16–20, 23–27, 30, 31) and no
public holiday; February 2026 has 16 (Spring Festival 15–23 February, make-up
working days on Saturday 14 and Saturday 28 February).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendance import audit
from attendance.audit import FIGURES, AuditLocked, MonthNotOver, audit_month, month_figures
from attendance.batches import batch_file, batch_reopen, batch_submit
from attendance.calendar import settings_for
from attendance.choices import BatchStatus, LeaveKind, LeaveStatus
from attendance.models import (
    AttendanceBatch,
    AttendanceSettings,
    HelpLog,
    LeaveRequest,
    MonthlyAttendance,
    SignIn,
    WorkDay,
)
from core.models import AuditLog
from teams.models import Team
from tests.teams.factories import make_cadre, make_team, station

TZ = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
MARCH = datetime.date(2026, 3, 1)
FEBRUARY = datetime.date(2026, 2, 1)
MARCH_WORKING = [2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30, 31]
D = Decimal


# --- helpers (also used by the other attendance test modules) --------------------------


def day(n: int, month: int = 3) -> datetime.date:
    return datetime.date(2026, month, n)


def local(d: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(d, datetime.time(hour, minute), tzinfo=TZ)


def half_of(when: datetime.datetime) -> str:
    """The rules' windows (the county defaults): 06:00–12:00, 12:00–22:00, local."""
    t = when.astimezone(TZ).time()
    if datetime.time(6) <= t < datetime.time(12):
        return "am"
    if datetime.time(12) <= t < datetime.time(22):
        return "pm"
    return ""


def sign(cadre, when: datetime.datetime, *, in_area=True, accepted=False, membership=None):
    """A stored sign-in as the sign-in service would store it: the local date and
    half of the server's time; counts when valid and the first valid of its half."""
    on = when.astimezone(TZ).date()
    half = half_of(when)
    valid = bool(half) and (in_area or accepted)
    counts = (
        valid and not SignIn.objects.filter(cadre=cadre, date=on, half=half, counts=True).exists()
    )
    return SignIn.objects.create(
        client_id=uuid.uuid4(),
        cadre=cadre,
        membership=membership,
        signed_at=when,
        date=on,
        half=half,
        in_area=in_area,
        accepted=accepted,
        accept_reason="在乡镇开会，经核实" if accepted else "",
        counts=counts,
    )


def both_halves(cadre, days):
    for d in days:
        sign(cadre, local(d, 8, 30))
        sign(cadre, local(d, 15, 30))


def leave(cadre, start, start_half, end, end_half, *, kind=LeaveKind.LEAVE, status=None):
    membership = cadre.memberships.order_by("-start_date").first()
    return LeaveRequest.objects.create(
        cadre=cadre,
        membership=membership,
        kind=kind,
        leave_type="事假" if kind == LeaveKind.LEAVE else "",
        start_date=start,
        start_half=start_half,
        end_date=end,
        end_half=end_half,
        working_days=D("1"),
        reason="家中有事" if kind == LeaveKind.LEAVE else "参加县里培训",
        status=status or LeaveStatus.APPROVED,
        final_level="township",
    )


def log(cadre, d):
    return HelpLog.objects.create(cadre=cadre, date=d, content="入户走访")


def team_of(village) -> Team:
    return Team.objects.filter(village=village, dissolved_on__isnull=True).first() or make_team(
        village
    )


def stationed(world, name="张三", *, village=None, start=datetime.date(2021, 3, 1), **fields):
    cadre = make_cadre(world.unit, name)
    station(cadre, team_of(village or world.village), start=start, **fields)
    return cadre


def figures_of(world, cadre, month=MARCH, **kwargs) -> dict:
    rows = [
        r
        for r in month_figures(county=world.county, month=month, **kwargs)
        if r["cadre_id"] == cadre.pk
    ]
    assert len(rows) == 1, rows
    return {k: rows[0][k] for k in FIGURES}


def expected(working, on_post=0, leave=0, absent=None, **counts) -> dict:
    working, on_post, leave = D(str(working)), D(str(on_post)), D(str(leave))
    result = {
        "working_days": working,
        "on_post_days": on_post,
        "leave_days": leave,
        "absent_days": working - on_post - leave if absent is None else D(str(absent)),
        "out_of_area": 0,
        "outside_hours": 0,
        "rest_day_signins": 0,
        "days_without_log": 0,
    }
    result.update(counts)
    return result


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache key prefix of the test's own (never cache.clear(): on Redis that
    would flush a database shared with the broker)."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def cadre(world):
    return stationed(world)


# --- days and halves ----------------------------------------------------------------


@pytest.mark.django_db
def test_no_sign_ins_is_absent_every_working_day(world, cadre):
    assert figures_of(world, cadre) == expected(22, absent=22)


@pytest.mark.django_db
def test_both_halves_every_working_day_with_logs(world, cadre):
    days = [day(n) for n in MARCH_WORKING]
    both_halves(cadre, days)
    for d in days:
        log(cadre, d)
    assert figures_of(world, cadre) == expected(22, on_post=22)


@pytest.mark.django_db
def test_half_days_count_half(world, cadre):
    sign(cadre, local(day(2), 8))  # morning only
    sign(cadre, local(day(3), 14))  # afternoon only
    both_halves(cadre, [day(4)])
    log(cadre, day(4))
    # 0.5 + 0.5 + 1 on post; three days with a counting sign-in, one with a log
    assert figures_of(world, cadre) == expected(22, on_post=2, days_without_log=2)


@pytest.mark.django_db
def test_repeats_count_once(world, cadre):
    sign(cadre, local(day(2), 8))
    sign(cadre, local(day(2), 9))  # a repeat in the same half
    sign(cadre, local(day(2), 11, 59))
    assert SignIn.objects.filter(counts=True).count() == 1
    assert figures_of(world, cadre) == expected(22, on_post=0.5, days_without_log=1)


# --- leave and official business ------------------------------------------------------


@pytest.mark.django_db
def test_leave_covers_halves_from_start_half_to_end_half(world, cadre):
    # Tuesday 10 afternoon to Thursday 12 morning: 10pm, 11am, 11pm, 12am
    leave(cadre, day(10), "pm", day(12), "am")
    assert figures_of(world, cadre) == expected(22, leave=2)


@pytest.mark.django_db
def test_a_valid_sign_in_during_leave_is_on_post(world, cadre):
    leave(cadre, day(10), "pm", day(12), "am")
    sign(cadre, local(day(11), 9))
    log(cadre, day(11))
    assert figures_of(world, cadre) == expected(22, on_post=0.5, leave=1.5)


@pytest.mark.django_db
def test_leave_over_a_weekend_counts_working_days_only(world, cadre):
    leave(cadre, day(13), "am", day(16), "pm")  # Friday to Monday
    assert figures_of(world, cadre) == expected(22, leave=2)


@pytest.mark.django_db
def test_a_single_half_day_leave(world, cadre):
    leave(cadre, day(17), "pm", day(17), "pm")
    assert figures_of(world, cadre) == expected(22, leave=0.5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [
        LeaveStatus.PENDING_VILLAGE,
        LeaveStatus.PENDING_TOWNSHIP,
        LeaveStatus.PENDING_COUNTY,
        LeaveStatus.REJECTED,
        LeaveStatus.WITHDRAWN,
    ],
)
def test_leave_not_approved_is_absent(world, cadre, status):
    leave(cadre, day(10), "am", day(10), "pm", status=status)
    assert figures_of(world, cadre) == expected(22, absent=22)


@pytest.mark.django_db
def test_official_business_counts_as_on_post(world, cadre):
    # Tuesday 17 morning to Wednesday 18 morning: three halves on post
    leave(cadre, day(17), "am", day(18), "am", kind=LeaveKind.BUSINESS)
    assert figures_of(world, cadre) == expected(22, on_post=1.5)


@pytest.mark.django_db
def test_business_and_a_sign_in_in_one_half_count_once(world, cadre):
    leave(cadre, day(17), "am", day(17), "am", kind=LeaveKind.BUSINESS)
    sign(cadre, local(day(17), 8))
    log(cadre, day(17))
    assert figures_of(world, cadre) == expected(22, on_post=0.5)


@pytest.mark.django_db
def test_business_over_leave_in_the_same_half_is_on_post(world, cadre):
    leave(cadre, day(17), "am", day(17), "pm")
    leave(cadre, day(17), "pm", day(17), "pm", kind=LeaveKind.BUSINESS)
    assert figures_of(world, cadre) == expected(22, on_post=0.5, leave=0.5)


@pytest.mark.django_db
def test_overlapping_leaves_count_each_half_once(world, cadre):
    leave(cadre, day(9), "am", day(10), "pm")
    leave(cadre, day(10), "am", day(11), "am")
    assert figures_of(world, cadre) == expected(22, leave=2.5)


@pytest.mark.django_db
def test_leave_reaching_into_the_next_month_counts_this_months_halves(world, cadre):
    leave(cadre, day(31), "pm", day(2, 4), "pm")
    assert figures_of(world, cadre) == expected(22, leave=0.5)
    april = figures_of(world, cadre, month=datetime.date(2026, 4, 1))
    assert april == expected(21, leave=2)


# --- the calendar ----------------------------------------------------------------------


@pytest.mark.django_db
def test_make_up_working_day_counts_and_a_holiday_does_not(world, cadre):
    sign(cadre, local(day(14, 2), 9))  # Saturday 14 February 2026: 调休上班
    sign(cadre, local(day(17, 2), 9))  # Tuesday 17 February: Spring Festival
    log(cadre, day(14, 2))
    assert figures_of(world, cadre, month=FEBRUARY) == expected(16, on_post=0.5, rest_day_signins=1)


@pytest.mark.django_db
def test_a_corrected_day_changes_the_audit(world, cadre):
    from attendance.calendar import calendar_set_day

    calendar_set_day(
        actor=world.users["county"], county=world.county, day=day(2), is_working=False, note="雪灾"
    )
    sign(cadre, local(day(2), 9))
    assert figures_of(world, cadre) == expected(21, rest_day_signins=1)


# --- memberships --------------------------------------------------------------------------


@pytest.mark.django_db
def test_membership_starting_mid_month(world):
    cadre = stationed(world, start=day(16))
    both_halves(cadre, [day(10)])  # before the start: not counted at all
    sign(cadre, local(day(16), 9))
    log(cadre, day(16))
    # 16–20, 23–27, 30, 31
    assert figures_of(world, cadre) == expected(12, on_post=0.5)


@pytest.mark.django_db
def test_membership_ending_mid_month(world):
    cadre = stationed(world, end_date=day(10), end_reason="完成轮换")
    sign(cadre, local(day(10), 15))
    log(cadre, day(10))
    sign(cadre, local(day(11), 9))  # after the end
    sign(cadre, local(day(14), 9))  # a rest day after the end
    # 2–6, 9, 10
    assert figures_of(world, cadre) == expected(7, on_post=0.5)


@pytest.mark.django_db
def test_a_move_to_another_village_gives_a_row_per_village(world):
    cadre = stationed(world, end_date=day(13), end_reason="调整")
    station(cadre, team_of(world.other_village), start=day(16))
    sign(cadre, local(day(13), 9))
    sign(cadre, local(day(16), 9))
    rows = {
        r["village_id"]: {k: r[k] for k in FIGURES}
        for r in month_figures(county=world.county, month=MARCH)
        if r["cadre_id"] == cadre.pk
    }
    assert rows[world.village.pk] == expected(10, on_post=0.5, days_without_log=1)
    assert rows[world.other_village.pk] == expected(12, on_post=0.5, days_without_log=1)


@pytest.mark.django_db
def test_a_role_change_in_the_same_village_counts_each_day_once(world):
    cadre = stationed(world, end_date=day(10), end_reason="调整")
    station(cadre, team_of(world.village), role="工作队长", start=day(10))
    sign(cadre, local(day(10), 9))
    log(cadre, day(10))
    assert figures_of(world, cadre) == expected(22, on_post=0.5)


# --- sign-in marks -----------------------------------------------------------------------


@pytest.mark.django_db
def test_out_of_area_not_accepted_counts_and_is_not_on_post(world, cadre):
    sign(cadre, local(day(2), 9), in_area=False)
    assert figures_of(world, cadre) == expected(22, out_of_area=1)


@pytest.mark.django_db
def test_out_of_area_accepted_is_on_post_and_not_counted(world, cadre):
    sign(cadre, local(day(3), 9), in_area=False, accepted=True)
    log(cadre, day(3))
    assert figures_of(world, cadre) == expected(22, on_post=0.5)


@pytest.mark.django_db
def test_out_of_area_then_in_area_in_one_half(world, cadre):
    sign(cadre, local(day(2), 8), in_area=False)
    sign(cadre, local(day(2), 8, 20))  # the first valid one counts
    log(cadre, day(2))
    assert figures_of(world, cadre) == expected(22, on_post=0.5, out_of_area=1)


@pytest.mark.django_db
def test_outside_hours(world, cadre):
    sign(cadre, local(day(2), 22, 30))
    sign(cadre, local(day(3), 5, 59))
    sign(cadre, local(day(4), 22, 0))  # 22:00 is already outside
    sign(cadre, local(day(5), 6, 0))  # 06:00 is inside
    log(cadre, day(5))
    assert figures_of(world, cadre) == expected(22, on_post=0.5, outside_hours=3)


@pytest.mark.django_db
def test_rest_day_sign_ins_count_days(world, cadre):
    sign(cadre, local(day(7), 9))  # Saturday, twice
    sign(cadre, local(day(7), 15))
    sign(cadre, local(day(8), 23), in_area=False)  # Sunday, outside hours and out of area
    # neither outside hours nor out of area is counted on a rest day
    assert figures_of(world, cadre) == expected(22, rest_day_signins=2)


@pytest.mark.django_db
def test_days_without_log(world, cadre):
    for n in (2, 3, 4):
        sign(cadre, local(day(n), 9))
    log(cadre, day(3))
    log(cadre, day(5))  # a log on a day without sign-ins changes nothing
    sign(cadre, local(day(6), 9), in_area=False)  # no counting sign-in on the 6th
    assert figures_of(world, cadre) == expected(22, on_post=1.5, out_of_area=1, days_without_log=2)


# --- time: the local day decides ----------------------------------------------------------


@pytest.mark.django_db
def test_sign_ins_at_23_59_and_00_01_local(world, cadre):
    late = sign(cadre, local(day(13), 23, 59))  # Friday, outside hours
    early = sign(cadre, local(day(14), 0, 1))  # Saturday; in UTC still Friday 16:01
    assert late.date == day(13) and late.half == ""
    assert early.signed_at.astimezone(UTC).date() == day(13)
    assert early.date == day(14) and early.half == ""
    assert figures_of(world, cadre) == expected(22, outside_hours=1, rest_day_signins=1)


@pytest.mark.django_db
def test_07_59_utc_is_the_afternoon_in_shanghai(world, cadre):
    when = datetime.datetime(2026, 3, 16, 7, 59, tzinfo=UTC)  # 15:59 local
    row = sign(cadre, when)
    log(cadre, day(16))
    assert (row.date, row.half, row.counts) == (day(16), "pm", True)
    assert figures_of(world, cadre) == expected(22, on_post=0.5)


@pytest.mark.django_db
def test_month_boundaries_are_local(world, cadre):
    sign(cadre, local(day(31), 23, 59))  # Tuesday 31 March, outside hours
    sign(cadre, local(day(1, 4), 0, 1))  # Wednesday 1 April (31 March in UTC)
    assert figures_of(world, cadre)["outside_hours"] == 1
    assert figures_of(world, cadre, month=datetime.date(2026, 4, 1))["outside_hours"] == 1


# --- month to date ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_upto_counts_only_days_to_date_and_saves_nothing(world, cadre):
    both_halves(cadre, [day(9), day(10), day(11)])
    got = figures_of(world, cadre, upto=day(10))
    assert got == expected(7, on_post=2, days_without_log=2)  # 2–6, 9, 10
    assert month_figures(county=world.county, month=MARCH, upto=day(28, 2)) == []
    assert not MonthlyAttendance.objects.exists()
    assert not AttendanceBatch.objects.exists()


@pytest.mark.django_db
def test_month_figures_by_township(world, cadre):
    other = stationed(world, "李四", village=world.other_village)
    only = month_figures(county=world.county, month=MARCH, townships=[world.other_township])
    assert [r["cadre_id"] for r in only] == [other.pk]
    both = month_figures(county=world.county, month=MARCH)
    assert {r["cadre_id"] for r in both} == {cadre.pk, other.pk}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_statements_settings_do_not_outlive_it(world, cadre):
    def current():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('work_mem'), current_setting('jit'),"
                " current_setting('enable_mergejoin'),"
                " current_setting('max_parallel_workers_per_gather')"
            )
            return cursor.fetchone()

    with transaction.atomic():  # a caller's transaction, e.g. the 200-day check
        before = current()
        month_figures(county=world.county, month=MARCH)
        assert current() == before


@pytest.mark.django_db
def test_other_counties_are_left_out_with_or_without_narrowing(world, cadre, monkeypatch):
    far = make_cadre(world.far_unit, "王五")
    station(far, team_of(world.far_village))
    sign(far, local(day(2), 9))
    sign(cadre, local(day(2), 9))
    narrow = month_figures(county=world.county, month=MARCH)
    monkeypatch.setattr(audit, "_single_county", lambda county_id: True)
    wide = month_figures(county=world.county, month=MARCH)
    assert narrow == wide
    assert [r["cadre_id"] for r in wide] == [cadre.pk]
    assert wide[0]["on_post_days"] == D("0.5")


# --- saving: replacing, locking, permissions ---------------------------------------------


def saved(month=MARCH):
    return sorted(
        MonthlyAttendance.objects.filter(month=month).values_list(
            "batch__township_id", "cadre_id", "village_id", *FIGURES, "subsidy"
        )
    )


@pytest.mark.django_db
def test_audit_month_saves_one_batch_per_township(world, cadre):
    stationed(world, "李四", village=world.other_village)
    both_halves(cadre, [day(2)])
    result = audit_month(actor=world.users["county"], county=world.county, month=MARCH)
    assert result["month"] == "2026-03" and result["rows"] == 2
    assert {(t["name"], t["rows"]) for t in result["townships"]} == {("甲镇", 1), ("乙镇", 1)}
    batches = AttendanceBatch.objects.filter(month=MARCH)
    assert {b.township_id: b.status for b in batches} == {
        world.township.pk: BatchStatus.DRAFT,
        world.other_township.pk: BatchStatus.DRAFT,
    }
    row = MonthlyAttendance.objects.get(cadre=cadre)
    assert row.batch.township_id == world.township.pk
    assert (row.working_days, row.on_post_days, row.absent_days) == (D("22"), D("1"), D("21"))
    assert row.subsidy == D("60.00")
    entries = AuditLog.objects.filter(object_type="attendance.attendancebatch")
    assert entries.count() == 2
    assert all(e.detail["what"] == "monthly_audit" for e in entries)


@pytest.mark.django_db
def test_running_twice_gives_identical_rows(world, cadre):
    both_halves(cadre, [day(2), day(3)])
    leave(cadre, day(4), "am", day(4), "pm")
    sign(cadre, local(day(7), 9))
    audit_month(actor=None, county=world.county, month=MARCH, via="command")
    first = saved()
    audit_month(actor=None, county=world.county, month=MARCH, via="command")
    assert saved() == first
    assert MonthlyAttendance.objects.count() == 1
    assert AttendanceBatch.objects.filter(month=MARCH).count() == 2


@pytest.mark.django_db
def test_a_re_run_replaces_the_months_rows(world, cadre):
    audit_month(actor=None, county=world.county, month=MARCH)
    sign(cadre, local(day(2), 9))
    audit_month(actor=None, county=world.county, month=MARCH)
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == D("0.5")
    assert MonthlyAttendance.objects.count() == 1


@pytest.mark.django_db
def test_a_re_run_keeps_unchanged_rows_and_drops_cadres_no_longer_there(world, cadre):
    other = stationed(world, "李四")
    audit_month(actor=None, county=world.county, month=MARCH)
    kept = MonthlyAttendance.objects.get(cadre=cadre).pk
    membership = other.memberships.get()
    membership.start_date = day(1, 4)  # corrected: stationed from April
    membership.save()
    audit_month(actor=None, county=world.county, month=MARCH)
    assert list(MonthlyAttendance.objects.values_list("pk", flat=True)) == [kept]
    entry = (
        AuditLog.objects.filter(
            detail__what="monthly_audit",
            object_id=str(AttendanceBatch.objects.get(township=world.township).pk),
        )
        .order_by("-pk")
        .first()
    )
    assert (entry.detail["rows"], entry.detail["written"], entry.detail["removed"]) == (1, 0, 1)


@pytest.mark.django_db
def test_subsidy_is_on_post_days_times_the_rate(world, cadre):
    both_halves(cadre, [day(n) for n in MARCH_WORKING[:10]])
    sign(cadre, local(day(30), 9))
    audit_month(actor=None, county=world.county, month=MARCH)
    assert MonthlyAttendance.objects.get(cadre=cadre).subsidy == D("630.00")  # 10.5 × 60
    entry = settings_for(county=world.county, create=True)
    entry.daily_rate = D("33.33")
    entry.save()
    audit_month(actor=None, county=world.county, month=MARCH)
    # 10.5 × 33.33 = 349.965, rounded half up
    assert MonthlyAttendance.objects.get(cadre=cadre).subsidy == D("349.97")


@pytest.mark.django_db
def test_one_township_only(world, cadre):
    stationed(world, "李四", village=world.other_village)
    result = audit_month(
        actor=world.users["county"], county=world.county, month=MARCH, township=world.township
    )
    assert [t["name"] for t in result["townships"]] == ["甲镇"]
    assert list(AttendanceBatch.objects.values_list("township_id", flat=True)) == [
        world.township.pk
    ]


@pytest.mark.django_db
def test_a_township_of_another_county_is_refused(world):
    with pytest.raises(audit.ValidationError):
        audit_month(actor=None, county=world.county, month=MARCH, township=world.far_township)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["township", "far_county", "inspector", "leader", "cadre"])
def test_only_the_county_office_runs_its_audit(world, who):
    with pytest.raises(PermissionDenied):
        audit_month(actor=world.users[who], county=world.county, month=MARCH)
    assert not AttendanceBatch.objects.exists()


@pytest.mark.django_db
def test_a_month_is_audited_once_it_has_ended(world):
    with pytest.raises(MonthNotOver):
        audit_month(actor=None, county=world.county, month=MARCH, today=day(31))
    with pytest.raises(MonthNotOver):
        audit_month(actor=None, county=world.county, month=MARCH, today=day(10))
    audit_month(actor=None, county=world.county, month=MARCH, today=day(1, 4))


@pytest.mark.django_db
def test_a_filed_month_is_locked_until_reopened(world, cadre):
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch)
    batch_file(actor=world.users["county"], batch=batch)
    before = saved()
    sign(cadre, local(day(2), 9))
    with pytest.raises(AuditLocked) as locked:
        audit_month(actor=world.users["county"], county=world.county, month=MARCH)
    assert "甲镇" in str(locked.value) and "2026-03" in str(locked.value)
    assert saved() == before
    # the other township is not touched either: nothing runs
    assert AttendanceBatch.objects.get(township=world.other_township).computed_at

    batch_reopen(actor=world.users["county"], batch=batch, reason="补录公出记录")
    entry = AuditLog.objects.filter(detail__step="reopen").get()
    assert entry.detail["reason"] == "补录公出记录" and entry.username == "county"
    audit_month(actor=world.users["county"], county=world.county, month=MARCH)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT and batch.reopened_count == 1
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == D("0.5")


@pytest.mark.django_db
def test_the_scheduled_run_skips_filed_townships(world, cadre):
    other = stationed(world, "李四", village=world.other_village)
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch)
    batch_file(actor=world.users["county"], batch=batch)
    sign(cadre, local(day(2), 9))
    sign(other, local(day(2), 9))
    result = audit_month(actor=None, county=world.county, month=MARCH, skip_filed=True)
    assert {t["name"]: t["skipped"] for t in result["townships"]} == {"甲镇": True, "乙镇": False}
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == 0
    assert MonthlyAttendance.objects.get(cadre=other).on_post_days == D("0.5")


@pytest.mark.django_db
def test_re_running_a_submitted_month_makes_it_a_draft_again(world, cadre):
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch)
    audit_month(actor=world.users["county"], county=world.county, month=MARCH)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT and batch.submitted_at is None
    entry = AuditLog.objects.filter(detail__what="monthly_audit", detail__status_before="submitted")
    assert entry.exists()


@pytest.mark.django_db
def test_progress_is_reported_per_township(world, cadre):
    calls = []
    audit_month(
        actor=None, county=world.county, month=MARCH, progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(0, 2), (1, 2), (2, 2)]


def _audit_queries(world) -> int:
    with CaptureQueriesContext(connection) as ctx:
        audit_month(actor=world.users["county"], county=world.county, month=MARCH)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_audit_runs_a_fixed_number_of_queries(world):
    cadre = stationed(world)
    both_halves(cadre, [day(2)])
    audit_month(actor=None, county=world.county, month=MARCH)  # seeds the calendar
    small = _audit_queries(world)
    for n in range(8):
        more = stationed(world, f"干部{n}", village=world.other_village if n % 2 else None)
        both_halves(more, [day(3), day(4)])
        leave(more, day(5), "am", day(6), "pm")
        log(more, day(3))
    assert _audit_queries(world) == small


@pytest.mark.django_db
def test_the_settings_row_is_not_needed(world, cadre):
    assert not AttendanceSettings.objects.exists()
    audit_month(actor=None, county=world.county, month=MARCH)
    assert not AttendanceSettings.objects.exists()


# --- the schedule -----------------------------------------------------------------------


@pytest.mark.django_db
def test_due_audits_follow_each_countys_day_and_hour(world):
    AttendanceSettings.objects.create(county=world.other_county, audit_day=5, audit_hour=3)
    first_at_two = local(day(1, 6), 2, 0)
    assert audit.due_audits(now=first_at_two) == [
        (world.county.pk, datetime.date(2026, 5, 1), first_at_two.isoformat())
    ]
    fifth = local(day(5, 6), 3, 0)
    assert [d[0] for d in audit.due_audits(now=fifth)] == [world.other_county.pk]
    assert audit.due_audits(now=local(day(5, 6), 4, 0)) == []


@pytest.mark.django_db
def test_a_duplicate_beat_run_in_the_same_hour_is_harmless(world):
    at = local(day(1, 4), 2, 0)
    due = audit.due_audits(now=at)
    assert [d[0] for d in due] == [world.county.pk, world.other_county.pk]
    audit.mark_dispatched(county_id=world.county.pk, month=MARCH, hour=due[0][2])
    assert [d[0] for d in audit.due_audits(now=at.replace(minute=30))] == [world.other_county.pk]
    audit.mark_dispatched(county_id=world.other_county.pk, month=MARCH, hour=due[1][2])
    assert audit.due_audits(now=at) == []
    # the next hour is another hour (and not the audit hour)
    assert audit.due_audits(now=at.replace(hour=3)) == []


@pytest.mark.django_db
def test_the_dispatcher_runs_the_month_before_once(
    world, cadre, django_capture_on_commit_callbacks
):
    from attendance.tasks import dispatch_monthly_audits

    sign(cadre, local(day(2), 9))
    at = local(day(1, 4), 2, 0)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_monthly_audits.apply(kwargs={"now_iso": at.isoformat()}).get()
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    stamp = batch.computed_at
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == D("0.5")
    assert AuditLog.objects.filter(detail__via="schedule").count() == 3  # 甲镇, 乙镇, 丙镇
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        dispatch_monthly_audits.apply(kwargs={"now_iso": at.isoformat()}).get()
    assert callbacks == []
    batch.refresh_from_db()
    assert batch.computed_at == stamp


@pytest.mark.django_db
def test_a_scheduled_job_already_done_this_hour_does_nothing(world, cadre):
    hour = local(day(1, 4), 2, 0)
    first = audit.run_audit_job(
        job_id=None,
        county_id=world.county.pk,
        month_iso="2026-03-01",
        scheduled_for=hour.isoformat(),
    )
    assert first["rows"] == 1
    stamp = AttendanceBatch.objects.get(township=world.township).computed_at
    again = audit.run_audit_job(
        job_id=None,
        county_id=world.county.pk,
        month_iso="2026-03-01",
        scheduled_for=hour.isoformat(),
    )
    assert again["skipped"] == "already computed"
    assert AttendanceBatch.objects.get(township=world.township).computed_at == stamp


@pytest.mark.django_db
def test_a_scheduled_job_counts_filed_townships_as_done(world, cadre):
    from django.utils import timezone

    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township)
    batch_submit(actor=world.users["township"], batch=batch)
    batch_file(actor=world.users["county"], batch=batch)
    hour = timezone.now()  # the months were computed before it: the job runs
    assert not audit.computed_since(county=world.county, month=MARCH, since=hour)
    result = audit.run_audit_job(
        job_id=None, county_id=world.county.pk, month_iso="2026-03", scheduled_for=hour.isoformat()
    )
    assert [t["skipped"] for t in result["townships"]] == [True, False]
    # the filed township counts as done
    assert audit.computed_since(county=world.county, month=MARCH, since=hour)


@pytest.mark.django_db
def test_redeliveries_are_capped(world, cadre):
    for _ in range(audit.MAX_ATTEMPTS):
        result = audit.run_audit_job(job_id="job-1", county_id=world.county.pk, month_iso="2026-03")
        assert result["rows"] == 1
    result = audit.run_audit_job(job_id="job-1", county_id=world.county.pk, month_iso="2026-03")
    assert result == {"skipped": "attempts"}
    assert audit.job_state("job-1")["state"] == "failed"


@pytest.mark.django_db
def test_a_job_on_a_filed_month_fails_with_the_message(world, cadre):
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township)
    batch_submit(actor=world.users["township"], batch=batch)
    batch_file(actor=world.users["county"], batch=batch)
    audit.job_start(job_id="job-2", county=world.county, user=world.users["county"], month=MARCH)
    result = audit.run_audit_job(
        job_id="job-2",
        county_id=world.county.pk,
        month_iso="2026-03",
        actor_id=world.users["county"].pk,
    )
    state = audit.job_state("job-2")
    assert state["state"] == "failed" and "甲镇" in state["message"]
    assert result["error"] == state["message"]


# --- the rules, read plainly, against the engine on random months ---------------------------


def reference(cadre, memberships, month_days, working, signins, leaves, logs) -> dict:
    """The rules for one cadre and one village, in Python, from plain rows."""
    covered = set()
    for m_start, m_end in memberships:
        covered |= {d for d in month_days if m_start <= d and (m_end is None or d <= m_end)}
    out = dict.fromkeys(FIGURES, 0)
    on = lv = wh = 0
    for d in sorted(covered):
        today = [s for s in signins if s.date == d]
        if not working[d]:
            out["rest_day_signins"] += 1 if today else 0
            continue
        counted = False
        for half in ("am", "pm"):
            wh += 1
            valid = any(s.counts and s.half == half for s in today)
            counted |= valid
            key = (d, half == "pm")
            kinds = {
                r.kind
                for r in leaves
                if r.status == LeaveStatus.APPROVED
                and (r.start_date, r.start_half == "pm") <= key <= (r.end_date, r.end_half == "pm")
            }
            if valid or LeaveKind.BUSINESS in kinds:
                on += 1
            elif LeaveKind.LEAVE in kinds:
                lv += 1
        out["out_of_area"] += sum(1 for s in today if not (s.in_area or s.accepted))
        out["outside_hours"] += sum(1 for s in today if s.half == "")
        out["days_without_log"] += 1 if counted and d not in logs else 0
    half = D("0.5")
    out.update(
        working_days=wh * half,
        on_post_days=on * half,
        leave_days=lv * half,
        absent_days=(wh - on - lv) * half,
    )
    return out


moments = st.tuples(
    st.integers(min_value=1, max_value=31),
    st.integers(min_value=0, max_value=23),
    st.sampled_from([0, 1, 59]),
    st.booleans(),
    st.booleans(),
)
leaves_strategy = st.tuples(
    st.integers(min_value=1, max_value=31),
    st.sampled_from(["am", "pm"]),
    st.integers(min_value=0, max_value=4),
    st.sampled_from(["am", "pm"]),
    st.sampled_from([LeaveKind.LEAVE, LeaveKind.BUSINESS]),
    st.sampled_from([LeaveStatus.APPROVED, LeaveStatus.APPROVED, LeaveStatus.REJECTED]),
)


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.integers(min_value=1, max_value=31),
    end=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
    stamps=st.lists(moments, max_size=25),
    requests=st.lists(leaves_strategy, max_size=4),
    logged=st.sets(st.integers(min_value=1, max_value=31), max_size=15),
)
def test_the_engine_agrees_with_the_rules_read_plainly(world, start, end, stamps, requests, logged):
    month_days = [day(n) for n in range(1, 32)]
    with transaction.atomic():
        first = day(start)
        last = None if end is None else day(max(start, end))
        cadre = stationed(world, start=first, end_date=last, end_reason="完成轮换" if last else "")
        for n, hour, minute, in_area, accepted in stamps:
            sign(
                cadre,
                local(day(n), hour, minute),
                in_area=in_area,
                accepted=accepted and not in_area,
            )
        for n, sh, length, eh, kind, status in requests:
            s_day = day(n)
            e_day = min(day(31), s_day + datetime.timedelta(days=length))
            if e_day == s_day and sh == "pm":
                eh = "pm"
            leave(cadre, s_day, sh, e_day, eh, kind=kind, status=status)
        for n in logged:
            log(cadre, day(n))
        got = month_figures(county=world.county, month=MARCH)
        working = dict(
            WorkDay.objects.filter(county=world.county, date__month=3, date__year=2026).values_list(
                "date", "is_working"
            )
        )
        want = reference(
            cadre,
            [(first, last)],
            month_days,
            working,
            list(SignIn.objects.filter(cadre=cadre, date__month=3)),
            list(LeaveRequest.objects.filter(cadre=cadre)),
            set(HelpLog.objects.filter(cadre=cadre).values_list("date", flat=True)),
        )
        assert len(got) == 1
        assert {k: got[0][k] for k in FIGURES} == want
        transaction.set_rollback(True)
