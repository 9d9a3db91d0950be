"""Scoping rows for the calendar, settings and monthly audit pages (merged into
tests/test_scoping.py).

The record book is a page with an object (a team). The other URLs are used by
several roles (county, township, inspector, …), are POST-only, or take a job
id; their both-ways tests are in tests/attendance/test_audit_pages.py and
test_calendar.py, and they are listed in COVERED.
"""

from __future__ import annotations

from teams.models import Team
from tests.teams.factories import make_team


def _team(village) -> Team:
    return Team.objects.filter(village=village, dissolved_on__isnull=True).first() or make_team(
        village
    )


ROUTES: dict[str, tuple] = {
    "audit_record_book": (
        "audit_record_book",
        lambda w: {"pk": _team(w.village).pk},
        "township",
        "other_township",
    ),
    "audit_record_book:leader": (
        "audit_record_book",
        lambda w: {"pk": _team(w.village).pk},
        "leader",
        "far_county",
    ),
    "audit_record_book:county": (
        "audit_record_book",
        lambda w: {"pk": _team(w.other_village).pk},
        "county",
        "leader",
    ),
}

PLAIN_ROUTES: dict[str, str] = {}

COVERED = {
    "calendar_year",
    "calendar_day",
    "calendar_confirm",
    "attendance_settings",
    "audit_results",
    "audit_run",
    "audit_progress",
    "audit_batch_submit",
    "audit_batch_file",
    "audit_batch_reopen",
    "subsidy_statement",
    "api_attendance_monthly",
}
