"""Celery tasks of the 200-day check (thin entry points).

Beat runs :func:`dispatch_on_post_checks` every hour (at minute 5). A county is
due when the local weekday and hour are its ``check_weekday`` and
``check_hour`` (Monday 03:00 by default), and also on January 1st at its hour.
Each run checks **the year of yesterday as of yesterday**:

* on a Monday at 03:00 that is the current year up to Sunday: the days
  counted on post are complete days (nobody signs in before 06:00), and today
  is still one of the remaining working days; checking "as of today" at 03:00
  would count today neither as on post nor as remaining;
* on January 1st it is the year just ended as of December 31st (the final
  check of that year, remaining days 0).

Each county is claimed once per hour (``cache.add``) and the check replaces the
county's rows of the year (unique cadre + year), so a duplicate beat run or a
redelivered message is harmless; redeliveries are capped.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.core.cache import cache
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.choices import AreaLevel
from core.models import Area

from . import onpost
from .models import AttendanceSettings

__all__ = ["dispatch_on_post_checks", "on_post_check_task"]

MAX_DELIVERIES = 3
CLAIM_SECONDS = 2 * 3600


def due_checks(*, now: datetime.datetime | None = None) -> list[tuple[int, int, str]]:
    """(county id, year, as of ISO date) of every county due now (one query);
    each county is claimed once per hour, so a second call in the hour returns
    nothing for it."""
    local = timezone.localtime(now)
    today = local.date()
    yesterday = today - datetime.timedelta(days=1)
    field = AttendanceSettings._meta.get_field
    counties = Area.objects.filter(level=AreaLevel.COUNTY).annotate(
        due_weekday=Coalesce(
            "attendance_settings__check_weekday", Value(field("check_weekday").default)
        ),
        due_hour=Coalesce("attendance_settings__check_hour", Value(field("check_hour").default)),
    )
    counties = counties.filter(due_hour=local.hour)
    if not (today.month == 1 and today.day == 1):
        counties = counties.filter(due_weekday=today.weekday())
    due = []
    for county_id in counties.order_by("pk").values_list("pk", flat=True):
        key = f"kaitai:attendance:onpost-due:{county_id}:{local:%Y%m%d%H}"
        if cache.add(key, 1, CLAIM_SECONDS):
            due.append((county_id, yesterday.year, yesterday.isoformat()))
    return due


@shared_task(
    name="attendance.tasks.on_post_check_task",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def on_post_check_task(self, county_id: int, year: int, as_of_iso: str) -> dict:
    """Check one county's year as of a day (idempotent: it replaces the rows)."""
    task_id = getattr(self.request, "id", None)
    if task_id:
        key = f"kaitai:attendance:onpost-attempts:{task_id}"
        cache.add(key, 0, 24 * 3600)
        if cache.incr(key) > MAX_DELIVERIES:
            return {"skipped": "attempts"}
    county = Area.objects.get(pk=county_id, level=AreaLevel.COUNTY)
    return onpost.check_county(
        county=county,
        year=int(year),
        as_of=datetime.date.fromisoformat(as_of_iso),
        via="schedule",
    )


@shared_task(name="attendance.tasks.dispatch_on_post_checks")
def dispatch_on_post_checks() -> list[tuple[int, int, str]]:
    """Hourly: queue the check of every county that is due now."""
    due = due_checks()
    for county_id, year, as_of_iso in due:
        on_post_check_task.delay_on_commit(county_id, year, as_of_iso)
    return due
