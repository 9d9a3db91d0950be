"""The 200-day rule, with hand-computed expectations.

The official calendar of 2026 (State Council notice, as in chinese_calendar)
has 248 working days; per month:

    Jan 21  Feb 16  Mar 22  Apr 21  May 19  Jun 21
    Jul 23  Aug 21  Sep 22  Oct 18  Nov 21  Dec 23

so January–June has 120, July–December 128, January–November 225. 2026-07-01
is a Wednesday (July 1, 2, 3 and 6 are its first four working days) and
2026-11-24 a Tuesday (November 25, 26, 27 and 30 are the working days left in
November after it).
"""

from __future__ import annotations

import datetime
import io
import threading
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attendance import onpost
from attendance.choices import OnPostStatus
from attendance.models import (
    AttendanceBatch,
    AttendanceSettings,
    MonthlyAttendance,
    OnPostCheck,
    SignIn,
)
from attendance.tasks import dispatch_on_post_checks, on_post_check_task
from attendance.tasks_onpost import due_checks
from core.models import AuditLog
from teams.choices import EndReason
from tests.factories import make_county
from tests.teams.factories import make_cadre, make_team, station

LOCAL = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
Y = 2026
WORKING_2026 = [21, 16, 22, 21, 19, 21, 23, 21, 22, 18, 21, 23]
D = datetime.date
STATIONED = D(2021, 3, 1)
MET, ON_TRACK, AT_RISK = OnPostStatus.MET, OnPostStatus.ON_TRACK, OnPostStatus.AT_RISK

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The schedule claims a county once per hour in the cache."""
    cache.clear()
    yield
    cache.clear()


def cadre_in(world, name="张三", village=None, start=STATIONED, end=None, unit=None):
    village = village or world.village
    team = village.teams.first() or make_team(village)
    cadre = make_cadre(unit or world.unit, name)
    extra = {"end_date": end, "end_reason": EndReason.ROTATION} if end else {}
    membership = station(cadre, team, start=start, **extra)
    return cadre, membership


def rollup(cadre, village, month: int, on_post: Decimal | int | str, year: int = Y):
    """One month's audit row, as the monthly audit would have filed it."""
    first = D(year, month, 1)
    batch, _ = AttendanceBatch.objects.get_or_create(
        township_id=village.township_id, month=first, defaults={"computed_at": timezone.now()}
    )
    working = Decimal(WORKING_2026[month - 1])
    on_post = Decimal(on_post)
    return MonthlyAttendance.objects.create(
        batch=batch,
        cadre=cadre,
        village=village,
        month=first,
        working_days=working,
        on_post_days=on_post,
        leave_days=Decimal(0),
        absent_days=working - on_post,
        out_of_area=0,
        outside_hours=0,
        rest_day_signins=0,
        days_without_log=0,
        subsidy=on_post * 60,
    )


def rollups(cadre, village, total, months=range(1, 12)):
    """Months of rollups adding up to ``total`` on-post days (each month full
    until the total is reached, then zeros)."""
    left = Decimal(total)
    for month in months:
        here = min(Decimal(WORKING_2026[month - 1]), left)
        rollup(cadre, village, month, here)
        left -= here
    assert left == 0


def signed(cadre, membership, day: D, half: str = "am"):
    hour = 9 if half == "am" else 15
    return SignIn.objects.create(
        client_id=uuid.uuid4(),
        cadre=cadre,
        membership=membership,
        village=membership.team.village,
        signed_at=datetime.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL),
        date=day,
        half=half,
        latitude=Decimal("43.600000"),
        longitude=Decimal("121.300000"),
        distance_m=0,
        in_area=True,
        counts=True,
    )


def check(world, as_of, year=Y):
    onpost.check_on_post(county=world.county, year=year, as_of=as_of)
    return {c.cadre_id: c for c in OnPostCheck.objects.filter(year=year)}


