"""The working calendar of a county, and the county's attendance settings.

A year's days are seeded set-based (one INSERT) from the ``chinese_calendar``
package, which follows the State Council's notices (public holidays and make-up
working days, 调休上班). For a year the package does not cover, the days fall
back to Monday to Friday and the year is flagged until county staff confirm it.
County staff can correct any day; each correction and confirmation is an audit
row written in the same transaction.
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime
from collections.abc import Iterable
from dataclasses import dataclass

import chinese_calendar
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.models import Area
from core.scoping import Scope, user_scope

from .choices import DaySource
from .models import AttendanceSettings, CalendarYear, WorkDay

MAKE_UP_NOTE = "调休上班"
# From this month on, next year's calendar is checked on the dashboard too.
NEXT_YEAR_FROM_MONTH = 12


def _county_id(county: Area | int) -> int:
    return county if isinstance(county, int) else county.pk


def require_county_staff(actor, county: Area | int, perm: str) -> None:
    """The actor holds the permission and the county is their own (county scope)."""
    scope = user_scope(actor)
    if not actor.has_perm(perm) or scope.kind != Scope.COUNTY or scope.pk != _county_id(county):
        raise PermissionDenied


# --- seeding ---------------------------------------------------------------------


def package_covers(year: int) -> bool:
    """Whether the installed ``chinese_calendar`` knows the year's notices."""
    try:
        chinese_calendar.is_workday(datetime.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _year_days(year: int) -> Iterable[datetime.date]:
    day = datetime.date(year, 1, 1)
    while day.year == year:
        yield day
        day += datetime.timedelta(days=1)


def _holiday_name(name: str | None) -> str:
    if not name:
        return ""
    try:
        return chinese_calendar.Holiday(name).chinese
    except ValueError:
        return name


def _package_rows(county_id: int, year: int) -> list[WorkDay]:
    rows = []
    for day in _year_days(year):
        working = chinese_calendar.is_workday(day)
        note = ""
        _is_holiday, name = chinese_calendar.get_holiday_detail(day)
        if working and day.weekday() >= 5:
            note = f"{MAKE_UP_NOTE}（{_holiday_name(name)}）" if name else MAKE_UP_NOTE
        elif not working and name:
            note = _holiday_name(name)
        rows.append(
            WorkDay(
                county_id=county_id,
                date=day,
                is_working=working,
                source=DaySource.PACKAGE,
                note=note[:64],
            )
        )
    return rows


def _fallback_rows(county_id: int, year: int) -> list[WorkDay]:
    return [
        WorkDay(
            county_id=county_id,
            date=day,
            is_working=day.weekday() < 5,
            source=DaySource.FALLBACK,
        )
        for day in _year_days(year)
    ]


@transaction.atomic
def calendar_ensure_year(*, county: Area | int, year: int) -> CalendarYear:
    """The county's calendar of the year, seeded on first use.

    Days already present (a correction by county staff) are kept. A fallback
    year that nobody confirmed yet is re-seeded from the package once an
    updated package covers it."""
    county_id = _county_id(county)
    existing = CalendarYear.objects.filter(county_id=county_id, year=year).first()
    covered = package_covers(year)
    if existing is not None:
        if existing.needs_confirmation and covered:
            WorkDay.objects.filter(
                county_id=county_id, date__year=year, source=DaySource.FALLBACK
            ).delete()
            WorkDay.objects.bulk_create(_package_rows(county_id, year), ignore_conflicts=True)
            existing.source = DaySource.PACKAGE
            existing.save(update_fields=["source"])
        return existing
    rows = _package_rows(county_id, year) if covered else _fallback_rows(county_id, year)
    WorkDay.objects.bulk_create(rows, ignore_conflicts=True)
    entry, _created = CalendarYear.objects.get_or_create(
        county_id=county_id,
        year=year,
        defaults={"source": DaySource.PACKAGE if covered else DaySource.FALLBACK},
    )
    return entry


def calendar_ensure_range(*, county: Area | int, start: datetime.date, end: datetime.date) -> None:
    """Every year from start to end seeded (one query when they all are)."""
    county_id = _county_id(county)
    years = set(range(start.year, end.year + 1))
    present = set(
        CalendarYear.objects.filter(county_id=county_id, year__in=years).values_list(
            "year", flat=True
        )
    )
    for year in sorted(years - present):
        calendar_ensure_year(county=county_id, year=year)


# --- reading -----------------------------------------------------------------------


def is_working(county: Area | int, day: datetime.date) -> bool:
    county_id = _county_id(county)
    value = (
        WorkDay.objects.filter(county_id=county_id, date=day)
        .values_list("is_working", flat=True)
        .first()
    )
    if value is None:
        calendar_ensure_year(county=county_id, year=day.year)
        value = WorkDay.objects.get(county_id=county_id, date=day).is_working
    return value


def working_days(county: Area | int, start: datetime.date, end: datetime.date) -> int:
    """Working days from start to end, both inclusive: one query once the years
    are seeded."""
    if end < start:
        return 0
    county_id = _county_id(county)

    def count() -> dict:
        return WorkDay.objects.filter(county_id=county_id, date__range=(start, end)).aggregate(
            working=Count("pk", filter=Q(is_working=True)), total=Count("pk")
        )

    figures = count()
    if figures["total"] != (end - start).days + 1:
        for year in range(start.year, end.year + 1):
            calendar_ensure_year(county=county_id, year=year)
        figures = count()
    return figures["working"]


@dataclass(frozen=True)
class CalendarCell:
    date: datetime.date | None
    is_working: bool = False
    source: str = ""
    note: str = ""

    @property
    def weekend(self) -> bool:
        return self.date is not None and self.date.weekday() >= 5


def calendar_year_grid(*, county: Area | int, year: int) -> dict:
    """The year as 12 month grids (weeks from Monday) for the calendar page:
    two queries once the year is seeded."""
    county_id = _county_id(county)
    entry = calendar_ensure_year(county=county_id, year=year)
    days = {
        d.date: d
        for d in WorkDay.objects.filter(county_id=county_id, date__year=year).only(
            "date", "is_working", "source", "note"
        )
    }
    months = []
    cal = stdlib_calendar.Calendar(firstweekday=0)
    for month in range(1, 13):
        weeks = []
        for week in cal.monthdatescalendar(year, month):
            cells = []
            for day in week:
                row = days.get(day) if day.month == month else None
                if row is None:
                    cells.append(CalendarCell(date=day if day.month == month else None))
                else:
                    cells.append(CalendarCell(day, row.is_working, row.source, row.note))
            weeks.append(cells)
        working = sum(1 for d in days.values() if d.date.month == month and d.is_working)
        months.append(
            {
                "month": month,
                "first": datetime.date(year, month, 1),
                "weeks": weeks,
                "working": working,
            }
        )
    return {
        "entry": entry,
        "months": months,
        "working": sum(1 for d in days.values() if d.is_working),
        "manual": sum(1 for d in days.values() if d.source == DaySource.MANUAL),
    }


def years_to_confirm(*, county: Area | int, today: datetime.date | None = None) -> list[dict]:
    """Fallback years of the county that nobody confirmed, and the current (and,
    from December, next) year when the package does not cover it and it is not
    seeded yet: one query."""
    county_id = _county_id(county)
    today = today or timezone.localdate()
    upcoming = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_FROM_MONTH else [])
    rows = list(
        CalendarYear.objects.filter(county_id=county_id)
        .filter(Q(source=DaySource.FALLBACK, confirmed_at__isnull=True) | Q(year__in=upcoming))
        .order_by("year")
    )
    seen = {r.year for r in rows}
    flagged = [{"year": r.year, "seeded": True} for r in rows if r.needs_confirmation]
    flagged += [
        {"year": y, "seeded": False} for y in upcoming if y not in seen and not package_covers(y)
    ]
    return sorted(flagged, key=lambda f: f["year"])


