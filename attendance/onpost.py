"""The 200-day rule (attendance-rules.md, "The 200-day rule"): per cadre and year.

For a county, a year and a day ``as_of`` (the check's "today"):

``required_days``
    The county's ``required_days`` (200) × the working days within the cadre's
    memberships that year ÷ the working days of the year, rounded half up to a
    whole day (Decimal). A membership spanning the whole year gives exactly
    the setting. With several memberships in the year, the days within *any*
    of them count (their union: a move from one team to another on one day is
    not counted twice).
``on_post_days``
    On-post days from January 1st to ``as_of``, as in the monthly audit.
``remaining_working_days``
    Working days within the memberships from the day after ``as_of`` to the
    end of the membership or of the year, whichever is first (0 once the
    membership has ended).
``status``
    ``met`` when on_post_days ≥ required_days; ``at_risk`` when on_post_days +
    remaining_working_days < required_days (the cadre can no longer make it);
    otherwise ``on_track``.

Where the on-post days come from (so that a check never scans a year of
sign-ins):

* every month of the year that has ended by ``as_of`` is read from the monthly
  rollups, the ``MonthlyAttendance`` rows of the townships' batches, in one
  ``SUM ... GROUP BY cadre`` query, whatever the batch's status (draft,
  submitted or filed);
* a (township, month) among those that has no batch yet — the month's audit
  has not run, e.g. the check runs before the audit of the month just ended —
  is computed with the audit engine's ``month_figures`` for just those
  townships, **without saving**: batches go through township review and
  county filing, so the check never creates one as a side effect;
* the month of ``as_of``, when it has not ended, is computed with
  ``month_figures(..., upto=as_of)``: only that month's sign-ins are read.

So an ended month counts what its audit stored: after a late change to that
month (a sign-in accepted, leave approved afterwards, a membership corrected)
its audit is re-run (a filed month is reopened first), as the rules have it.

The working calendar is read once (one query for the year's working days once
the year is seeded by ``calendar_ensure_year``) and the pro-rating and the
remaining days are worked out from it for every cadre in Python, so the check
runs a fixed number of queries per county whatever the number of cadres or of
months (plus one statement for each ended month that some township has no
batch for). The rows are stored with one upsert statement (``_store``).

:func:`check_on_post` stores one ``OnPostCheck`` per cadre and year (an
upsert on the unique pair, replacing the previous check), with ``as_of`` and
``computed_at``, in one transaction per county together with its audit row.
A cadre no longer in the county's memberships that year loses their row.
Running it twice gives the same rows, so a duplicate scheduled run is harmless.
"""

from __future__ import annotations

import bisect
import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    Sum,
    When,
)
from django.db.models import Value as V
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit as audit_log
from core.choices import AreaLevel, AuditAction
from core.models import Area
from teams.models import Membership

from . import audit as monthly
from .calendar import calendar_ensure_year, settings_for
from .choices import OnPostStatus
from .models import AttendanceBatch, MonthlyAttendance, OnPostCheck, WorkDay

ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")
# A remaining week is five working days (the working days left ÷ 5), so a
# cadre who needs more than 5.0 days a week is at risk, and nobody on track does.
WORKING_DAYS_A_WEEK = 5
STATUS_ORDER = (OnPostStatus.AT_RISK, OnPostStatus.ON_TRACK, OnPostStatus.MET)


# --- the rule ----------------------------------------------------------------------


def required_for(*, required: int, membership_days: int, year_days: int) -> int:
    """``required`` × membership_days ÷ year_days, rounded half up to a whole day."""
    if year_days <= 0 or membership_days <= 0:
        return 0
    if membership_days >= year_days:
        return int(required)
    share = Decimal(int(required)) * Decimal(int(membership_days)) / Decimal(int(year_days))
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def status_of(*, required_days: int, on_post_days: Decimal, remaining_working_days: int) -> str:
    if on_post_days >= required_days:
        return OnPostStatus.MET
    if on_post_days + remaining_working_days < required_days:
        return OnPostStatus.AT_RISK
    return OnPostStatus.ON_TRACK