# --- the pieces of the rule ----------------------------------------------------------


def test_required_rounds_half_up():
    assert onpost.required_for(required=200, membership_days=248, year_days=248) == 200
    assert onpost.required_for(required=200, membership_days=128, year_days=248) == 103
    assert onpost.required_for(required=201, membership_days=124, year_days=248) == 101
    assert onpost.required_for(required=199, membership_days=124, year_days=248) == 100
    assert onpost.required_for(required=200, membership_days=0, year_days=248) == 0


def test_status_boundaries():
    status = onpost.status_of
    assert status(required_days=200, on_post_days=Decimal(200), remaining_working_days=0) == MET
    assert status(required_days=200, on_post_days=Decimal(200), remaining_working_days=9) == MET
    assert (
        status(required_days=200, on_post_days=Decimal("199.5"), remaining_working_days=0)
        == AT_RISK
    )
    assert status(required_days=200, on_post_days=Decimal(176), remaining_working_days=23) == (
        AT_RISK
    )
    assert status(required_days=200, on_post_days=Decimal(177), remaining_working_days=23) == (
        ON_TRACK
    )


def test_weekly_needed_per_remaining_week():
    needed = onpost.weekly_needed
    # 50 days short, 23 working days left: 50 × 5 ÷ 23 = 10.869… → 10.9 (up)
    assert needed(required_days=200, on_post_days=Decimal(150), remaining_working_days=23) == (
        Decimal("10.9")
    )
    # 20 short: 20 × 5 ÷ 23 = 4.347… → 4.4
    assert needed(required_days=200, on_post_days=Decimal(180), remaining_working_days=23) == (
        Decimal("4.4")
    )
    # exactly a working week each week: 23 short of 23 days → 5.0, on track
    assert needed(required_days=200, on_post_days=Decimal(177), remaining_working_days=23) == (
        Decimal("5.0")
    )
    # half a day too many: 23.5 × 5 ÷ 23 = 5.108… → 5.2, at risk
    assert needed(
        required_days=200, on_post_days=Decimal("176.5"), remaining_working_days=23
    ) == Decimal("5.2")
    assert needed(required_days=200, on_post_days=Decimal(201), remaining_working_days=0) == (
        Decimal("0.0")
    )
    assert needed(required_days=200, on_post_days=Decimal(10), remaining_working_days=0) is None


def test_merge_spans_joins_touching_and_overlapping():
    spans = [(D(Y, 4, 1), D(Y, 6, 30)), (D(Y, 1, 1), D(Y, 3, 31)), (D(Y, 6, 30), D(Y, 7, 5))]
    assert onpost.merge_spans(spans) == [(D(Y, 1, 1), D(Y, 7, 5))]
    apart = [(D(Y, 1, 1), D(Y, 1, 31)), (D(Y, 3, 1), D(Y, 3, 2))]
    assert onpost.merge_spans(apart) == apart


# --- memberships --------------------------------------------------------------------


def test_full_year_membership(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 150)
    row = check(world, D(Y, 11, 30))[cadre.pk]
    assert row.required_days == 200
    assert row.on_post_days == Decimal(150)
    assert row.remaining_working_days == 23  # December
    assert row.status == AT_RISK  # 150 + 23 < 200
    assert (row.as_of, row.township_id, row.village_id) == (
        D(Y, 11, 30),
        world.township.pk,
        world.village.pk,
    )


def test_membership_starting_mid_year_is_pro_rated(world):
    cadre, _ = cadre_in(world, start=D(Y, 7, 1))
    rollups(cadre, world.village, 90, months=range(7, 12))
    row = check(world, D(Y, 11, 30))[cadre.pk]
    # 200 × 128 ÷ 248 = 103.2… → 103
    assert row.required_days == 103
    assert row.remaining_working_days == 23
    assert row.status == ON_TRACK  # 90 + 23 ≥ 103


