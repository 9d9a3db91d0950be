"""The monthly audit (attendance-rules.md, "Monthly audit"), set-based.

One SQL statement computes every cadre's figures of a county's month, with no
per-cadre query; it runs unchanged on SQLite and PostgreSQL:

- ``mem``: the memberships overlapping the month, clipped to it (and to the
  days after an earlier membership of the same cadre in the same village, so a
  role change on a day does not count that day twice);
- ``span``: the working days within each membership, from the calendar's
  running count of working days (no row per day needed);
- ``lv``: approved leave and official business expanded, with a two-row halves
  table, to (cadre, working day, half);
- ``sd``: the month's sign-ins and help logs in one pass, per cadre and day;
  the database keeps at most one counting sign-in per cadre, day and half (a
  partial unique constraint), so the valid halves of a day are a plain sum;
- ``signed``/``away``: those joined to the memberships and the calendar, then
  one GROUP BY per (cadre, village).

Why not left-join the aggregated sign-ins to a full (membership, working day,
half) grid: at 50,000 cadres that join of two million-row sets cost as much as
the floor itself (bench/bench_audit.py measured the grid version at 3.4x the
floor, this one under 3x). The grid is kept for the record book
(``team_month_halves``), where it is small; both read the same CTEs, and a test
checks that the book's totals equal the audit's figures.

Each half of a working day within a membership is exactly one of:
  on post  a counting sign-in in that half (``SignIn.counts``: the first valid
           one, in hours and in area or accepted), or approved official
           business covering it;
  on leave approved leave covering it, and no counting sign-in;
  absent   neither.
Also, within the membership: ``out_of_area`` counts sign-ins on working days
that are out of area and not accepted (also when outside hours),
``outside_hours`` sign-ins on working days outside both windows,
``rest_day_signins`` rest days with at least one sign-in, ``days_without_log``
working days with a counting sign-in but no help log.

:func:`month_figures` returns the figures without saving (the 200-day check
uses it for the month to date). :func:`audit_month` saves them: the figures go
to a temporary table once, then each township's batch is replaced in its own
transaction (the batch row locked and its status checked): the rows of cadres
no longer there deleted, the others inserted, or updated where they changed.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from decimal import Decimal

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit as audit_log
from core.choices import AreaLevel, AuditAction
from core.models import Area, User
from core.scoping import Scope, user_scope
from teams.models import Membership, Team

from .calendar import calendar_ensure_range, settings_for
from .choices import BatchStatus, Half, LeaveKind, LeaveStatus
from .models import (
    AttendanceBatch,
    AttendanceSettings,
    HelpLog,
    LeaveRequest,
    MonthlyAttendance,
    SignIn,
    WorkDay,
)

logger = logging.getLogger(__name__)

FIGURES = (
    "working_days",
    "on_post_days",
    "leave_days",
    "absent_days",
    "out_of_area",
    "outside_hours",
    "rest_day_signins",
    "days_without_log",
)
HALF_DAY = Decimal("0.5")
TEMP_TABLE = "kaitai_audit_figures"
# Memory for the statement's hash tables on PostgreSQL: grouping a month of
# 50,000 cadres' sign-ins by (cadre, day) spills to disk below about 100 MB
# (a cap, not an allocation: a county of 800 cadres uses a few MB).
WORK_MEM = "128MB"


class AuditLocked(ValidationError):
    """The month of a township is filed (备案): the county office must reopen it."""

    def __init__(self, townships: list[Area], month: datetime.date) -> None:
        self.townships = townships
        self.month = month
        names = "、".join(t.name for t in townships)
        super().__init__(
            _(
                "The monthly audit of %(townships)s for %(month)s is filed; the county "
                "office must reopen it before it can be run again."
            )
            % {"townships": names, "month": month.strftime("%Y-%m")},
            code="locked",
        )


class MonthNotOver(ValidationError):
    def __init__(self, month: datetime.date) -> None:
        self.month = month
        super().__init__(
            _("%(month)s is not over yet; a month is audited once it has ended.")
            % {"month": month.strftime("%Y-%m")},
            code="month_not_over",
        )


# --- months ------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    nxt = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return nxt - datetime.timedelta(days=1)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return month_start(month_start(today) - datetime.timedelta(days=1))


def parse_month(value: str) -> datetime.date:
    """ "YYYY-MM" (or an ISO date) to the first day of the month; ValueError otherwise."""
    value = (value or "").strip()
    if len(value) == 7:
        return datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a date)
    return month_start(datetime.date.fromisoformat(value))


# --- the statement ---------------------------------------------------------------

_SQL = """
WITH
halves (half) AS (SELECT %(am)s UNION ALL SELECT %(pm)s),
mem0 AS (
  SELECT m.id AS membership_id, m.cadre_id AS cadre_id, t.village_id AS village_id,
         v.township_id AS township_id,
         CASE WHEN m.start_date > %(start)s THEN m.start_date ELSE %(start)s END AS ds,
         CASE WHEN m.end_date IS NULL OR m.end_date > %(end)s THEN %(end)s
              ELSE m.end_date END AS de
  FROM {membership} m
  JOIN {team} t ON t.id = m.team_id
  JOIN {area} v ON v.id = t.village_id
  WHERE v.county_id = %(county)s
    AND m.start_date <= %(end)s AND (m.end_date IS NULL OR m.end_date >= %(start)s)
    {mem_filter}
),
mem AS (
  -- A day of a cadre's earlier membership in the same village is not counted
  -- twice (a role change ends one membership and starts the next on one day):
  -- a membership covers only days after the earlier ones' last day.
  SELECT cadre_id, village_id, township_id, ds, de,
         MAX(de) OVER (
           PARTITION BY cadre_id, village_id ORDER BY ds, membership_id
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
         ) AS prev_de
  FROM mem0
),
days AS (
  SELECT date AS day, is_working FROM {workday}
  WHERE county_id = %(county)s AND date >= %(start)s AND date <= %(end)s
),
lv AS (
  -- Approved leave and official business per cadre, working day and half: a
  -- request covers the halves from (start_date, start_half) to (end_date,
  -- end_half), both inclusive.
  SELECT l.cadre_id, days.day, h.half,
         MAX(CASE WHEN l.kind = %(business)s THEN 1 ELSE 0 END) AS biz,
         MAX(CASE WHEN l.kind = %(leave)s THEN 1 ELSE 0 END) AS lea
  FROM {leave} l
  JOIN days ON days.is_working AND days.day >= l.start_date AND days.day <= l.end_date
  CROSS JOIN halves h
  WHERE l.status = %(approved)s
    AND l.start_date <= %(end)s AND l.end_date >= %(start)s
    AND l.cadre_id IN (SELECT cadre_id FROM mem0)
    AND (days.day > l.start_date OR l.start_half = %(am)s OR h.half = %(pm)s)
    AND (days.day < l.end_date OR l.end_half = %(pm)s OR h.half = %(am)s)
  GROUP BY l.cadre_id, days.day, h.half
)
"""

_FIGURES_SELECT = """,
cal AS (
  -- The calendar's running count of working days: the working days from a to b
  -- are cal(b).cum - (cal(a).cum - cal(a).working).
  SELECT day, CASE WHEN is_working THEN 1 ELSE 0 END AS working,
         SUM(CASE WHEN is_working THEN 1 ELSE 0 END) OVER (ORDER BY day) AS cum
  FROM days
),
span AS (
  -- Working days within the memberships (without the days of an earlier
  -- membership in the same village).
  SELECT mem.cadre_id, mem.village_id, mem.township_id,
         SUM(CASE
               WHEN mem.prev_de IS NULL OR mem.prev_de < mem.ds
                 THEN c_de.cum - (c_ds.cum - c_ds.working)
               WHEN mem.prev_de >= mem.de THEN 0
               ELSE c_de.cum - c_prev.cum
             END) AS working
  FROM mem
  JOIN cal c_ds ON c_ds.day = mem.ds
  JOIN cal c_de ON c_de.day = mem.de
  LEFT JOIN cal c_prev ON c_prev.day = mem.prev_de
  GROUP BY mem.cadre_id, mem.village_id, mem.township_id
),
sd AS (
  -- Sign-ins and help logs per cadre and day, in one pass over both. The
  -- database keeps at most one counting sign-in per cadre, day and half, so
  -- am and pm are 0 or 1.
  SELECT cadre_id, day, SUM(am) AS am, SUM(pm) AS pm, SUM(ooa) AS ooa, SUM(oh) AS oh,
         SUM(n) AS n, SUM(logged) AS logged
  FROM (
    SELECT cadre_id, date AS day,
           CASE WHEN counts AND half = %(am)s THEN 1 ELSE 0 END AS am,
           CASE WHEN counts AND half = %(pm)s THEN 1 ELSE 0 END AS pm,
           CASE WHEN in_area OR accepted THEN 0 ELSE 1 END AS ooa,
           CASE WHEN half = %(none)s THEN 1 ELSE 0 END AS oh,
           1 AS n, 0 AS logged
    FROM {signin}
    WHERE date >= %(start)s AND date <= %(end)s {cadre_filter}
    UNION ALL
    SELECT cadre_id, date, 0, 0, 0, 0, 0, 1
    FROM {helplog}
    WHERE date >= %(start)s AND date <= %(end)s {cadre_filter}
  ) e
  GROUP BY cadre_id, day
),
signed AS (
  SELECT mem.cadre_id, mem.village_id,
         SUM(CASE WHEN days.is_working THEN sd.am + sd.pm ELSE 0 END) AS valid_halves,
         SUM(CASE WHEN days.is_working THEN sd.ooa ELSE 0 END) AS out_of_area,
         SUM(CASE WHEN days.is_working THEN sd.oh ELSE 0 END) AS outside_hours,
         SUM(CASE WHEN NOT days.is_working AND sd.n > 0 THEN 1 ELSE 0 END) AS rest_day_signins,
         SUM(CASE WHEN days.is_working AND sd.am + sd.pm > 0 AND sd.logged = 0 THEN 1 ELSE 0 END)
           AS days_without_log
  FROM sd
  JOIN mem ON mem.cadre_id = sd.cadre_id AND sd.day >= mem.ds AND sd.day <= mem.de
        AND (mem.prev_de IS NULL OR sd.day > mem.prev_de)
  JOIN days ON days.day = sd.day
  GROUP BY mem.cadre_id, mem.village_id
),
away AS (
  -- Halves of approved business (on post) or leave without a counting sign-in.
  SELECT mem.cadre_id, mem.village_id,
         SUM(lv.biz) AS biz_halves,
         SUM(CASE WHEN lv.biz = 0 THEN lv.lea ELSE 0 END) AS leave_halves
  FROM lv
  JOIN mem ON mem.cadre_id = lv.cadre_id AND lv.day >= mem.ds AND lv.day <= mem.de
        AND (mem.prev_de IS NULL OR lv.day > mem.prev_de)
  WHERE NOT EXISTS (
    SELECT 1 FROM {signin} si
    WHERE si.cadre_id = lv.cadre_id AND si.date = lv.day AND si.half = lv.half AND si.counts
  )
  GROUP BY mem.cadre_id, mem.village_id
)
SELECT span.cadre_id, span.village_id, span.township_id,
       CAST(span.working * 2 AS INTEGER) AS working_halves,
       CAST(COALESCE(signed.valid_halves, 0) + COALESCE(away.biz_halves, 0) AS INTEGER)
         AS on_post_halves,
       CAST(COALESCE(away.leave_halves, 0) AS INTEGER) AS leave_halves,
       CAST(COALESCE(signed.out_of_area, 0) AS INTEGER) AS out_of_area,
       CAST(COALESCE(signed.outside_hours, 0) AS INTEGER) AS outside_hours,
       CAST(COALESCE(signed.rest_day_signins, 0) AS INTEGER) AS rest_day_signins,
       CAST(COALESCE(signed.days_without_log, 0) AS INTEGER) AS days_without_log