def days_short(*, required_days: int, on_post_days: Decimal) -> Decimal:
    """On-post days still needed to meet the requirement (0 once met)."""
    return max(Decimal(required_days) - Decimal(on_post_days), ZERO)


def weekly_needed(
    *, required_days: int, on_post_days: Decimal, remaining_working_days: int
) -> Decimal | None:
    """On-post days needed per remaining week (of five working days), rounded
    up to one decimal; None when days are still needed and none remain."""
    short = days_short(required_days=required_days, on_post_days=on_post_days)
    if short == 0:
        return Decimal("0.0")
    if remaining_working_days <= 0:
        return None
    per_week = short * WORKING_DAYS_A_WEEK / Decimal(remaining_working_days)
    return per_week.quantize(ONE_DECIMAL, rounding=ROUND_CEILING)


# --- dates -------------------------------------------------------------------------


def effective_as_of(*, year: int, as_of: datetime.date | None = None) -> datetime.date:
    """The day the check is as of: ``as_of`` (today when not given), no later
    than December 31st of the year. A day before the year is refused."""
    day = as_of or timezone.localdate()
    if day.year < year:
        raise ValidationError(
            _("The check of %(year)s can only be as of a day in %(year)s or later.")
            % {"year": year},
            code="as_of",
        )
    return min(day, datetime.date(year, 12, 31))


class YearCalendar:
    """The working days of one county's year, with O(log n) counts of working
    days in any range (one query for the whole year)."""

    def __init__(self, year: int, working: Iterable[datetime.date]) -> None:
        self.year = year
        self.first = datetime.date(year, 1, 1)
        self.last = datetime.date(year, 12, 31)
        self.ordinals = sorted(d.toordinal() for d in working)

    @classmethod
    def load(cls, *, county_id: int, year: int) -> YearCalendar:
        calendar_ensure_year(county=county_id, year=year)
        days = WorkDay.objects.filter(
            county_id=county_id, date__year=year, is_working=True
        ).values_list("date", flat=True)
        return cls(year, days)

    @property
    def total(self) -> int:
        return len(self.ordinals)

    def count(self, start: datetime.date, end: datetime.date) -> int:
        """Working days from start to end, both inclusive."""
        start, end = max(start, self.first), min(end, self.last)
        if end < start:
            return 0
        lo = bisect.bisect_left(self.ordinals, start.toordinal())
        hi = bisect.bisect_right(self.ordinals, end.toordinal())
        return hi - lo

    def count_in(self, spans: list[tuple[datetime.date, datetime.date]], start, end) -> int:
        """Working days from start to end within any of the (merged) spans."""
        return sum(self.count(max(a, start), min(b, end)) for a, b in spans)