def test_pro_rating_exactly_half_rounds_up(world):
    AttendanceSettings.objects.create(county=world.county, required_days=201)
    cadre, _ = cadre_in(world, start=D(Y, 7, 7))
    row = check(world, D(Y, 11, 30))[cadre.pk]
    # July 7 – December 31: 128 − 4 = 124 working days; 201 × 124 ÷ 248 = 100.5 → 101
    # (half to even would give 100)
    assert row.required_days == 101


def test_membership_ending_mid_year(world):
    cadre, _ = cadre_in(world, end=D(Y, 6, 30))
    rollups(cadre, world.village, 95, months=range(1, 7))
    row = check(world, D(Y, 9, 30))[cadre.pk]
    # 200 × 120 ÷ 248 = 96.77… → 97; nothing remains after the end
    assert row.required_days == 97
    assert row.remaining_working_days == 0
    assert row.on_post_days == Decimal(95)
    assert row.status == AT_RISK


def test_ended_membership_counts_no_remaining_days_even_before_the_year_ends(world):
    cadre, _ = cadre_in(world, end=D(Y, 11, 24))
    row = check(world, D(Y, 11, 24))[cadre.pk]
    assert row.remaining_working_days == 0


def test_several_memberships_count_their_union_once(world):
    cadre, first = cadre_in(world, end=D(Y, 3, 31))
    team = make_team(world.other_village)
    # moved to another village on the day the first membership ended
    station(cadre, team, start=D(Y, 3, 31))
    row = check(world, D(Y, 11, 24))[cadre.pk]
    assert row.required_days == 200
    assert row.remaining_working_days == 27  # Nov 25, 26, 27, 30 + December's 23
    # where the cadre is on the day of the check
    assert (row.township_id, row.village_id) == (world.other_township.pk, world.other_village.pk)


def test_a_gap_between_memberships_is_not_required(world):
    cadre, _ = cadre_in(world, end=D(Y, 6, 30))
    station(cadre, make_team(world.other_village), start=D(Y, 9, 1))
    row = check(world, D(Y, 7, 15))[cadre.pk]
    # within memberships: Jan–Jun 120 + Sep–Dec 84 = 204; 200 × 204 ÷ 248 = 164.5… → 165
    assert row.required_days == 165
    # from tomorrow: only September to December count (84)
    assert row.remaining_working_days == 84
    # not yet in the new village: the last membership before the day
    assert row.village_id == world.village.pk


def test_remaining_days_start_tomorrow(world):
    cadre, _ = cadre_in(world)
    assert check(world, D(Y, 11, 24))[cadre.pk].remaining_working_days == 27
    # a Friday: the weekend is not working, Monday is
    assert check(world, D(Y, 11, 27))[cadre.pk].remaining_working_days == 24
    assert check(world, D(Y, 12, 31))[cadre.pk].remaining_working_days == 0


def test_remaining_days_of_a_membership_ending_this_year(world):
    cadre, _ = cadre_in(world, end=D(Y, 12, 4))  # a Friday
    # Nov 25, 26, 27, 30, Dec 1, 2, 3, 4
    assert check(world, D(Y, 11, 24))[cadre.pk].remaining_working_days == 8


# --- status boundaries, stored --------------------------------------------------------


def test_met_exactly_at_required(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 200)
    assert check(world, D(Y, 11, 30))[cadre.pk].status == MET


def test_at_risk_when_short_by_one(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 176)  # 176 + 23 = 199 < 200
    row = check(world, D(Y, 11, 30))[cadre.pk]
    assert row.status == AT_RISK
    assert onpost.weekly_needed(
        required_days=row.required_days,
        on_post_days=row.on_post_days,
        remaining_working_days=row.remaining_working_days,
    ) == Decimal("5.3")  # 24 × 5 ÷ 23 = 5.21… → 5.3