FROM span
LEFT JOIN signed ON signed.cadre_id = span.cadre_id AND signed.village_id = span.village_id
LEFT JOIN away ON away.cadre_id = span.cadre_id AND away.village_id = span.village_id
"""

_HALVES_SELECT = """,
grid AS (
  -- The grid of (membership, day, half): working days get both halves.
  SELECT mem.cadre_id, mem.village_id, days.day, days.is_working, h.half
  FROM mem
  JOIN days ON days.day >= mem.ds AND days.day <= mem.de
        AND (mem.prev_de IS NULL OR days.day > mem.prev_de)
  JOIN halves h ON days.is_working OR h.half = %(am)s
),
valid AS (
  SELECT cadre_id, date AS day, half FROM {signin}
  WHERE counts AND date >= %(start)s AND date <= %(end)s {cadre_filter}
)
SELECT g.cadre_id, g.village_id, g.day, g.half,
       CASE WHEN g.is_working THEN 1 ELSE 0 END AS working,
       CASE WHEN valid.cadre_id IS NULL THEN 0 ELSE 1 END AS valid,
       COALESCE(lv.biz, 0) AS biz, COALESCE(lv.lea, 0) AS lea
FROM grid g
LEFT JOIN valid ON valid.cadre_id = g.cadre_id AND valid.day = g.day AND valid.half = g.half
LEFT JOIN lv ON lv.cadre_id = g.cadre_id AND lv.day = g.day AND lv.half = g.half
ORDER BY g.cadre_id, g.village_id, g.day, g.half
"""


def _tables() -> dict[str, str]:
    qn = connection.ops.quote_name
    return {
        "membership": qn(Membership._meta.db_table),
        "team": qn(Team._meta.db_table),
        "area": qn(Area._meta.db_table),
        "workday": qn(WorkDay._meta.db_table),
        "signin": qn(SignIn._meta.db_table),
        "leave": qn(LeaveRequest._meta.db_table),
        "helplog": qn(HelpLog._meta.db_table),
    }


def _statement(
    tail: str,
    *,
    county_id: int,
    start: datetime.date,
    end: datetime.date,
    township_ids: list[int] | None = None,
    team_id: int | None = None,
    narrow: bool = True,
) -> tuple[str, dict]:
    """The CTEs and the given final SELECT, with named parameters only (the
    table names come from the models, never from input). ``narrow`` limits the
    month's sign-ins and help logs to the memberships' cadres before grouping
    them; with one county in the database that filter only costs time."""
    adapt = connection.ops.adapt_datefield_value
    params: dict = {
        "county": county_id,
        "start": adapt(start),
        "end": adapt(end),
        "am": Half.MORNING.value,
        "pm": Half.AFTERNOON.value,
        "none": "",
        "business": LeaveKind.BUSINESS.value,
        "leave": LeaveKind.LEAVE.value,
        "approved": LeaveStatus.APPROVED.value,
    }
    mem_filter = ""
    if township_ids is not None:
        names = []
        for index, pk in enumerate(township_ids):
            params[f"t{index}"] = int(pk)
            names.append(f"%(t{index})s")
        mem_filter = f"AND v.township_id IN ({', '.join(names) or 'NULL'})"
    if team_id is not None:
        params["team"] = int(team_id)
        mem_filter += " AND m.team_id = %(team)s"
    narrow = narrow or township_ids is not None or team_id is not None
    cadre_filter = "AND cadre_id IN (SELECT cadre_id FROM mem0)" if narrow else ""
    tables = _tables()
    sql = _SQL.format(mem_filter=mem_filter, **tables) + tail.format(
        cadre_filter=cadre_filter, **tables
    )
    return sql, params


def _single_county(county_id: int) -> bool:
    return not Area.objects.filter(level=AreaLevel.COUNTY).exclude(pk=county_id).exists()


# PostgreSQL settings for the one statement (restored right after it):
STATEMENT_SETTINGS = {
    # memory for its hash tables
    "work_mem": WORK_MEM,
    # compiling this one statement costs more than it saves
    "jit": "off",
    # the planner underestimates the (cadre, day) groups, then sorts a million
    # of them for a merge join where a hash join is cheap
    "enable_mergejoin": "off",
    # parallel workers each group a share of the month's rows by (cadre, day)
    # and the leader groups them all again: slower on the machines measured
    "max_parallel_workers_per_gather": "0",
}


@contextmanager
def _statement_settings():
    """On PostgreSQL, STATEMENT_SETTINGS for the statement, in a transaction (a
    savepoint when the caller has one), restored afterwards either way."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            yield
            return
        names = list(STATEMENT_SETTINGS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(["current_setting(%s)"] * len(names)), names)
            before = dict(zip(names, cursor.fetchone(), strict=True))
            _set(cursor, STATEMENT_SETTINGS)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                _set(cursor, before)


