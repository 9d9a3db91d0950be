"""Attendance scenarios computed by hand from attendance-rules.md alone, run
end to end through the real services (sign-in, help log, leave and its
approvals, adjust and recall, township acceptance) and then the audit and the
200-day check.

The month is October 2025, by the State Council's calendar (the package the
county's calendar is seeded from):

* National Day and Mid-Autumn: 1–8 October are rest days (1–3 and 6–8 are
  weekdays off);
* Saturday 11 October is a make-up working day (调休上班), and so is Sunday
  28 September;
* so October has 18 working days: 9, 10, 11 (Sat), 13–17, 20–24, 27–31;
  September has 23 (22 weekdays + Sunday the 28th); 2025 has 248.

The village point is (43.6, 121.3) with a radius of 1000 m; a point "n metres
north" is n / (2πR / 360) degrees of latitude north of it, so its great-circle
distance is n metres.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from attendance import geo, signins
from attendance import leave as leave_svc
from attendance.audit import FIGURES, month_figures
from attendance.choices import ApprovalLevel, LeaveKind, LeaveStatus
from attendance.helplogs import helplog_save
from attendance.models import AttendanceSettings, SignIn
from attendance.onpost import compute_year
from core.choices import Role
from teams import services as team_svc
from tests.factories import make_user
from tests.teams.factories import make_cadre, make_team, station

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
D = Decimal
POINT = (43.6, 121.3)
METRES_PER_DEGREE = 2 * 3.141592653589793 * geo.EARTH_RADIUS_M / 360
SEP = datetime.date(2025, 9, 1)
OCT = datetime.date(2025, 10, 1)
OCT_WORKING = 18
SEP_WORKING = 23


def oct_(n: int) -> datetime.date:
    return datetime.date(2025, 10, n)


def at(d: datetime.date, h: int, m: int = 0, s: int = 0) -> datetime.datetime:
    return datetime.datetime(d.year, d.month, d.day, h, m, s, tzinfo=TZ)


def north(metres: float, point=POINT) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE, point[1]


# --- the people -------------------------------------------------------------------------


@pytest.fixture
def sc(world):
    """The county, its users, and helpers to station cadres and act for them."""
    team = make_team(world.village, formed_on=datetime.date(2020, 1, 1))
    serial = iter(range(1, 100))

    def cadre(start=datetime.date(2024, 1, 1), name="张三", team_=None):
        user = make_user(f"c{next(serial)}", Role.CADRE)
        person = make_cadre(world.unit, name, user=user)
        membership = station(person, team_ or team, start=start)
        return SimpleNamespace(user=user, cadre=person, membership=membership)

    return SimpleNamespace(world=world, team=team, cadre=cadre, users=world.users)


def sign(who, when: datetime.datetime, metres: float = 0, point=POINT) -> SignIn:
    lat, lng = north(metres, point)
    row, created = signins.signin_create(
        user=who.user, client_id=uuid.uuid4(), latitude=lat, longitude=lng, now=when
    )
    assert created
    return row


def both(who, *days: datetime.date) -> None:
    for d in days:
        sign(who, at(d, 8, 30))
        sign(who, at(d, 15, 30))


def log(who, d: datetime.date) -> None:
    helplog_save(user=who.user, date=d, content="入户走访，了解产业情况", now=at(d, 20))


def request(who, start, start_half, end, end_half, *, kind=LeaveKind.LEAVE):
    return leave_svc.leave_request_create(
        user=who.user,
        kind=kind,
        leave_type="事假" if kind == LeaveKind.LEAVE else "",
        start_date=start,
        start_half=start_half,
        end_date=end,
        end_half=end_half,
        reason="家中有事" if kind == LeaveKind.LEAVE else "参加县里培训",
    )


def decide(users, req, *levels: str):
    for level in levels:
        actor = {"village": users["leader"], "township": users["township"]}.get(level)
        req = leave_svc.leave_decide(
            actor=actor or users["county"], request=req, decision="approve"
        )
    return req


def approved(users, who, start, start_half, end, end_half, *, kind=LeaveKind.LEAVE):
    req = request(who, start, start_half, end, end_half, kind=kind)
    req = decide(users, req, "village", "township")
    if req.status == LeaveStatus.PENDING_COUNTY:
        req = decide(users, req, "county")
    assert req.status == LeaveStatus.APPROVED
    return req


def accept(users, row: SignIn) -> SignIn:
    return signins.signin_accept(actor=users["township"], signin=row, reason="在乡镇开会，经核实")


def figures(sc, who, month=OCT, village=None) -> dict:
    village = village or sc.world.village
    rows = [
        r
        for r in month_figures(county=sc.world.county, month=month)
        if r["cadre_id"] == who.cadre.pk and r["village_id"] == village.pk
    ]
    assert len(rows) == 1, rows
    return {k: rows[0][k] for k in FIGURES}


def rows_of(sc, who, month=OCT) -> list[dict]:
    return [
        r
        for r in month_figures(county=sc.world.county, month=month)
        if r["cadre_id"] == who.cadre.pk
    ]


def want(working, on_post=0, leave=0, **counts) -> dict:
    working, on_post, leave = D(str(working)), D(str(on_post)), D(str(leave))
    result = {
        "working_days": working,
        "on_post_days": on_post,
        "leave_days": leave,
        "absent_days": working - on_post - leave,
        "out_of_area": 0,
        "outside_hours": 0,
        "rest_day_signins": 0,
        "days_without_log": 0,
    }
    result.update(counts)
    return result


# --- 1. days: a membership starting in the holiday week -----------------------------------


def test_s01_membership_starting_in_the_holiday_week_with_a_make_up_saturday(sc):
    """Stationed from Sunday 5 October. Working days within the membership: all
    18 (1–8 are rest days). Monday 6 October is a public holiday: a sign-in that
    day is a rest-day sign-in. Saturday 11 October is a make-up working day:
    both halves there are on post (1 day), and no help log → 1 day without log.
    A sign-in on the 4th, before the membership, is refused."""
    c = sc.cadre(start=oct_(5))
    with pytest.raises(ValidationError):
        sign(c, at(oct_(4), 9))
    sign(c, at(oct_(6), 9))
    both(c, oct_(11))
    assert figures(sc, c) == want(18, on_post=1, rest_day_signins=1, days_without_log=1)
    assert rows_of(sc, c, month=SEP) == []


# --- 2. a recalled cadre ---------------------------------------------------------------------


def test_s02_recalled_mid_month(sc):
    """Recalled with the 15th as the last day. Working days 1–15: 9, 10, 11, 13,
    14, 15 = 6. Both halves on the 13th (logged), the morning of the 14th (not
    logged) → 1.5 on post, 1 day without log; the holiday of 1 October with a
    sign-in is a rest day. After the recall no sign-in is possible and November
    has no row."""
    c = sc.cadre()
    sign(c, at(oct_(1), 10))
    both(c, oct_(13))
    log(c, oct_(13))
    sign(c, at(oct_(14), 9))
    team_svc.membership_recall(
        actor=sc.users["county"],
        membership=c.membership,
        on=oct_(15),
        decision="县委组织部召回通知",
    )
    with pytest.raises(ValidationError):
        sign(c, at(oct_(16), 9))
    assert figures(sc, c) == want(6, on_post=1.5, rest_day_signins=1, days_without_log=1)
    assert rows_of(sc, c, month=datetime.date(2025, 11, 1)) == []


# --- 3. a cadre moved to another village mid-month ------------------------------------------


def test_s03_adjusted_to_another_village_mid_month(sc):
    """Adjusted to 二村 from Monday 20 October (the old membership ends on the
    19th). 一村 row: 9, 10, 11, 13–17 = 8 working days; 二村 row: 20–24, 27–31
    = 10. A morning in 一村 on the 17th counts there. On the 20th the cadre
    signs in at 一村's point (11 km from 二村's): out of area for 二村; the
    afternoon at 二村's point counts; the 21st morning too (logged)."""
    world = sc.world
    b_point = (43.7, 121.3)
    world.other_village.latitude, world.other_village.longitude = D("43.7"), D("121.3")
    world.other_village.save(update_fields=["latitude", "longitude"])
    c = sc.cadre()
    sign(c, at(oct_(17), 8))
    team_svc.membership_adjust(
        actor=sc.users["county"],
        membership=c.membership,
        to_team_or_village=world.other_village,
        on=oct_(20),
        decision="县委组织部调整通知",
    )
    sign(c, at(oct_(20), 8))  # at 一村's point
    sign(c, at(oct_(20), 14), point=b_point)
    sign(c, at(oct_(21), 9), point=b_point)
    log(c, oct_(21))
    assert figures(sc, c) == want(8, on_post=0.5, days_without_log=1)
    assert figures(sc, c, village=world.other_village) == want(
        10, on_post=1, out_of_area=1, days_without_log=1
    )
    assert sum(r["working_days"] for r in rows_of(sc, c)) == OCT_WORKING