def test_on_track_when_every_remaining_day_is_needed(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 177)  # 177 + 23 = 200
    assert check(world, D(Y, 11, 30))[cadre.pk].status == ON_TRACK


def test_half_a_day_short_is_at_risk(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, "176.5")
    assert check(world, D(Y, 11, 30))[cadre.pk].status == AT_RISK


# --- where the on-post days come from ---------------------------------------------------


def test_past_months_come_from_the_rollups_not_the_sign_ins(world):
    cadre, membership = cadre_in(world)
    rollup(cadre, world.village, 1, 3)
    for day in (D(Y, 1, 5), D(Y, 1, 6), D(Y, 1, 7), D(Y, 1, 8), D(Y, 1, 9)):
        signed(cadre, membership, day, "am")
        signed(cadre, membership, day, "pm")
    # January has a batch: its rollup (3 days) counts, not the 5 days of sign-ins
    assert check(world, D(Y, 1, 31))[cadre.pk].on_post_days == Decimal(3)


def test_a_month_without_a_batch_is_computed_and_not_saved(world):
    cadre, membership = cadre_in(world)
    other, _ = cadre_in(world, "李四", village=world.other_village)
    rollup(cadre, world.village, 1, 10)
    rollup(other, world.other_village, 1, 20)
    rollup(other, world.other_village, 2, 16)
    # February of 甲镇 was not audited yet: two full days and a morning in it
    signed(cadre, membership, D(Y, 2, 2), "am")
    signed(cadre, membership, D(Y, 2, 2), "pm")
    signed(cadre, membership, D(Y, 2, 3), "am")
    signed(cadre, membership, D(Y, 2, 3), "pm")
    signed(cadre, membership, D(Y, 2, 4), "am")
    batches = AttendanceBatch.objects.count()
    rows = check(world, D(Y, 2, 28))
    assert rows[cadre.pk].on_post_days == Decimal("12.5")
    assert rows[other.pk].on_post_days == Decimal(36)
    assert AttendanceBatch.objects.count() == batches
    assert not MonthlyAttendance.objects.filter(month=D(Y, 2, 1), cadre=cadre).exists()


def test_the_month_to_date_comes_from_the_sign_ins(world):
    cadre, membership = cadre_in(world)
    rollups(cadre, world.village, 180)
    signed(cadre, membership, D(Y, 12, 1), "am")
    signed(cadre, membership, D(Y, 12, 1), "pm")
    signed(cadre, membership, D(Y, 12, 2), "am")
    signed(cadre, membership, D(Y, 12, 3), "am")  # after the day of the check
    row = check(world, D(Y, 12, 2))[cadre.pk]
    assert row.on_post_days == Decimal("181.5")
    assert row.remaining_working_days == 21  # December 3 to 31


def test_query_count_does_not_grow_with_months(world, django_assert_max_num_queries):
    cadres = [cadre_in(world, f"队员{i}")[0] for i in range(3)]
    for cadre in cadres:
        rollups(cadre, world.village, 150)
    counts = []
    for as_of in (D(Y, 2, 28), D(Y, 6, 30), D(Y, 11, 30)):
        onpost.check_on_post(county=world.county, year=Y, as_of=as_of)  # calendar seeded
        with CaptureQueriesContext(connection) as queries:
            onpost.check_on_post(county=world.county, year=Y, as_of=as_of)
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2], counts
    with django_assert_max_num_queries(counts[0]):
        onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 11, 30))
    # and not with cadres either (one upsert statement for up to 2,000 rows)
    for i in range(20):
        rollups(cadre_in(world, f"新队员{i}")[0], world.village, 100)
    with django_assert_max_num_queries(counts[0]):
        onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 11, 30))


def test_sign_ins_of_ended_months_are_not_read(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 150)
    onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 11, 30))
    signin_table = SignIn._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 11, 30))
    assert not [q for q in queries if signin_table in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 12, 2))
    # one statement for the month to date (December 1st to the 2nd)
    assert len([q for q in queries if signin_table in q["sql"]]) == 1