def _set(cursor, values: dict) -> None:
    pairs = [item for pair in values.items() for item in pair]
    cursor.execute("SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(values)), pairs)


def _ids(items: Iterable[Area | int] | None) -> list[int] | None:
    if items is None:
        return None
    return [item if isinstance(item, int) else item.pk for item in items]


def _days(halves: int) -> Decimal:
    return Decimal(int(halves)) * HALF_DAY


def month_figures(
    *,
    county: Area | int,
    month: datetime.date,
    townships: Iterable[Area | int] | None = None,
    upto: datetime.date | None = None,
) -> list[dict]:
    """The month's figures per (cadre, village), computed and not saved.

    With ``upto``, only days up to and including it count (the month to date).
    Each row: ``cadre_id, village_id, township_id`` and the eight figures of the
    rules (days as Decimal in 0.5 steps, counts as int). Three queries once the
    calendar is seeded: the calendar check, whether other counties share the
    database, and the statement."""
    county_id = county if isinstance(county, int) else county.pk
    start = month_start(month)
    end = month_end(start)
    if upto is not None:
        end = min(end, upto)
    if end < start:
        return []
    calendar_ensure_range(county=county_id, start=start, end=end)
    township_ids = _ids(townships)
    sql, params = _statement(
        _FIGURES_SELECT,
        county_id=county_id,
        start=start,
        end=end,
        township_ids=township_ids,
        narrow=township_ids is not None or not _single_county(county_id),
    )
    with _statement_settings(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for cadre_id, village_id, township_id, wh, oph, lh, ooa, oh, rest, nolog in rows:
        result.append(
            {
                "cadre_id": cadre_id,
                "village_id": village_id,
                "township_id": township_id,
                "working_days": _days(wh),
                "on_post_days": _days(oph),
                "leave_days": _days(lh),
                "absent_days": _days(wh - oph - lh),
                "out_of_area": int(ooa),
                "outside_hours": int(oh),
                "rest_day_signins": int(rest),
                "days_without_log": int(nolog),
            }
        )
    result.sort(key=lambda r: (r["township_id"], r["village_id"], r["cadre_id"]))
    return result


def team_month_halves(*, team: Team, month: datetime.date) -> list[tuple]:
    """Each (cadre, village, day, half) of a team's memberships in the month,
    with ``working, valid, biz, lea`` flags: the record book's cells. The grid
    of (membership, day, half) is built from the same memberships, calendar and
    leave expressions as the audit (one statement once the calendar is seeded)."""
    county_id = team.village.county_id
    start = month_start(month)
    end = month_end(start)
    calendar_ensure_range(county=county_id, start=start, end=end)
    sql, params = _statement(
        _HALVES_SELECT, county_id=county_id, start=start, end=end, team_id=team.pk
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for cadre_id, village_id, day, half, working, valid, biz, lea in rows:
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day)
        result.append(
            (cadre_id, village_id, day, half, int(working), int(valid), int(biz), int(lea))
        )
    return result


# --- saving ------------------------------------------------------------------------


def _county_of(county: Area | int) -> Area:
    if isinstance(county, Area):
        return county
    return Area.objects.get(pk=county, level=AreaLevel.COUNTY)


def _check_actor(actor, county: Area) -> None:
    if actor is None:  # the scheduler or the command line
        return
    scope = user_scope(actor)
    if (
        not actor.has_perm("attendance.run_audit")
        or scope.kind != Scope.COUNTY
        or scope.pk != county.pk
    ):
        raise PermissionDenied


def target_townships(*, county: Area, township: Area | int | None = None) -> list[Area]:
    townships = Area.objects.filter(level=AreaLevel.TOWNSHIP, county_id=county.pk)
    if township is not None:
        pk = township if isinstance(township, int) else township.pk
        found = list(townships.filter(pk=pk))
        if not found:
            raise ValidationError(
                {"township": _("This township is not in the county.")}, code="township"
            )
        return found
    return list(townships.order_by("code", "pk"))


def locked_townships(*, townships: list[Area], month: datetime.date) -> list[Area]:
    """Those of the townships whose batch of the month is filed."""
    filed = set(
        AttendanceBatch.objects.filter(
            township__in=townships, month=month, status=BatchStatus.FILED
        ).values_list("township_id", flat=True)
    )
    return [t for t in townships if t.pk in filed]


def check_month(month: datetime.date, today: datetime.date | None = None) -> datetime.date:
    month = month_start(month)
    today = today or timezone.localdate()
    if month_end(month) >= today:
        raise MonthNotOver(month)
    return month


def _create_temp_table(sql: str, params: dict) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {qn(TEMP_TABLE)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {qn(TEMP_TABLE)} AS {sql}", params)
        cursor.execute(
            f"CREATE INDEX {qn(TEMP_TABLE + '_township')} ON {qn(TEMP_TABLE)} (township_id)"
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {qn(TEMP_TABLE)}")


def _drop_temp_table() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(TEMP_TABLE)}")


# The month's rows of a batch are replaced by the township's figures: inserted,
# or updated in place where the figures changed (an unchanged row is not
# touched, so a re-run rewrites nothing it does not have to), and the rows of
# cadres no longer there are deleted; all in the township's transaction.
_FIGURES_OF_TOWNSHIP = """
SELECT %(batch)s AS batch_id, cadre_id, village_id, %(month)s AS month,
       working_halves * 0.5 AS working_days,
       on_post_halves * 0.5 AS on_post_days,
       leave_halves * 0.5 AS leave_days,
       (working_halves - on_post_halves - leave_halves) * 0.5 AS absent_days,
       out_of_area, outside_hours, rest_day_signins, days_without_log,
       ((CAST(on_post_halves AS BIGINT) * %(rate_cents)s + 1) / 2) / 100.0 AS subsidy
FROM {figures}
WHERE township_id = %(township)s
ORDER BY cadre_id, village_id
"""
_UPSERT = (
    """
INSERT INTO {monthly} (
  batch_id, cadre_id, village_id, month, working_days, on_post_days, leave_days,
  absent_days, out_of_area, outside_hours, rest_day_signins, days_without_log, subsidy
)"""
    + _FIGURES_OF_TOWNSHIP
    + """
ON CONFLICT (batch_id, cadre_id, village_id) DO UPDATE SET
  month = excluded.month,
  working_days = excluded.working_days,
  on_post_days = excluded.on_post_days,
  leave_days = excluded.leave_days,
  absent_days = excluded.absent_days,
  out_of_area = excluded.out_of_area,
  outside_hours = excluded.outside_hours,
  rest_day_signins = excluded.rest_day_signins,
  days_without_log = excluded.days_without_log,
  subsidy = excluded.subsidy
WHERE {monthly}.month <> excluded.month
   OR {monthly}.working_days <> excluded.working_days
   OR {monthly}.on_post_days <> excluded.on_post_days
   OR {monthly}.leave_days <> excluded.leave_days
   OR {monthly}.absent_days <> excluded.absent_days
   OR {monthly}.out_of_area <> excluded.out_of_area
   OR {monthly}.outside_hours <> excluded.outside_hours
   OR {monthly}.rest_day_signins <> excluded.rest_day_signins
   OR {monthly}.days_without_log <> excluded.days_without_log
   OR {monthly}.subsidy <> excluded.subsidy
"""
)
_DELETE_GONE = """
DELETE FROM {monthly}
WHERE batch_id = %(batch)s AND NOT EXISTS (
  SELECT 1 FROM {figures} f
  WHERE f.township_id = %(township)s
    AND f.cadre_id = {monthly}.cadre_id AND f.village_id = {monthly}.village_id
)
"""
_COUNT = "SELECT COUNT(*) FROM {figures} WHERE township_id = %(township)s"


@transaction.atomic
def _replace_batch(
    *,
    township: Area,
    month: datetime.date,
    rate_cents: int,
    actor,
    via: str,
    skip_filed: bool,
    request=None,
) -> dict:
    """One township's month: lock the batch, check it is not filed, replace its
    rows, stamp it as computed (a draft again), and write the audit row."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        # The figures can always be computed again: no need to wait for the
        # WAL flush at each township's commit.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")
    AttendanceBatch.objects.bulk_create(
        [AttendanceBatch(township=township, month=month, computed_at=now)], ignore_conflicts=True
    )
    batch = AttendanceBatch.objects.select_for_update().get(township=township, month=month)
    batch.township = township
    if batch.status == BatchStatus.FILED:
        if skip_filed:
            return {"township": township.pk, "name": township.name, "rows": 0, "skipped": True}
        raise AuditLocked([township], month)
    previous = batch.status
    qn = connection.ops.quote_name
    names = {"monthly": qn(MonthlyAttendance._meta.db_table), "figures": qn(TEMP_TABLE)}
    params = {
        "batch": batch.pk,
        "month": connection.ops.adapt_datefield_value(month),
        "rate_cents": rate_cents,
        "township": township.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(_DELETE_GONE.format(**names), params)
        removed = cursor.rowcount
        cursor.execute(_UPSERT.format(**names), params)
        changed = cursor.rowcount
        cursor.execute(_COUNT.format(**names), params)
        rows = cursor.fetchone()[0]
    batch.computed_at = now
    batch.status = BatchStatus.DRAFT
    batch.submitted_by = None
    batch.submitted_at = None
    batch.save(update_fields=["computed_at", "status", "submitted_by", "submitted_at"])
    audit_log.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=batch,
        username=None if actor is not None else f"[{via}]",
        detail={
            "what": "monthly_audit",
            "month": month.strftime("%Y-%m"),
            "via": via,
            "rows": rows,
            "written": changed,
            "removed": removed,
            "status_before": previous,
        },
    )
    return {"township": township.pk, "name": township.name, "rows": rows, "skipped": False}


def audit_month(
    *,
    actor,
    county: Area | int,
    month: datetime.date,
    township: Area | int | None = None,
    progress: Callable[[int, int], None] | None = None,
    skip_filed: bool = False,
    via: str = "portal",
    today: datetime.date | None = None,
    request=None,
) -> dict:
    """Compute and save a county's month (or one township's), replacing its rows.

    Raises :class:`AuditLocked` when a township's month is filed (unless
    ``skip_filed``: the scheduled run leaves filed months alone) and
    :class:`MonthNotOver` for a month that has not ended. Returns
    ``{"month", "rows", "townships": [{"township", "name", "rows", "skipped"}]}``."""
    county = _county_of(county)
    _check_actor(actor, county)
    month = check_month(month, today)
    townships = target_townships(county=county, township=township)
    locked = locked_townships(townships=townships, month=month)
    if locked and not skip_filed:
        raise AuditLocked(locked, month)
    todo = [t for t in townships if t not in locked]
    total = len(todo)
    if progress:
        progress(0, total)
    results = [{"township": t.pk, "name": t.name, "rows": 0, "skipped": True} for t in locked]
    if todo:
        start, end = month, month_end(month)
        calendar_ensure_range(county=county.pk, start=start, end=end)
        rate = settings_for(county=county.pk).daily_rate
        rate_cents = int((Decimal(rate) * 100).to_integral_value())
        sql, params = _statement(
            _FIGURES_SELECT,
            county_id=county.pk,
            start=start,
            end=end,
            township_ids=None if township is None else [t.pk for t in todo],
            narrow=township is not None or not _single_county(county.pk),
        )
        with _statement_settings():
            _create_temp_table(sql, params)
        try:
            for done, item in enumerate(todo, start=1):
                results.append(
                    _replace_batch(
                        township=item,
                        month=month,
                        rate_cents=rate_cents,
                        actor=actor,
                        via=via,
                        skip_filed=skip_filed,
                        request=request,
                    )
                )
                if progress:
                    progress(done, total)
        finally:
            _drop_temp_table()
    order = {t.pk: i for i, t in enumerate(townships)}
    results.sort(key=lambda r: order[r["township"]])
    return {
        "county": county.pk,
        "month": month.strftime("%Y-%m"),
        "rows": sum(r["rows"] for r in results),
        "townships": results,
    }


# --- background runs: progress, schedule --------------------------------------------

PROGRESS_TIMEOUT = 24 * 3600
MAX_ATTEMPTS = 3


def progress_key(job_id: str) -> str:
    return f"kaitai:attendance:audit-job:{job_id}"


def job_start(*, job_id: str, county: Area, user, month: datetime.date, township=None) -> dict:
    """The job's progress record in the cache, before the task is queued."""
    state = {
        "state": "queued",
        "county": county.pk,
        "user": getattr(user, "pk", None),
        "month": month.strftime("%Y-%m"),
        "township": getattr(township, "pk", None),
        "done": 0,
        "total": 0,
        "message": "",
    }
    cache.set(progress_key(job_id), state, PROGRESS_TIMEOUT)
    return state


def job_state(job_id: str) -> dict | None:
    return cache.get(progress_key(job_id))


def _job_update(job_id: str | None, **values) -> None:
    if not job_id:
        return
    state = cache.get(progress_key(job_id)) or {}
    state.update(values)
    cache.set(progress_key(job_id), state, PROGRESS_TIMEOUT)


def run_audit_job(
    *,
    job_id: str | None,
    county_id: int,
    month_iso: str,
    township_id: int | None = None,
    actor_id: int | None = None,
    scheduled_for: str | None = None,
) -> dict:
    """What the Celery task runs: the audit with its progress in the cache.

    A scheduled run (``scheduled_for``, the hour it was due) leaves filed
    months alone and does nothing when the month was already computed since
    that hour, so a duplicate or redelivered message is harmless. Redeliveries
    are capped at ``MAX_ATTEMPTS``."""
    if job_id:
        attempts_key = progress_key(job_id) + ":attempts"
        cache.add(attempts_key, 0, PROGRESS_TIMEOUT)
        if cache.incr(attempts_key) > MAX_ATTEMPTS:
            _job_update(job_id, state="failed", message=str(_("Gave up after repeated attempts.")))
            return {"skipped": "attempts"}
    county = Area.objects.get(pk=county_id, level=AreaLevel.COUNTY)
    month = parse_month(month_iso)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    if scheduled_for:
        since = datetime.datetime.fromisoformat(scheduled_for)
        if computed_since(county=county, month=month, since=since):
            _job_update(job_id, state="done", message="already computed")
            return {"skipped": "already computed", "month": month.strftime("%Y-%m")}
    _job_update(job_id, state="running")

    def progress(done: int, total: int) -> None:
        _job_update(job_id, done=done, total=total)

    try:
        result = audit_month(
            actor=actor,
            county=county,
            month=month,
            township=township_id,
            progress=progress,
            skip_filed=bool(scheduled_for),
            via="schedule" if scheduled_for else "portal",
        )
    except (ValidationError, PermissionDenied) as exc:
        message = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        _job_update(job_id, state="failed", message=message)
        return {"error": message}
    except Exception:
        logger.exception("monthly audit of county %s, %s failed", county_id, month_iso)
        _job_update(job_id, state="failed", message=str(_("The audit failed; see the logs.")))
        raise
    _job_update(job_id, state="done", result=result)
    return result


def computed_since(*, county: Area, month: datetime.date, since: datetime.datetime) -> bool:
    """Whether every township of the county that is not filed has its month
    computed at or after ``since`` (one query)."""
    figures = Area.objects.filter(level=AreaLevel.TOWNSHIP, county_id=county.pk).aggregate(
        townships=Count("pk", distinct=True),
        filed=Count(
            "pk",
            distinct=True,
            filter=Q(
                pk__in=AttendanceBatch.objects.filter(
                    month=month, status=BatchStatus.FILED, township__county_id=county.pk
                ).values("township_id")
            ),
        ),
        fresh=Count(
            "pk",
            distinct=True,
            filter=Q(
                pk__in=AttendanceBatch.objects.filter(
                    month=month,
                    computed_at__gte=since,
                    township__county_id=county.pk,
                )
                .exclude(status=BatchStatus.FILED)
                .values("township_id")
            ),
        ),
    )
    return figures["fresh"] + figures["filed"] >= figures["townships"]


def _dispatch_key(county_id: int, month: datetime.date, hour: str) -> str:
    stamp = datetime.datetime.fromisoformat(hour)
    return f"kaitai:attendance:audit-due:{county_id}:{month:%Y%m}:{stamp:%Y%m%d%H}"


def due_audits(*, now: datetime.datetime | None = None) -> list[tuple[int, datetime.date, str]]:
    """The counties whose audit day and hour (their settings, or the defaults)
    are now and that were not dispatched this hour yet, each with the month
    before and the hour it is due (two queries and one cache read)."""
    local = timezone.localtime(now)
    hour = local.replace(minute=0, second=0, microsecond=0).isoformat()
    month = previous_month(local.date())
    field = AttendanceSettings._meta.get_field
    counties = list(
        Area.objects.filter(level=AreaLevel.COUNTY)
        .annotate(
            due_day=Coalesce("attendance_settings__audit_day", Value(field("audit_day").default)),
            due_hour=Coalesce(
                "attendance_settings__audit_hour", Value(field("audit_hour").default)
            ),
        )
        .filter(due_day=local.day, due_hour=local.hour)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    done = cache.get_many([_dispatch_key(pk, month, hour) for pk in counties])
    return [(pk, month, hour) for pk in counties if _dispatch_key(pk, month, hour) not in done]


def mark_dispatched(*, county_id: int, month: datetime.date, hour: str) -> None:
    """Remember that the county's audit of the hour was queued. Marked after
    queueing: a crash in between queues it again, which is harmless (the job
    does nothing when the month was computed since that hour), while marking
    first could lose the month's audit."""
    cache.set(_dispatch_key(county_id, month, hour), 1, 2 * 3600)