def merge_spans(
    spans: Iterable[tuple[datetime.date, datetime.date]],
) -> list[tuple[datetime.date, datetime.date]]:
    """The union of date ranges (both ends inclusive), as disjoint sorted ranges."""
    merged: list[list[datetime.date]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + datetime.timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _months(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """First days of the months from first's month to last's month."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = monthly.month_end(month) + datetime.timedelta(days=1)
    return months


# --- computing ---------------------------------------------------------------------


@dataclass(slots=True)
class CadreYear:
    cadre_id: int
    spans: list[tuple[datetime.date, datetime.date]]
    township_id: int
    village_id: int
    required_days: int = 0
    on_post_days: Decimal = ZERO
    remaining_working_days: int = 0
    status: str = OnPostStatus.ON_TRACK


def _memberships(
    *, county_id: int, year: int, as_of: datetime.date
) -> tuple[dict[int, CadreYear], dict[int, list[tuple[datetime.date, datetime.date]]]]:
    """Each cadre with a membership in the county's year: the membership spans
    within the year, and where the cadre is (the membership in force on
    ``as_of``, else the last one before it, else the first one after it); and
    the spans of each township's memberships (one query)."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    rows = (
        Membership.objects.filter(team__village__county_id=county_id, start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .values_list(
            "pk",
            "cadre_id",
            "start_date",
            "end_date",
            "team__village_id",
            "team__village__township_id",
        )
        .order_by("cadre_id", "start_date", "pk")
    )
    township_spans: dict[int, list] = defaultdict(list)
    result: dict[int, CadreYear] = {}
    group: list[tuple] = []

    def close(found: list[tuple]) -> None:
        if len(found) == 1:
            chosen = found[0]
            spans = [chosen[5]]
        else:
            before = [p for p in found if p[0] <= as_of]
            in_force = [p for p in before if p[1] is None or p[1] >= as_of]
            chosen = max(in_force or before, key=lambda p: (p[0], p[2])) if before else found[0]
            spans = merge_spans(p[5] for p in found)
        result[chosen[6]] = CadreYear(
            cadre_id=chosen[6], spans=spans, township_id=chosen[4], village_id=chosen[3]
        )

    for pk, cadre_id, start, end, village_id, township_id in rows:
        span = (max(start, first), min(end or last, last))
        township_spans[township_id].append(span)
        if group and group[0][6] != cadre_id:
            close(group)
            group = []
        group.append((start, end, pk, village_id, township_id, span, cadre_id))
    if group:
        close(group)
    return result, {t: merge_spans(s) for t, s in township_spans.items()}


def _on_post_days(
    *,
    county_id: int,
    year: int,
    as_of: datetime.date,
    township_spans: dict[int, list[tuple[datetime.date, datetime.date]]],
) -> dict[int, Decimal]:
    """On-post days from January 1st to as_of per cadre: ended months from the
    rollups (computed, not saved, where a township's month has no batch yet),
    the month to date from the audit engine."""
    first = datetime.date(year, 1, 1)
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    months = _months(first, as_of)
    ended = [m for m in months if monthly.month_end(m) <= as_of]
    if ended:
        # Months that have ended by as_of: the rollups, in one query.
        batches = AttendanceBatch.objects.filter(
            township__county_id=county_id, month__gte=first, month__lte=ended[-1]
        )
        rollups = (
            MonthlyAttendance.objects.filter(batch_id__in=batches.values("pk"))
            .values("cadre_id")
            .annotate(total=Sum("on_post_days"))
            .values_list("cadre_id", "total")
            .order_by()
        )
        for cadre_id, total in rollups:
            totals[cadre_id] += total
        # A township's month with memberships but no batch yet: computed, not saved.
        present = set(batches.values_list("township_id", "month"))
        for month in ended:
            end = monthly.month_end(month)
            missing = sorted(
                township_id
                for township_id, spans in township_spans.items()
                if (township_id, month) not in present
                and any(a <= end and b >= month for a, b in spans)
            )
            if missing:
                for row in monthly.month_figures(county=county_id, month=month, townships=missing):
                    totals[row["cadre_id"]] += row["on_post_days"]
    if months and months[-1] not in ended:
        # The month to date.
        for row in monthly.month_figures(county=county_id, month=months[-1], upto=as_of):
            totals[row["cadre_id"]] += row["on_post_days"]
    return totals


def compute_year(*, county: Area | int, year: int, as_of: datetime.date) -> list[CadreYear]:
    """The figures of every cadre of the county's year as of a day (no writes
    other than seeding the calendar)."""
    county_id = county if isinstance(county, int) else county.pk
    as_of = effective_as_of(year=year, as_of=as_of)
    calendar = YearCalendar.load(county_id=county_id, year=year)
    required = settings_for(county=county_id).required_days
    cadres, township_spans = _memberships(county_id=county_id, year=year, as_of=as_of)
    on_post = _on_post_days(
        county_id=county_id, year=year, as_of=as_of, township_spans=township_spans
    )
    tomorrow = as_of + datetime.timedelta(days=1)
    for cadre in cadres.values():
        within = calendar.count_in(cadre.spans, calendar.first, calendar.last)
        cadre.required_days = required_for(
            required=required, membership_days=within, year_days=calendar.total
        )
        cadre.on_post_days = on_post.get(cadre.cadre_id, ZERO)
        cadre.remaining_working_days = calendar.count_in(cadre.spans, tomorrow, calendar.last)
        cadre.status = status_of(
            required_days=cadre.required_days,
            on_post_days=cadre.on_post_days,
            remaining_working_days=cadre.remaining_working_days,
        )
    return sorted(cadres.values(), key=lambda c: c.cadre_id)


# --- saving ------------------------------------------------------------------------


_STORED = (
    "cadre_id",
    "year",
    "as_of",
    "township_id",
    "village_id",
    "required_days",
    "on_post_days",
    "remaining_working_days",
    "status",
    "computed_at",
)


def _store(figures: list[CadreYear], *, year: int, as_of: datetime.date, now) -> None:
    """Upsert the rows on (cadre, year): one ``INSERT ... SELECT FROM unnest(...)
    ON CONFLICT DO UPDATE`` on PostgreSQL, an ``executemany`` of the same upsert
    on SQLite. (``bulk_create(update_conflicts=True)`` spends most of its time
    preparing each field of each row in Python: ~10 s for 50,000 rows.) Table
    and column names come from the model, never from input."""
    if not figures:
        return
    qn = connection.ops.quote_name
    table = qn(OnPostCheck._meta.db_table)
    columns = ", ".join(qn(c) for c in _STORED)
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in _STORED[2:])
    conflict = f"ON CONFLICT ({qn('cadre_id')}, {qn('year')}) DO UPDATE SET {updates}"
    stamp = connection.ops.adapt_datetimefield_value(now)
    day = connection.ops.adapt_datefield_value(as_of)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "  # noqa: S608
                "SELECT u.c, %(year)s, %(as_of)s, u.t, u.v, u.r, u.o, u.m, u.s, %(now)s "
                "FROM unnest(%(c)s::bigint[], %(t)s::bigint[], %(v)s::bigint[], "
                "%(r)s::integer[], %(o)s::numeric[], %(m)s::integer[], %(s)s::text[]) "
                f"AS u (c, t, v, r, o, m, s) {conflict}",
                {
                    "year": year,
                    "as_of": day,
                    "now": stamp,
                    "c": [f.cadre_id for f in figures],
                    "t": [f.township_id for f in figures],
                    "v": [f.village_id for f in figures],
                    "r": [f.required_days for f in figures],
                    "o": [f.on_post_days for f in figures],
                    "m": [f.remaining_working_days for f in figures],
                    "s": [str(f.status) for f in figures],
                },
            )
        else:
            marks = ", ".join(["%s"] * len(_STORED))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",  # noqa: S608
                [
                    (
                        f.cadre_id,
                        year,
                        day,
                        f.township_id,
                        f.village_id,
                        f.required_days,
                        str(f.on_post_days),
                        f.remaining_working_days,
                        str(f.status),
                        stamp,
                    )
                    for f in figures
                ],
            )