# --- 4–6. leave --------------------------------------------------------------------------


def test_s04_leave_across_national_day(sc):
    """Leave from Tuesday 30 September morning to Thursday 9 October afternoon:
    its working days are 30 September and 9 October only (2), so it is final at
    the township. The cadre comes back early and signs in on the 9th at 15:00:
    that half is on post, not leave. September: 23 working days, 1 on leave.
    October: 0.5 on post, 0.5 on leave."""
    c = sc.cadre()
    req = request(c, datetime.date(2025, 9, 30), "am", oct_(9), "pm")
    assert req.working_days == 2 and req.final_level == ApprovalLevel.TOWNSHIP
    req = decide(sc.users, req, "village", "township")
    assert req.status == LeaveStatus.APPROVED
    sign(c, at(oct_(9), 15))
    log(c, oct_(9))
    assert figures(sc, c, month=SEP) == want(SEP_WORKING, leave=1)
    assert figures(sc, c) == want(OCT_WORKING, on_post=0.5, leave=0.5)


def test_s05_leave_over_a_weekend_with_a_make_up_saturday(sc):
    """Leave from Friday 10 October afternoon to Monday 13 October morning
    covers 10 pm, 11 am, 11 pm (the make-up Saturday) and 13 am: 2 working
    days. The cadre signs in on the Saturday afternoon anyway: on post. Sunday
    12 October is a rest day with a sign-in."""
    c = sc.cadre()
    req = request(c, oct_(10), "pm", oct_(13), "am")
    assert req.working_days == 2 and req.final_level == ApprovalLevel.TOWNSHIP
    decide(sc.users, req, "village", "township")
    sign(c, at(oct_(11), 15, 30))
    log(c, oct_(11))
    sign(c, at(oct_(12), 10))
    assert figures(sc, c) == want(OCT_WORKING, on_post=0.5, leave=1.5, rest_day_signins=1)