# --- storing ---------------------------------------------------------------------------


def test_running_twice_replaces_the_same_rows(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 150)
    first = check(world, D(Y, 11, 30))[cadre.pk]
    second = check(world, D(Y, 11, 30))[cadre.pk]
    assert OnPostCheck.objects.count() == 1
    fields = ("required_days", "on_post_days", "remaining_working_days", "status", "as_of")
    assert [getattr(first, f) for f in fields] == [getattr(second, f) for f in fields]
    assert first.pk == second.pk


def test_a_later_check_replaces_and_drops_cadres_no_longer_covered(world):
    stays, _ = cadre_in(world)
    leaves, membership = cadre_in(world, "李四")
    check(world, D(Y, 3, 31))
    assert OnPostCheck.objects.count() == 2
    # the membership was entered by mistake and moved to next year
    membership.start_date = D(Y + 1, 1, 1)
    membership.save(update_fields=["start_date"])
    rows = check(world, D(Y, 4, 30))
    assert set(rows) == {stays.pk}
    assert rows[stays.pk].as_of == D(Y, 4, 30)


def test_other_counties_keep_their_rows(world):
    here, _ = cadre_in(world)
    there, _ = cadre_in(world, "王五", village=world.far_village, unit=world.far_unit)
    onpost.check_on_post(county=None, year=Y, as_of=D(Y, 3, 31))
    onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 4, 30))
    rows = {r.cadre_id: r.as_of for r in OnPostCheck.objects.all()}
    assert rows == {here.pk: D(Y, 4, 30), there.pk: D(Y, 3, 31)}


def test_the_check_is_an_audit_row(world):
    cadre_in(world)
    result = onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 3, 31), via="command")
    entry = AuditLog.objects.get(detail__what="on_post_check")
    assert entry.username == "[command]"
    assert entry.detail["year"] == Y and entry.detail["rows"] == 1
    # nothing on post in January–March (59 working days): 0 + 189 < 200
    assert result[0]["at_risk"] == 1


# --- years and days ---------------------------------------------------------------------


def test_year_just_ended_is_checked_as_of_december_31(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 200, months=range(1, 13))
    rows = check(world, D(Y + 1, 1, 1))
    assert rows[cadre.pk].as_of == D(Y, 12, 31)
    assert rows[cadre.pk].remaining_working_days == 0
    assert rows[cadre.pk].status == MET


def test_a_check_cannot_be_as_of_a_day_before_its_year(world):
    with pytest.raises(ValidationError):
        onpost.check_on_post(county=world.county, year=Y, as_of=D(Y - 1, 12, 31))


def test_default_day_is_the_local_date(world, monkeypatch):
    cadre, _ = cadre_in(world)
    # 23:59 local on the 24th is 15:59 UTC
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(Y, 11, 24, 15, 59, tzinfo=UTC))
    onpost.check_on_post(county=world.county, year=Y)
    row = OnPostCheck.objects.get(cadre=cadre)
    assert (row.as_of, row.remaining_working_days) == (D(Y, 11, 24), 27)
    # 00:01 local on the 25th is still the 24th in UTC
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(Y, 11, 24, 16, 1, tzinfo=UTC))
    onpost.check_on_post(county=world.county, year=Y)
    row.refresh_from_db()
    assert (row.as_of, row.remaining_working_days) == (D(Y, 11, 25), 26)


def test_a_past_year_defaults_to_december_31(world, monkeypatch):
    cadre_in(world)
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(Y + 1, 3, 1, 2, tzinfo=UTC))
    onpost.check_on_post(county=world.county, year=Y)
    assert OnPostCheck.objects.get().as_of == D(Y, 12, 31)


# --- schedule, task, command ---------------------------------------------------------