# --- corrections ----------------------------------------------------------------


@transaction.atomic
def calendar_set_day(
    *,
    actor,
    county: Area | int,
    day: datetime.date,
    is_working: bool,
    note: str = "",
    request=None,
) -> WorkDay:
    """County staff mark a day working or rest (a correction, kept over re-seeding)."""
    county_id = _county_id(county)
    require_county_staff(actor, county_id, "attendance.change_workday")
    note = (note or "").strip()
    if len(note) > 64:
        raise ValidationError({"note": _("Keep the note to 64 characters.")})
    calendar_ensure_year(county=county_id, year=day.year)
    row = WorkDay.objects.select_for_update().get(county_id=county_id, date=day)
    before = {"is_working": row.is_working, "source": row.source, "note": row.note}
    row.is_working = bool(is_working)
    row.source = DaySource.MANUAL
    row.note = note
    row.full_clean()
    row.save(update_fields=["is_working", "source", "note"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=row,
        detail={
            "what": "calendar_day",
            "date": day.isoformat(),
            "before": before,
            "after": {"is_working": row.is_working, "source": row.source, "note": row.note},
        },
    )
    return row


@transaction.atomic
def calendar_confirm_year(*, actor, county: Area | int, year: int, request=None) -> CalendarYear:
    """County staff confirm a year's calendar (after checking the fallback days)."""
    county_id = _county_id(county)
    require_county_staff(actor, county_id, "attendance.change_calendaryear")
    calendar_ensure_year(county=county_id, year=year)
    entry = CalendarYear.objects.select_for_update().get(county_id=county_id, year=year)
    if entry.confirmed_at is not None:
        raise ValidationError(_("This year's calendar is already confirmed."))
    entry.confirmed_by = actor
    entry.confirmed_at = timezone.now()
    entry.save(update_fields=["confirmed_by", "confirmed_at"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=entry,
        detail={"what": "calendar_year", "year": year, "confirmed": True, "source": entry.source},
    )
    return entry


# --- county settings -------------------------------------------------------------

SETTINGS_FIELDS = (
    "morning_start",
    "morning_end",
    "afternoon_start",
    "day_end",
    "default_radius_m",
    "township_final_days",
    "return_grace_days",
    "audit_day",
    "audit_hour",
    "check_weekday",
    "check_hour",
    "required_days",
    "daily_rate",
    "location_retention_days",
)


def settings_for(*, county: Area | int, create: bool = False) -> AttendanceSettings:
    """The county's settings; the defaults (unsaved unless ``create``) when the
    county office has not saved any yet."""
    county_id = _county_id(county)
    if create:
        entry, _created = AttendanceSettings.objects.get_or_create(county_id=county_id)
        return entry
    entry = AttendanceSettings.objects.filter(county_id=county_id).first()
    return entry if entry is not None else AttendanceSettings(county_id=county_id)


@transaction.atomic
def settings_update(
    *, actor, county: Area | int, values: dict, request=None
) -> tuple[AttendanceSettings, dict]:
    """The county office changes its county's numbers; the audit row lists each
    changed field with its old and new value. Returns the settings and the changes."""
    county_id = _county_id(county)
    require_county_staff(actor, county_id, "attendance.change_attendancesettings")
    settings_for(county=county_id, create=True)
    entry = AttendanceSettings.objects.select_for_update().get(county_id=county_id)
    changed = {}
    for name in SETTINGS_FIELDS:
        if name not in values:
            continue
        old, new = getattr(entry, name), values[name]
        if old != new:
            changed[name] = [str(old), str(new)]
            setattr(entry, name, new)
    if not changed:
        return entry, changed
    entry.full_clean()
    entry.save(update_fields=[*changed, "updated_at"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=entry,
        detail={"what": "attendance_settings", "changed": changed},
    )
    return entry, changed