def test_s06_leave_counts_only_once_final(sc):
    """Leave from Monday 13 October morning to Wednesday 15 October morning is
    2.5 working days: more than 2, so it needs the county. Approved by the
    village and the township only, it is not approved: those halves are absent.
    An afternoon-only leave on Thursday the 16th (0.5, final at the township)
    with a morning sign-in: 0.5 on post, 0.5 on leave. Once the county
    approves, the 2.5 days are leave."""
    c = sc.cadre()
    long = request(c, oct_(13), "am", oct_(15), "am")
    assert long.working_days == D("2.5") and long.final_level == ApprovalLevel.COUNTY
    long = decide(sc.users, long, "village", "township")
    assert long.status == LeaveStatus.PENDING_COUNTY
    approved(sc.users, c, oct_(16), "pm", oct_(16), "pm")
    sign(c, at(oct_(16), 9))
    log(c, oct_(16))
    assert figures(sc, c) == want(OCT_WORKING, on_post=0.5, leave=0.5)
    decide(sc.users, long, "county")
    assert figures(sc, c) == want(OCT_WORKING, on_post=0.5, leave=3)


# --- 7. official business ----------------------------------------------------------------


def test_s07_official_business_is_on_post(sc):
    """因公外出 all of Tuesday 14 October (approved by the township, no sign-in)
    and the morning of Wednesday the 15th, with an afternoon sign-in on the
    15th: 2 days on post. The 14th has no sign-in, so no missing log; the 15th
    has a counting sign-in and no log: 1 day without log."""
    c = sc.cadre()
    biz = request(c, oct_(14), "am", oct_(14), "pm", kind=LeaveKind.BUSINESS)
    assert biz.final_level == ApprovalLevel.TOWNSHIP
    assert decide(sc.users, biz, "village", "township").status == LeaveStatus.APPROVED
    approved(sc.users, c, oct_(15), "am", oct_(15), "am", kind=LeaveKind.BUSINESS)
    sign(c, at(oct_(15), 15))
    assert figures(sc, c) == want(OCT_WORKING, on_post=2, days_without_log=1)