@transaction.atomic
def check_county(
    *,
    county: Area,
    year: int,
    as_of: datetime.date | None = None,
    actor=None,
    via: str = "portal",
) -> dict:
    """Check one county's year and store the rows, replacing the previous check,
    in one transaction with its audit row. Returns the counts per status."""
    as_of = effective_as_of(year=year, as_of=as_of)
    # One check of a county at a time: a duplicate run waits, then replaces.
    Area.objects.select_for_update().filter(pk=county.pk).first()
    figures = compute_year(county=county, year=year, as_of=as_of)
    now = timezone.now()
    _store(figures, year=year, as_of=as_of, now=now)
    # Cadres of this county's year that this check no longer covers.
    removed, _ = (
        OnPostCheck.objects.filter(year=year, township__county_id=county.pk)
        .exclude(computed_at=now)
        .delete()
    )
    counts = Counter(c.status for c in figures)
    result = {
        "county": county.pk,
        "year": year,
        "as_of": as_of.isoformat(),
        "rows": len(figures),
        "removed": removed,
        **{status.value: counts.get(status, 0) for status in STATUS_ORDER},
    }
    audit_log.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        username=None if actor is not None else f"[{via}]",
        detail={"what": "on_post_check", "via": via, "county_name": county.name, **result},
    )
    return result