def test_due_on_the_county_weekday_and_hour_as_of_yesterday(world):
    empty = make_county("空县")  # no settings: Monday 03:00, the defaults
    AttendanceSettings.objects.create(county=world.county, check_weekday=2, check_hour=7)
    # Monday 2026-11-30 03:05 local is Sunday 19:05 UTC
    due = due_checks(now=datetime.datetime(Y, 11, 29, 19, 5, tzinfo=UTC))
    assert due == [(world.other_county.pk, Y, "2026-11-29"), (empty.pk, Y, "2026-11-29")]
    # Wednesday 06:59 local (Tuesday 22:59 UTC) is not the county's hour yet…
    assert not due_checks(now=datetime.datetime(Y, 12, 1, 22, 59, tzinfo=UTC))
    # …07:59 local (Tuesday 23:59 UTC, still Tuesday in UTC) is
    due = due_checks(now=datetime.datetime(Y, 12, 1, 23, 59, tzinfo=UTC))
    assert due == [(world.county.pk, Y, "2026-12-01")]


def test_january_first_checks_the_year_just_ended(world):
    AttendanceSettings.objects.create(county=world.county, check_weekday=0, check_hour=3)
    # Friday 2027-01-01 03:05 local
    due = due_checks(now=datetime.datetime(Y, 12, 31, 19, 5, tzinfo=UTC))
    assert (world.county.pk, Y, "2026-12-31") in due
    # another Friday is not due
    assert not [
        d
        for d in due_checks(now=datetime.datetime(Y + 1, 1, 7, 19, 5, tzinfo=UTC))
        if d[0] == world.county.pk
    ]


def test_a_county_is_claimed_once_per_hour(world):
    monday = datetime.datetime(Y, 11, 29, 19, 5, tzinfo=UTC)
    assert [c for c, _, _ in due_checks(now=monday)] == [world.county.pk, world.other_county.pk]
    assert due_checks(now=monday.replace(minute=40)) == []


def test_dispatch_queues_after_commit(world, monkeypatch, django_capture_on_commit_callbacks):
    cadre_in(world)
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(Y, 11, 29, 19, 5, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        due = dispatch_on_post_checks.delay().get()
    assert len(callbacks) == len(due) == 2
    assert OnPostCheck.objects.get().as_of == D(Y, 11, 29)


def test_task_is_idempotent(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 150)
    first = on_post_check_task.delay(world.county.pk, Y, "2026-11-30").get()
    second = on_post_check_task.delay(world.county.pk, Y, "2026-11-30").get()
    assert first["at_risk"] == second["at_risk"] == 1
    assert OnPostCheck.objects.count() == 1


def test_command_prints_counts_per_status(world):
    cadre, _ = cadre_in(world)
    rollups(cadre, world.village, 200)
    cadre_in(world, "李四")
    out = io.StringIO()
    call_command("check_on_post", year=Y, as_of="2026-11-30", county="测试县", stdout=out)
    text = out.getvalue()
    assert "测试县 2026年（截至 2026-11-30）：2 人" in text
    assert (
        "有风险（at_risk）1" in text and "已达标（met）1" in text and "可达标（on_track）0" in text
    )


def test_command_refuses_bad_input(world):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("check_on_post", year=Y, as_of="30/11/2026", stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有名为"):
        call_command("check_on_post", year=Y, county="无此县", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("check_on_post", year=Y, as_of="2025-12-31", stdout=io.StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_runs_of_a_county_leave_one_row_per_cadre(world):
    cadres = [cadre_in(world, f"队员{i}")[0] for i in range(5)]
    for cadre in cadres:
        rollups(cadre, world.village, 150)
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            onpost.check_on_post(county=world.county, year=Y, as_of=D(Y, 11, 30))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    rows = OnPostCheck.objects.filter(year=Y)
    assert rows.count() == 5
    assert set(rows.values_list("status", flat=True)) == {AT_RISK}
    assert AuditLog.objects.filter(detail__what="on_post_check").count() == 4