# --- 8. the clock ----------------------------------------------------------------------------


def test_s08_the_local_clock_decides_day_and_half(sc):
    """Thursday 16 October: 05:59:59 is outside hours; 06:00 counts for the
    morning, 11:59:59 is a repeat; 12:00 local (04:00 UTC) counts for the
    afternoon, 07:59 UTC (15:59 local) and 21:59:59 are repeats; 22:00 is
    outside hours. Friday 10th 23:59 is outside hours on a working day, and so
    is Saturday 11th 00:01 (a make-up working day; in UTC still the 10th).
    Friday 17th 23:59 is outside hours; Saturday 18th 00:01 is a rest-day
    sign-in. 30 September 23:59 belongs to September; 1 October 00:01 is a
    holiday sign-in in October.
    October: 1 day on post, 5 outside hours, 2 rest days with sign-ins."""
    c = sc.cadre()
    d = oct_(16)
    assert sign(c, at(d, 5, 59, 59)).half == ""
    first_am = sign(c, at(d, 6))
    repeat_am = sign(c, at(d, 11, 59, 59))
    first_pm = sign(c, datetime.datetime(2025, 10, 16, 4, 0, tzinfo=UTC))
    repeat_pm = sign(c, datetime.datetime(2025, 10, 16, 7, 59, tzinfo=UTC))
    late_pm = sign(c, at(d, 21, 59, 59))
    assert sign(c, at(d, 22)).half == ""
    assert (first_am.half, first_am.counts, repeat_am.half, repeat_am.counts) == (
        "am",
        True,
        "am",
        False,
    )
    assert (first_pm.half, first_pm.counts) == ("pm", True)
    assert (repeat_pm.date, repeat_pm.half, repeat_pm.counts) == (d, "pm", False)
    assert (late_pm.half, late_pm.counts) == ("pm", False)
    log(c, d)
    sign(c, at(oct_(10), 23, 59))
    midnight = sign(c, at(oct_(11), 0, 1))
    assert midnight.date == oct_(11) and midnight.signed_at.astimezone(UTC).day == 10
    sign(c, at(oct_(17), 23, 59))
    sign(c, at(oct_(18), 0, 1))
    sign(c, at(datetime.date(2025, 9, 30), 23, 59))
    sign(c, at(oct_(1), 0, 1))
    assert figures(sc, c) == want(OCT_WORKING, on_post=1, outside_hours=5, rest_day_signins=2)
    assert figures(sc, c, month=SEP) == want(SEP_WORKING, outside_hours=1)


# --- 9–10. the area ------------------------------------------------------------------------