def check_on_post(
    *,
    county: Area | int | None = None,
    year: int,
    as_of: datetime.date | None = None,
    actor=None,
    via: str = "command",
) -> list[dict]:
    """The 200-day check of a year for one county, or for every county (each
    in its own transaction). ``as_of`` defaults to today (December 31st for a
    past year). Returns one result per county (see :func:`check_county`)."""
    counties = Area.objects.filter(level=AreaLevel.COUNTY).order_by("pk")
    if county is not None:
        pk = county if isinstance(county, int) else county.pk
        counties = counties.filter(pk=pk)
    as_of = effective_as_of(year=year, as_of=as_of)
    return [check_county(county=c, year=year, as_of=as_of, actor=actor, via=via) for c in counties]


# --- reading (selectors) -----------------------------------------------------------

_SHORT = ExpressionWrapper(
    F("required_days") - F("on_post_days"),
    output_field=DecimalField(max_digits=6, decimal_places=1),
)
_GAP = ExpressionWrapper(
    F("required_days") - F("on_post_days") - F("remaining_working_days"),
    output_field=DecimalField(max_digits=6, decimal_places=1),
)
_STATUS_RANK = Case(
    *[When(status=s, then=V(i)) for i, s in enumerate(STATUS_ORDER)],
    default=V(len(STATUS_ORDER)),
    output_field=IntegerField(),
)


def with_needs(queryset):
    """Annotate ``short`` (days still needed), ``gap`` (days short even if on
    post every remaining day) and ``status_rank`` (at risk first)."""
    return queryset.annotate(short=_SHORT, gap=_GAP, status_rank=_STATUS_RANK)


def decorate(rows: Iterable[OnPostCheck]) -> list[OnPostCheck]:
    """Each row with ``weekly_needed`` and ``days_short`` set (no queries)."""
    rows = list(rows)
    for row in rows:
        row.weekly_needed = weekly_needed(
            required_days=row.required_days,
            on_post_days=row.on_post_days,
            remaining_working_days=row.remaining_working_days,
        )
        row.days_short = days_short(required_days=row.required_days, on_post_days=row.on_post_days)
    return rows


def area_filter(area: Area) -> Q:
    if area.level == AreaLevel.COUNTY:
        return Q(township__county_id=area.pk)
    if area.level == AreaLevel.TOWNSHIP:
        return Q(township_id=area.pk)
    return Q(village_id=area.pk)


def on_post_list(
    *,
    user,
    year: int,
    status: str = "",
    area: Area | None = None,
    unit_id: int | None = None,
):
    """The checks of a year the user may see, at risk first, then by the days
    they are short; filtered by status, area (county, township or village) and
    dispatching unit."""
    rows = OnPostCheck.objects.visible_to(user).filter(year=year)
    if status:
        rows = rows.filter(status=status)
    if area is not None:
        rows = rows.filter(area_filter(area))
    if unit_id:
        rows = rows.filter(cadre__unit_id=unit_id)
    return (
        with_needs(rows)
        .select_related("cadre", "cadre__unit", "township", "village")
        .order_by("status_rank", "-gap", "-short", "township__name", "village__name", "cadre_id")
    )


def summary(queryset) -> dict:
    """Rows per status and in all, and the newest year, as-of day and computing
    time (one query)."""
    figures = queryset.order_by().aggregate(
        **{s.value: Count("pk", filter=Q(status=s)) for s in STATUS_ORDER},
        total=Count("pk"),
        year=Max("year"),
        as_of=Max("as_of"),
        computed_at=Max("computed_at"),
    )
    return figures


def latest_year(queryset) -> int | None:
    return queryset.order_by("-year").values_list("year", flat=True).first()
