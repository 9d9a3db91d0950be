"""Demo data for attendance (called by ``seed_demo`` after the teams demo).

For the 762 team members: the county's settings (the rules' defaults), the
calendar of this year and last, a year of sign-ins (January 1st to now; from
January of last year while this year is not yet three months old, since
nobody can be at risk of missing 200 days that early), help logs, leave and
official business; then the monthly audit of every ended month (older months
submitted and filed, last month submitted by half the townships) and the
200-day check as the scheduler runs it, as of yesterday (and last year's final
check when the window covers last year).

The sign-ins: two a day on most working days, in the morning between 07:20
and 09:40 and in the afternoon between 14:00 and 17:40, a few hundred metres
from the village point; some halves missing; now and then one out of area
(some accepted by the township office, some followed by one in area), a
repeat, one outside hours, one on a rest day. Most cadres are on post nearly
every day; about one in twelve misses days often; about one in twenty-five was
away for a long stretch of 55–95 working days (so the 200-day check has cadres
at risk). Approved leave and official business keep the cadre away (no
sign-ins those days). Leave is also rejected, withdrawn and waiting at each
level for the coming weeks; a few returns were never reported (overdue).

Speed: everything is generated in memory from a fixed seed and written with
``executemany`` of precomputed tuples, in batches: ``bulk_create`` spends over
100 µs a row on SQLite preparing fields, several times the insert itself; no
query per row. Writing the ~320,000 sign-ins and ~140,000 help logs is most of
the time (SQLite's index upkeep; a larger page cache for this connection
during the writes saves a third).

Approvers: the team's first secretary (village level), a township office
account per township (created here, without a usable password, for the
townships the core demo has no account for) and the county office's demo
account.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import random
import uuid
from collections import defaultdict
from decimal import Decimal
from time import perf_counter

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from core.choices import AreaLevel, Role
from core.models import Area, User
from teams.choices import LEADER_ROLES
from teams.models import Membership

from . import audit as monthly
from . import batches, geo, onpost
from .calendar import calendar_ensure_year
from .choices import (
    ApprovalLevel,
    Decision,
    Half,
    LeaveKind,
    LeaveStatus,
    LeaveType,
    SignInHalf,
)
from .models import (
    AttendanceBatch,
    AttendanceSettings,
    HelpLog,
    LeaveDecision,
    LeaveRequest,
    SignIn,
    WorkDay,
)

LOCAL = datetime.timezone(datetime.timedelta(hours=8))  # Asia/Shanghai has no DST since 1991
UTC = datetime.UTC
METRES_PER_DEGREE = 2 * math.pi * geo.EARTH_RADIUS_M / 360
INSERT_BATCH = 5000
FLUSH_ROWS = 50_000
POOL = 48

LOG_TEXTS = (
    "走访脱贫户，了解务工收入和家庭情况，更新帮扶台账",
    "参加村两委会议，研究村集体经济项目推进",
    "到合作社查看肉牛养殖情况，协调技术员上门指导",
    "入户宣讲医保和养老保险政策，帮助办理参保手续",
    "查看庭院经济种植情况，帮助联系农产品销路",
    "协调解决自来水管网维修问题",
    "整理民情日记，跟进群众反映的道路照明问题",
    "组织党员学习，开展固定学习日活动",
    "走访监测户，核实收入变化，落实帮扶措施",
    "陪同镇里开展人居环境整治检查",
    "了解留守儿童上学情况，对接教育资助",
    "召开议贫会，梳理本月帮扶工作",
)
LEAVE_REASONS = {
    LeaveType.PERSONAL: ("家中有事需处理", "子女升学办理手续", "老人住院陪护"),
    LeaveType.SICK: ("感冒发烧就医", "腰伤复查", "牙科治疗"),
    LeaveType.ANNUAL: ("休年假", "年休假探亲"),
    LeaveType.MARRIAGE_FUNERAL: ("亲属丧事", "本人婚假"),
    LeaveType.MATERNITY: ("陪产假",),
    LeaveType.OTHER: ("参加职称考试",),
}
BUSINESS_REASONS = ("参加县驻村工作培训班", "赴市里参加乡村振兴现场会", "到县直部门对接帮扶项目")
ACCEPT_REASONS = ("在镇政府参加会议", "陪同群众到镇卫生院就医", "到镇农业站领取种子")
REJECT_REASONS = ("本月村里有重点工作，请调整时间", "请假事由不充分，请补充材料")


class _Rows:
    """Tuples for one table, written with executemany in batches."""

    def __init__(self, model, fields: tuple[str, ...]) -> None:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(model._meta.get_field(f).column) for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        # Table and column names come from the model, never from input.
        self.sql = f"INSERT INTO {qn(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.rows: list[tuple] = []
        self.written = 0
        self.seconds = 0.0

    def flush(self, at_least: int = 0) -> None:
        """Write the rows held so far (when there are at least that many) and
        let them go, so memory stays small."""
        if not self.rows or len(self.rows) < at_least:
            return
        started = perf_counter()
        with connection.cursor() as cursor:
            for start in range(0, len(self.rows), INSERT_BATCH):
                cursor.executemany(self.sql, self.rows[start : start + INSERT_BATCH])
        self.written += len(self.rows)
        self.rows.clear()  # the same list: bound ``append``s stay valid
        self.seconds += perf_counter() - started

    def write(self) -> int:
        self.flush()
        return self.written


class _Clock:
    """Local times of a day as the database takes them, built by arithmetic
    (Asia/Shanghai is UTC+8 all year): a naive UTC string on SQLite (what
    Django stores there), an aware datetime elsewhere."""

    def __init__(self) -> None:
        self.text = connection.vendor == "sqlite"
        self.dates: dict[datetime.date, tuple[str, str]] = {}
        self.times = (
            [f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}" for t in range(86400)]
            if self.text
            else []
        )

    def at(self, day: datetime.date, seconds: int) -> datetime.datetime:
        midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=LOCAL)
        return midnight + datetime.timedelta(seconds=seconds)

    def value(self, day: datetime.date, seconds: int):
        if not self.text:
            return self.at(day, seconds)
        texts = self.dates.get(day)
        if texts is None:
            texts = self.dates[day] = (
                f"{(day - datetime.timedelta(days=1)).isoformat()} ",
                f"{day.isoformat()} ",
            )
        utc = seconds - 8 * 3600
        if utc < 0:
            return texts[0] + self.times[utc + 86400]
        return texts[1] + self.times[utc]


@contextlib.contextmanager
def _big_cache():
    """A larger SQLite page cache for this connection while the demo writes
    (the sign-ins' indexes outgrow the default 2 MB); nothing elsewhere."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -131072")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before:d}")


def _uuid4(bits: int) -> int:
    """The 128 bits of a version 4 UUID (RFC 4122 variant) from random bits."""
    bits &= ~(0xF000 << 64) & ~(0xC000 << 48)
    return bits | (0x4000 << 64) | (0x8000 << 48)


def _township_offices(county: Area, password: str) -> dict[int, int]:
    """A township office account per township (the demo's own two, plus one
    without a usable password for each other township)."""
    townships = list(Area.objects.filter(county=county, level=AreaLevel.TOWNSHIP).order_by("code"))
    found = dict(
        User.objects.filter(role=Role.TOWNSHIP_OFFICE, scope_area__in=townships)
        .order_by("pk")
        .values_list("scope_area_id", "pk")
    )
    missing = [t for t in townships if t.pk not in found]
    User.objects.bulk_create(
        [
            User(
                username=f"office_{t.code or t.pk}",
                full_name=f"{t.name}驻村办",
                role=Role.TOWNSHIP_OFFICE,
                scope_area=t,
                is_staff=True,
                password=password,
            )
            for t in missing
        ]
    )
    return dict(
        User.objects.filter(role=Role.TOWNSHIP_OFFICE, scope_area__in=townships)
        .order_by("-pk")
        .values_list("scope_area_id", "pk")
    )


def seed(*, county: Area, stdout) -> None:
    started = perf_counter()
    rng = random.Random(200200)
    now = timezone.now()
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    native_uuid = connection.features.has_native_uuid_field
    clock = _Clock()
    value = clock.value
    local_now = timezone.localtime(now)
    now_seconds = local_now.hour * 3600 + local_now.minute * 60 + local_now.second
    r = rng.random

    settings, _created = AttendanceSettings.objects.get_or_create(county=county)
    years = sorted({today.year - 1, today.year})
    for year in years:
        calendar_ensure_year(county=county, year=year)
    first = datetime.date(today.year if today.month >= 4 else today.year - 1, 1, 1)
    year_end = datetime.date(today.year, 12, 31)
    working = set(
        WorkDay.objects.filter(
            county=county, date__range=(first, year_end), is_working=True
        ).values_list("date", flat=True)
    )
    days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]

    offices = _township_offices(county, make_password(None))
    county_office = (
        User.objects.filter(role=Role.COUNTY_OFFICE, scope_area=county).order_by("pk").first()
    )
    members = list(
        Membership.objects.filter(team__village__county=county, end_date__isnull=True)
        .order_by("team_id", "pk")
        .values_list(
            "pk",
            "cadre_id",
            "cadre__user_id",
            "team_id",
            "role",
            "start_date",
            "team__village_id",
            "team__village__township_id",
            "team__village__latitude",
            "team__village__longitude",
            "team__village__radius_m",
        )
    )
    leaders: dict[int, list[int | None]] = defaultdict(list)
    for m in sorted(members, key=lambda m: (m[4] not in LEADER_ROLES, m[0])):
        leaders[m[3]].append(m[2])

    signins = _Rows(
        SignIn,
        (
            "client_id",
            "cadre",
            "membership",
            "village",
            "signed_at",
            "date",
            "half",
            "latitude",
            "longitude",
            "accuracy_m",
            "distance_m",
            "in_area",
            "accepted",
            "accepted_by",
            "accept_reason",
            "counts",
            "photo",
            "created_at",
        ),
    )
    logs = _Rows(HelpLog, ("cadre", "date", "content", "created_at", "updated_at"))
    leave_rows: list[LeaveRequest] = []
    leave_decisions: list[list[tuple[str, str, int, str]]] = []
    day_end = settings.day_end.hour * 3600
    morning = settings.morning_start.hour * 3600

    getrandbits = rng.getrandbits

    def client_id():
        bits = _uuid4(getrandbits(128))
        return uuid.UUID(int=bits) if native_uuid else f"{bits:032x}"

    def place(lat: float, lng: float, metres: float) -> tuple[Decimal, Decimal, int]:
        bearing = rng.uniform(0, 2 * math.pi)
        d_lat = metres * math.cos(bearing) / METRES_PER_DEGREE
        d_lng = metres * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
        p_lat, p_lng = round(lat + d_lat, 6), round(lng + d_lng, 6)
        distance = round(geo.haversine_m(lat, lng, p_lat, p_lng))
        return Decimal(f"{p_lat:.6f}"), Decimal(f"{p_lng:.6f}"), distance

    # Points in area around each village (a few hundred metres), drawn once.
    pools = {}
    for m in members:
        if m[6] not in pools:
            lat, lng = float(m[8]), float(m[9])
            reach = (m[10] or settings.default_radius_m) * 0.6
            pools[m[6]] = [place(lat, lng, 15 + r() * reach) for _ in range(POOL)]
    add_signin = signins.rows.append
    add_log = logs.rows.append
    rest_days = [d for d in days if d not in working]
    AM, PM, NONE = SignInHalf.MORNING.value, SignInHalf.AFTERNOON.value, SignInHalf.NONE.value
    HALVES = ((AM, 7 * 3600 + 1200, 8400), (PM, 14 * 3600, 13200))

    def decisions_for(status: str, final: str, team_id: int, user_id, township_id: int):
        village = next((u for u in leaders[team_id] if u and u != user_id), None)
        township = offices.get(township_id)
        steps = []
        if status == LeaveStatus.PENDING_VILLAGE or village is None or township is None:
            return steps
        if status == LeaveStatus.REJECTED:
            if rng.random() < 0.5:
                return [
                    (ApprovalLevel.VILLAGE, Decision.REJECT, village, rng.choice(REJECT_REASONS))
                ]
            return [
                (ApprovalLevel.VILLAGE, Decision.APPROVE, village, ""),
                (ApprovalLevel.TOWNSHIP, Decision.REJECT, township, rng.choice(REJECT_REASONS)),
            ]
        steps.append((ApprovalLevel.VILLAGE, Decision.APPROVE, village, ""))
        if status == LeaveStatus.WITHDRAWN:
            # withdrawn before it was final: before any decision, or after the village's
            return steps if r() < 0.5 else []
        if status == LeaveStatus.PENDING_TOWNSHIP:
            return steps
        steps.append((ApprovalLevel.TOWNSHIP, Decision.APPROVE, township, ""))
        if status == LeaveStatus.APPROVED and final == ApprovalLevel.COUNTY and county_office:
            steps.append((ApprovalLevel.COUNTY, Decision.APPROVE, county_office.pk, ""))
        return steps

    def request(m, kind, start, start_half, end, end_half, status, returned=None):
        pk, cadre_id, user_id, team_id, _r, _s, _v, township_id = m[:8]
        if end > year_end:
            return None  # next year's calendar is not seeded by the demo
        halves = 0
        day = start
        while day <= end:
            if day in working:
                halves += 2 - (day == start and start_half == Half.AFTERNOON)
                halves -= day == end and end_half == Half.MORNING
            day += datetime.timedelta(days=1)
        days_count = Decimal(halves) / 2
        if days_count <= 0:
            return None
        final = (
            ApprovalLevel.TOWNSHIP
            if kind == LeaveKind.BUSINESS or days_count <= settings.township_final_days
            else ApprovalLevel.COUNTY
        )
        if status == LeaveStatus.PENDING_COUNTY and final != ApprovalLevel.COUNTY:
            status = LeaveStatus.PENDING_TOWNSHIP
        leave_type = "" if kind == LeaveKind.BUSINESS else rng.choice(list(LeaveType))
        reason = (
            rng.choice(BUSINESS_REASONS)
            if kind == LeaveKind.BUSINESS
            else rng.choice(LEAVE_REASONS[LeaveType(leave_type)])
        )
        steps = decisions_for(status, final, team_id, user_id, township_id)
        if status not in (LeaveStatus.PENDING_VILLAGE, LeaveStatus.WITHDRAWN) and not steps:
            return None
        decided = status in (LeaveStatus.APPROVED, LeaveStatus.REJECTED)
        leave_rows.append(
            LeaveRequest(
                cadre_id=cadre_id,
                membership_id=pk,
                kind=kind,
                leave_type=leave_type,
                start_date=start,
                start_half=start_half,
                end_date=end,
                end_half=end_half,
                working_days=days_count,
                reason=reason,
                status=status,
                final_level=final,
                decided_at=clock.at(start - datetime.timedelta(days=2), 10 * 3600)
                if decided
                else None,
                returned_on=returned,
            )
        )
        leave_decisions.append(steps)
        return leave_rows[-1]

    stats = defaultdict(int)
    window_days = [d for d in days if d in working]  # up to today
    with _big_cache():
        for m in members:
            (pk, cadre_id, user_id, team_id, role, start, village_id, township_id) = m[:8]
            v_lat, v_lng, radius = float(m[8]), float(m[9]), m[10] or settings.default_radius_m
            mine = [d for d in window_days if d >= start]
            roll = rng.random()
            if roll < 0.04 and len(mine) > 60:
                kind, p_absent, p_half = "away", 0.03, 0.03
            elif roll < 0.12:
                kind, p_absent, p_half = "patchy", rng.uniform(0.10, 0.18), 0.06
            else:
                kind, p_absent, p_half = "steady", rng.uniform(0.0, 0.04), 0.02
            stats[kind] += 1
            off: dict[datetime.date, str] = {}  # day -> "absent" | "leave" | "business" | "pm"
            if kind == "away":
                length = rng.randint(55, min(95, len(mine) - 3))
                at = rng.randint(0, len(mine) - length - 1)
                for d in mine[at : at + length]:
                    off[d] = "absent"
            # Approved leave and business in the past: no sign-ins on those days.
            past = [d for d in mine if d < yesterday]
            for _n in range(rng.choice((0, 1, 1, 2, 2, 3)) if past else 0):
                at = rng.randrange(len(past))  # past is the start of mine
                span = mine[at : at + rng.randint(1, 4)]
                if any(d in off for d in span):
                    continue
                business = rng.random() < 0.2
                half_day = not business and len(span) == 1 and rng.random() < 0.3
                end = span[-1]
                grace_end = end + datetime.timedelta(days=settings.return_grace_days)
                returned = None
                if grace_end < today or rng.random() < 0.5:
                    returned = min(end + datetime.timedelta(days=rng.choice((0, 0, 1))), today)
                if rng.random() < 0.02 and not business:
                    returned = None  # the return was never reported: flagged overdue
                created = request(
                    m,
                    LeaveKind.BUSINESS if business else LeaveKind.LEAVE,
                    span[0],
                    Half.AFTERNOON if half_day else Half.MORNING,
                    end,
                    Half.AFTERNOON,
                    LeaveStatus.APPROVED,
                    returned=returned if end < today else None,
                )
                if created is not None:
                    for d in span:
                        off[d] = "pm" if half_day else created.kind
            # Some requests that did not keep the cadre away, and some still waiting.
            if past and rng.random() < 0.06:
                d = rng.choice(past)
                request(
                    m,
                    LeaveKind.LEAVE,
                    d,
                    Half.MORNING,
                    d,
                    Half.AFTERNOON,
                    rng.choice((LeaveStatus.REJECTED, LeaveStatus.REJECTED, LeaveStatus.WITHDRAWN)),
                )
            if rng.random() < 0.07:
                d = today + datetime.timedelta(days=rng.randint(2, 25))
                while d.weekday() >= 5:
                    d += datetime.timedelta(days=1)
                end = d + datetime.timedelta(days=rng.choice((0, 1, 3, 4)))
                request(
                    m,
                    LeaveKind.BUSINESS if rng.random() < 0.15 else LeaveKind.LEAVE,
                    d,
                    Half.MORNING,
                    end,
                    Half.AFTERNOON,
                    rng.choice(
                        (
                            LeaveStatus.PENDING_VILLAGE,
                            LeaveStatus.PENDING_TOWNSHIP,
                            LeaveStatus.PENDING_COUNTY,
                        )
                    ),
                )

            office = offices.get(township_id)
            points = pools[village_id]
            diligent = r() < 0.12
            if diligent:
                # a rest day now and then: a diligent cadre signs in anyway
                for day in rest_days:
                    if day >= start and r() < 0.08 and (day < today or now_seconds > 11 * 3600):
                        at = value(day, 9 * 3600 + int(r() * 7200))
                        lat, lng, dist = points[int(r() * POOL)]
                        add_signin((
                            client_id(), cadre_id, pk, village_id, at, day, AM, lat, lng,
                            5 + int(r() * 35), dist, True, False, None, "", True, "", at,
                        ))  # fmt: skip
                        stats["rest_day"] += 1
            for day in mine:
                state = off.get(day)
                if state is not None and state != "pm":
                    continue
                if state is None and r() < p_absent:
                    continue
                is_today = day == today
                signed_any = False
                for half, low, span in HALVES:
                    if state == "pm" and half == PM:
                        continue
                    if r() < p_half:
                        continue
                    seconds = low + int(r() * span)
                    if is_today and seconds > now_seconds:
                        continue
                    roll = r()
                    if roll < 0.012:
                        # out of area: accepted by the township, or followed by one in area
                        lat, lng, dist = place(v_lat, v_lng, radius + 300 + r() * 5000)
                        accepted = office is not None and r() < 0.35
                        at = value(day, seconds)
                        add_signin((
                            client_id(), cadre_id, pk, village_id, at, day, half, lat, lng,
                            5 + int(r() * 55), dist, False, accepted, office if accepted else None,
                            rng.choice(ACCEPT_REASONS) if accepted else "", accepted, "", at,
                        ))  # fmt: skip
                        stats["out_of_area"] += 1
                        signed_any = signed_any or accepted
                        if accepted or r() < 0.5:
                            continue
                        seconds = min(seconds + 1800 + int(r() * 3600), low + span)
                        if is_today and seconds > now_seconds:
                            continue
                    at = value(day, seconds)
                    lat, lng, dist = points[int(r() * POOL)]
                    add_signin((
                        client_id(), cadre_id, pk, village_id, at, day, half, lat, lng,
                        5 + int(r() * 35), dist, True, False, None, "", True, "", at,
                    ))  # fmt: skip
                    signed_any = True
                    if roll > 0.99:
                        # the same half again a few minutes later: kept as a repeat
                        again = value(day, seconds + 60 + int(r() * 840))
                        lat, lng, dist = points[int(r() * POOL)]
                        add_signin((
                            client_id(), cadre_id, pk, village_id, again, day, half, lat, lng,
                            5 + int(r() * 35), dist, True, False, None, "", False, "", again,
                        ))  # fmt: skip
                        stats["repeats"] += 1
                if r() < 0.005:
                    # after the day's end, or before the morning opens: counts for neither half
                    late = (
                        day_end + 300 + int(r() * 5000)
                        if r() < 0.6
                        else morning - 3600 + int(r() * 3400)
                    )
                    if not is_today or late <= now_seconds:
                        at = value(day, late)
                        lat, lng, dist = points[int(r() * POOL)]
                        add_signin((
                            client_id(), cadre_id, pk, village_id, at, day, NONE, lat, lng,
                            5 + int(r() * 35), dist, True, False, None, "", False, "", at,
                        ))  # fmt: skip
                        stats["outside_hours"] += 1
                if signed_any and r() < 0.88 and (not is_today or now_seconds >= 20 * 3600):
                    written = value(day, 19 * 3600 + int(r() * 10800))
                    add_log((cadre_id, day, rng.choice(LOG_TEXTS), written, written))

            signins.flush(at_least=FLUSH_ROWS)
            logs.flush(at_least=FLUSH_ROWS)
        written_signins = signins.write()
        written_logs = logs.write()
    generated = perf_counter()
    writing = signins.seconds + logs.seconds
    LeaveRequest.objects.bulk_create(leave_rows, batch_size=1000)
    LeaveDecision.objects.bulk_create(
        [
            LeaveDecision(
                request=leave, level=level, decision=decision, approver_id=who, reason=why
            )
            for leave, steps in zip(leave_rows, leave_decisions, strict=True)
            for level, decision, who, why in steps
        ],
        batch_size=1000,
    )
    inserted = perf_counter()

    # The monthly audit of every ended month of the window; older months filed,
    # last month submitted by half the townships.
    months = [d for d in days if d.day == 1 and monthly.month_end(d) < today]
    for month in months:
        monthly.audit_month(actor=None, county=county, month=month, via="demo", today=today)
    audited = perf_counter()
    last = months[-1] if months else None
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=[*offices.values(), getattr(county_office, "pk", 0)])
    }
    for batch in AttendanceBatch.objects.filter(township__county=county, month__in=months).order_by(
        "month", "township__code"
    ):
        office = users.get(offices.get(batch.township_id))
        if office is None or (batch.month == last and batch.township_id % 2):
            continue
        batches.batch_submit(actor=office, batch=batch)
        if batch.month != last and county_office is not None:
            batches.batch_file(actor=county_office, batch=batch)

    # The 200-day check, as the scheduler would have run it (as of yesterday),
    # and last year's final check when the window covers it.
    results = onpost.check_on_post(county=county, year=yesterday.year, as_of=yesterday, via="demo")
    if first.year < yesterday.year:
        onpost.check_on_post(
            county=county, year=first.year, as_of=datetime.date(first.year, 12, 31), via="demo"
        )
    done = perf_counter()
    counts = results[0] if results else {}
    stdout.write(
        f"签到 {written_signins} 条（区域外 {stats['out_of_area']}、重复 {stats['repeats']}、"
        f"时段外 {stats['outside_hours']}、休息日 {stats['rest_day']}），帮扶日志 {written_logs} 条，"
        f"请假和因公外出 {len(leave_rows)} 条；月度考勤 {len(months)} 个月；"
        f"200天检查（截至 {yesterday}）：有风险 {counts.get('at_risk', 0)}、"
        f"可达标 {counts.get('on_track', 0)}、已达标 {counts.get('met', 0)}。"
        f"用时：生成 {generated - started - writing:.1f} 秒，"
        f"写入 {writing + inserted - generated:.1f} 秒，"
        f"月度考勤 {audited - inserted:.1f} 秒，其余 {done - audited:.1f} 秒"
    )