def test_s09_in_area_is_at_most_the_radius(sc):
    """Radius 1000 m: 999.6 m is in area; 1000.4 m is beyond the radius, so out
    of area (the rule says at most the radius; the distance is not rounded
    first). The village's radius changed to 1500 m: 1400 m is in area, 1600 m
    is not. On post: 13 am and 14 am = 1 day; 2 out of area."""
    c = sc.cadre()
    assert sign(c, at(oct_(13), 9), metres=999.6).in_area
    beyond = sign(c, at(oct_(13), 15), metres=1000.4)
    assert not beyond.in_area and not beyond.counts
    village = sc.world.village
    village.radius_m = 1500
    village.save(update_fields=["radius_m"])
    assert sign(c, at(oct_(14), 9), metres=1400).in_area
    assert not sign(c, at(oct_(14), 15), metres=1600).in_area
    assert figures(sc, c) == want(OCT_WORKING, on_post=1, out_of_area=2, days_without_log=2)


def test_s10_out_of_area_sign_ins_and_acceptance(sc):
    """Monday 20 October morning: 08:00 at 1500 m and 09:00 at 1600 m (out of
    area), 10:00 in area (the first valid one: counts); afternoon: 14:00 at
    3000 m. Tuesday 21st 23:00 at 2000 m: outside hours and out of area, so it
    is in both counts (each list counts sign-ins on working days).
    Before acceptance: 0.5 on post, 4 out of area, 1 outside hours.
    The township accepts the 08:00 one (the morning already counts: on post
    stays 0.5 for that half) and the 14:00 one (now the afternoon is on post):
    1 day on post, 2 out of area left."""
    c = sc.cadre()
    first = sign(c, at(oct_(20), 8), metres=1500)
    sign(c, at(oct_(20), 9), metres=1600)
    assert sign(c, at(oct_(20), 10)).counts
    afternoon = sign(c, at(oct_(20), 14), metres=3000)
    sign(c, at(oct_(21), 23), metres=2000)
    assert figures(sc, c) == want(
        OCT_WORKING, on_post=0.5, out_of_area=4, outside_hours=1, days_without_log=1
    )
    accept(sc.users, first)
    accept(sc.users, afternoon)
    assert figures(sc, c) == want(
        OCT_WORKING, on_post=1, out_of_area=2, outside_hours=1, days_without_log=1
    )


# --- 11. rest days ----------------------------------------------------------------------------


def test_s11_rest_day_sign_ins_are_counted_by_day_and_nothing_else(sc):
    """Sunday 19 October: 09:00 at 2000 m and 23:00 in area: one rest day, and
    neither is counted as out of area or outside hours (those count working
    days only). Wednesday 8 October is a holiday: a valid-looking sign-in there
    is a rest-day sign-in, not on post, and needs no log. Saturday 11 October
    is a make-up working day: on post 0.5 (no log: 1 day without log)."""
    c = sc.cadre()
    sign(c, at(oct_(19), 9), metres=2000)
    sign(c, at(oct_(19), 23))
    sign(c, at(oct_(8), 9))
    sign(c, at(oct_(8), 15))
    sign(c, at(oct_(11), 9))
    assert figures(sc, c) == want(OCT_WORKING, on_post=0.5, rest_day_signins=2, days_without_log=1)


# --- 12. help logs -----------------------------------------------------------------------------


def test_s12_days_without_a_help_log(sc):
    """Working days with a sign-in that counts and no log: the 14th (plain),
    the 15th (out of area, accepted), the 11th (make-up Saturday) and the 21st
    (afternoon sign-in under a morning leave) = 4. Not counted: the 13th
    (logged), the 16th (only an out-of-area sign-in), the 17th (only outside
    hours), the 18th (a rest day), the 20th (official business, no sign-in).
    On post: the mornings of the 11th, 13th, 14th and 15th and the afternoon of
    the 21st (0.5 each) and the 20th (1) = 3.5; on leave: the 21st morning."""
    c = sc.cadre()
    sign(c, at(oct_(13), 9))
    log(c, oct_(13))
    sign(c, at(oct_(14), 9))
    accept(sc.users, sign(c, at(oct_(15), 9), metres=5000))
    sign(c, at(oct_(16), 9), metres=5000)
    sign(c, at(oct_(17), 23))
    sign(c, at(oct_(18), 9))
    sign(c, at(oct_(11), 9))
    approved(sc.users, c, oct_(20), "am", oct_(20), "pm", kind=LeaveKind.BUSINESS)
    approved(sc.users, c, oct_(21), "am", oct_(21), "am")
    sign(c, at(oct_(21), 15))
    assert figures(sc, c) == want(
        OCT_WORKING,
        on_post=D("3.5"),
        leave=D("0.5"),
        out_of_area=1,
        outside_hours=1,
        rest_day_signins=1,
        days_without_log=4,
    )


# --- 13. the windows are county settings ------------------------------------------------------


def test_s13_every_window_edge_is_a_county_setting(sc):
    """The rules' four window numbers (06:00, 12:00, 12:00, 22:00) are each a
    county setting. A county sets the morning to 07:00–11:00 and the afternoon
    to 14:00–18:00: 06:30, 11:30 (between the windows), 13:59 and 18:00 are
    outside hours; 07:00 and 10:59 count for mornings, 14:00 for an afternoon.
    1.5 days on post, 4 outside hours."""
    AttendanceSettings.objects.create(
        county=sc.world.county,
        morning_start=datetime.time(7),
        morning_end=datetime.time(11),
        afternoon_start=datetime.time(14),
        day_end=datetime.time(18),
    )
    c = sc.cadre()
    halves = [
        sign(c, at(oct_(13), 6, 30)).half,
        sign(c, at(oct_(13), 7)).half,
        sign(c, at(oct_(14), 11, 30)).half,
        sign(c, at(oct_(14), 13, 59)).half,
        sign(c, at(oct_(14), 14)).half,
        sign(c, at(oct_(15), 10, 59)).half,
        sign(c, at(oct_(15), 18)).half,
    ]
    assert halves == ["", "am", "", "", "pm", "am", ""]
    for n in (13, 14, 15):
        log(c, oct_(n))
    assert figures(sc, c) == want(OCT_WORKING, on_post=1.5, outside_hours=4)


# --- 14–15. the 200-day rule -------------------------------------------------------------------


def _year(sc, as_of=datetime.date(2025, 10, 31)) -> dict:
    return {r.cadre_id: r for r in compute_year(county=sc.world.county, year=2025, as_of=as_of)}


def test_s14_200_days_pro_rated_and_the_at_risk_threshold(sc):
    """Stationed from Tuesday 30 September 2025: 62 of the year's 248 working
    days are within the membership (30 Sep + 18 + 20 + 23), so required =
    200 × 62 ÷ 248 = 50. As of Friday 31 October, remaining = November's 20 +
    December's 23 = 43.
    On post: 30 Sep (1), 9 and 10 Oct (2), Saturday 11 Oct (1), business all of
    the 13th (1), the 14th morning signed + afternoon business (1), the 15th
    morning (0.5) = 6.5; the 12th (Sunday) adds nothing. 6.5 + 43 = 49.5 < 50:
    at risk. The township accepts the 15th's out-of-area afternoon: 7 + 43 = 50,
    not below 50: on track. With the county's requirement at 180: 180 × 62 ÷
    248 = 45."""
    c = sc.cadre(start=datetime.date(2025, 9, 30))
    both(c, datetime.date(2025, 9, 30), oct_(9), oct_(10), oct_(11))
    sign(c, at(oct_(12), 9))
    approved(sc.users, c, oct_(13), "am", oct_(13), "pm", kind=LeaveKind.BUSINESS)
    sign(c, at(oct_(14), 9))
    approved(sc.users, c, oct_(14), "pm", oct_(14), "pm", kind=LeaveKind.BUSINESS)
    sign(c, at(oct_(15), 9))
    away = sign(c, at(oct_(15), 15), metres=4000)
    row = _year(sc)[c.cadre.pk]
    assert (row.required_days, row.on_post_days, row.remaining_working_days, row.status) == (
        50,
        D("6.5"),
        43,
        "at_risk",
    )
    accept(sc.users, away)
    row = _year(sc)[c.cadre.pk]
    assert (row.on_post_days, row.status) == (D("7"), "on_track")
    AttendanceSettings.objects.create(county=sc.world.county, required_days=180)
    row = _year(sc)[c.cadre.pk]
    assert (row.required_days, row.status) == (45, "on_track")


def test_s15_200_days_for_a_recalled_and_a_whole_year_cadre(sc):
    """A cadre stationed from 30 September and recalled with 14 November as the
    last day: 1 + 18 + 10 = 29 working days within the membership, required =
    200 × 29 ÷ 248 = 23.39 → 23; as of 31 October the remaining working days
    stop at the membership's end: 3–7 and 10–14 November = 10. With nothing on
    post: 0 + 10 < 23, at risk. A cadre stationed since 2024: required 200,
    remaining 43; as of 31 December (the year-end check) remaining is 0.
    A membership ending 30 June, from 3 March: 82 days → 66.13 → 66."""
    recalled = sc.cadre(start=datetime.date(2025, 9, 30), name="李四")
    whole = sc.cadre(name="王五")
    spring = sc.cadre(start=datetime.date(2025, 3, 3), name="赵六")
    team_svc.membership_recall(
        actor=sc.users["county"],
        membership=recalled.membership,
        on=datetime.date(2025, 11, 14),
        decision="召回通知",
    )
    team_svc.membership_end(
        actor=sc.users["county"], membership=spring.membership, on=datetime.date(2025, 6, 30)
    )
    rows = _year(sc)
    got = rows[recalled.cadre.pk]
    assert (got.required_days, got.remaining_working_days, got.status) == (23, 10, "at_risk")
    got = rows[whole.cadre.pk]
    assert (got.required_days, got.remaining_working_days, got.status) == (200, 43, "at_risk")
    got = rows[spring.cadre.pk]
    assert (got.required_days, got.remaining_working_days) == (66, 0)
    assert _year(sc, as_of=datetime.date(2025, 12, 31))[whole.cadre.pk].remaining_working_days == 0


# --- 16. the saved audit ------------------------------------------------------------------------


def test_s16_the_saved_audit_has_the_same_figures_and_the_subsidy(sc):
    """The monthly audit saved for October: the same figures as computed, and
    the living subsidy on_post_days × the county's daily rate (here 60.50):
    3.5 × 60.50 = 211.75. Running it again gives the same rows."""
    from attendance.audit import audit_month
    from attendance.models import MonthlyAttendance

    AttendanceSettings.objects.create(county=sc.world.county, daily_rate=D("60.50"))
    c = sc.cadre()
    both(c, oct_(11), oct_(13))
    sign(c, at(oct_(14), 9))
    approved(sc.users, c, oct_(15), "am", oct_(15), "pm", kind=LeaveKind.BUSINESS)
    approved(sc.users, c, oct_(16), "am", oct_(17), "pm")
    expected = want(OCT_WORKING, on_post=D("3.5"), leave=2, days_without_log=3)
    assert figures(sc, c) == expected

    def saved():
        row = MonthlyAttendance.objects.get(cadre=c.cadre, month=OCT)
        return {k: getattr(row, k) for k in FIGURES}, row.subsidy

    audit_month(actor=sc.users["county"], county=sc.world.county, month=OCT)
    first = saved()
    assert first == (expected, D("211.75"))
    audit_month(actor=sc.users["county"], county=sc.world.county, month=OCT)
    assert saved() == first
