"""The working calendar and the county settings: seeding from chinese_calendar,
the Monday–Friday fallback and its dashboard flag, corrections and
confirmation by county staff (audited), and the settings page."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attendance import calendar
from attendance.calendar import (
    calendar_confirm_year,
    calendar_ensure_year,
    calendar_set_day,
    is_working,
    working_days,
)
from attendance.choices import DaySource
from attendance.models import AttendanceSettings, CalendarYear, WorkDay
from core.models import AuditLog
from tests.conftest import csrf_post

CAL = "/attendance/calendar/"
SETTINGS = "/attendance/settings/"
# The last year the installed chinese_calendar covers, and the first it does not.
COVERED = 2026
UNCOVERED = 2027


def d(y, m, n):
    return datetime.date(y, m, n)


# --- seeding -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_covered_year_is_seeded_from_the_package(world):
    assert calendar.package_covers(COVERED) and not calendar.package_covers(UNCOVERED)
    entry = calendar_ensure_year(county=world.county, year=COVERED)
    assert entry.source == DaySource.PACKAGE and not entry.needs_confirmation
    days = WorkDay.objects.filter(county=world.county, date__year=COVERED)
    assert days.count() == 365
    assert days.get(date=d(2026, 2, 14)).is_working  # Saturday, 调休上班
    assert days.get(date=d(2026, 2, 14)).note.startswith("调休上班")
    assert not days.get(date=d(2026, 2, 17)).is_working  # Spring Festival
    assert days.get(date=d(2026, 2, 17)).note == "春节"
    assert not days.get(date=d(2026, 10, 1)).is_working  # National Day
    assert days.get(date=d(2026, 10, 10)).is_working  # Saturday, make-up day
    assert not days.get(date=d(2026, 3, 7)).is_working  # a plain Saturday
    assert days.filter(is_working=True).count() == sum(
        1
        for n in range(365)
        if __import__("chinese_calendar").is_workday(d(2026, 1, 1) + datetime.timedelta(n))
    )


@pytest.mark.django_db
def test_an_uncovered_year_falls_back_to_monday_to_friday(world):
    entry = calendar_ensure_year(county=world.county, year=UNCOVERED)
    assert entry.source == DaySource.FALLBACK and entry.needs_confirmation
    assert is_working(world.county, d(2027, 1, 1))  # a Friday: no holiday known
    assert not is_working(world.county, d(2027, 1, 2))
    assert working_days(world.county, d(2027, 1, 1), d(2027, 12, 31)) == 261


@pytest.mark.django_db
def test_seeding_is_idempotent_and_per_county(world):
    calendar_ensure_year(county=world.county, year=COVERED)
    calendar_ensure_year(county=world.county, year=COVERED)
    assert WorkDay.objects.filter(county=world.county).count() == 365
    assert not WorkDay.objects.filter(county=world.other_county).exists()
    calendar_ensure_year(county=world.other_county, year=COVERED)
    assert CalendarYear.objects.count() == 2


@pytest.mark.django_db
def test_working_days_is_one_query_once_seeded(world):
    assert working_days(world.county, d(2026, 3, 1), d(2026, 3, 31)) == 22  # seeds on demand
    with CaptureQueriesContext(connection) as ctx:
        assert working_days(world.county, d(2026, 2, 1), d(2026, 2, 28)) == 16
    assert len(ctx.captured_queries) == 1
    assert working_days(world.county, d(2026, 3, 5), d(2026, 3, 1)) == 0
    # across a year boundary: the fallback year is seeded too
    assert working_days(world.county, d(2026, 12, 28), d(2027, 1, 4)) == 6


@pytest.mark.django_db
def test_a_fallback_year_is_re_seeded_when_the_package_learns_it(world, monkeypatch):
    calendar_ensure_year(county=world.county, year=UNCOVERED)
    calendar_set_day(
        actor=world.users["county"], county=world.county, day=d(2027, 2, 8), is_working=False
    )
    monkeypatch.setattr(calendar, "package_covers", lambda year: True)

    def workday(day):
        return day.weekday() < 5 and day != d(2027, 1, 1)

    monkeypatch.setattr(calendar.chinese_calendar, "is_workday", workday)
    monkeypatch.setattr(calendar.chinese_calendar, "get_holiday_detail", lambda day: (False, None))
    entry = calendar_ensure_year(county=world.county, year=UNCOVERED)
    assert entry.source == DaySource.PACKAGE
    assert not is_working(world.county, d(2027, 1, 1))
    # the correction by county staff is kept
    assert WorkDay.objects.get(county=world.county, date=d(2027, 2, 8)).source == DaySource.MANUAL
    assert not is_working(world.county, d(2027, 2, 8))


# --- corrections and confirmation -------------------------------------------------------------


@pytest.mark.django_db
def test_county_staff_correct_a_day_with_an_audit_row(world):
    row = calendar_set_day(
        actor=world.users["county"],
        county=world.county,
        day=d(2026, 5, 6),
        is_working=False,
        note="防汛停工",
    )
    assert (row.is_working, row.source, row.note) == (False, DaySource.MANUAL, "防汛停工")
    entry = AuditLog.objects.get(detail__what="calendar_day")
    assert entry.username == "county" and entry.detail["before"]["is_working"] is True
    assert entry.detail["after"] == {"is_working": False, "source": "manual", "note": "防汛停工"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["township", "far_county", "inspector", "leader", "cadre", "sysadmin"]
)
def test_only_the_countys_office_corrects_its_days(world, who):
    with pytest.raises(PermissionDenied):
        calendar_set_day(
            actor=world.users[who], county=world.county, day=d(2026, 5, 6), is_working=False
        )
    assert not AuditLog.objects.filter(detail__what="calendar_day").exists()


@pytest.mark.django_db
def test_a_note_is_at_most_64_characters(world):
    with pytest.raises(ValidationError):
        calendar_set_day(
            actor=world.users["county"],
            county=world.county,
            day=d(2026, 5, 6),
            is_working=False,
            note="长" * 65,
        )


@pytest.mark.django_db
def test_confirming_a_year(world):
    entry = calendar_confirm_year(actor=world.users["county"], county=world.county, year=UNCOVERED)
    assert entry.confirmed_by == world.users["county"] and not entry.needs_confirmation
    assert AuditLog.objects.filter(detail__what="calendar_year").count() == 1
    with pytest.raises(ValidationError):
        calendar_confirm_year(actor=world.users["county"], county=world.county, year=UNCOVERED)
    with pytest.raises(PermissionDenied):
        calendar_confirm_year(actor=world.users["township"], county=world.county, year=COVERED)


# --- the dashboard flag --------------------------------------------------------------------


@pytest.mark.django_db
def test_years_to_confirm(world):
    november, december = d(2026, 11, 25), d(2026, 12, 1)
    assert calendar.years_to_confirm(county=world.county, today=november) == []
    assert calendar.years_to_confirm(county=world.county, today=december) == [
        {"year": UNCOVERED, "seeded": False}
    ]
    calendar_ensure_year(county=world.county, year=UNCOVERED)
    assert calendar.years_to_confirm(county=world.county, today=november) == [
        {"year": UNCOVERED, "seeded": True}
    ]
    calendar_confirm_year(actor=world.users["county"], county=world.county, year=UNCOVERED)
    assert calendar.years_to_confirm(county=world.county, today=december) == []


@pytest.mark.django_db
def test_the_county_page_flags_next_year_from_december(world, login, monkeypatch):
    county = login(world.users["county"])
    monkeypatch.setattr(calendar.timezone, "localdate", lambda: d(2026, 11, 30))
    assert 'data-testid="calendar-panel"' not in county.get("/").content.decode()
    monkeypatch.setattr(calendar.timezone, "localdate", lambda: d(2026, 12, 1))
    page = county.get("/").content.decode()
    assert 'data-testid="calendar-panel"' in page and 'data-year="2027"' in page
    # the township's page and other counties' pages show no calendar flag
    township = login(world.users["township"]).get(f"/areas/{world.township.pk}/")
    assert 'data-testid="calendar-panel"' not in township.content.decode()
    calendar_confirm_year(actor=world.users["county"], county=world.county, year=UNCOVERED)
    assert 'data-testid="calendar-panel"' not in county.get("/").content.decode()


@pytest.mark.django_db
def test_the_panel_runs_one_query(world, rf):
    from attendance.views_audit import calendar_panel

    request = rf.get("/")
    request.user = world.users["county"]
    request.user.has_perm("attendance.view_calendaryear")  # permissions cached first
    with CaptureQueriesContext(connection) as ctx:
        calendar_panel(request, area=world.county)
    assert len(ctx.captured_queries) == 1
    assert calendar_panel(request, area=world.township) is None


# --- the calendar page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_county_staff_toggle_days_with_htmx(world, login):
    client = login(world.users["county"])
    page = client.get(CAL, {"year": COVERED}).content.decode()
    assert 'hx-post="/attendance/calendar/day/"' in page
    assert 'data-date="2026-02-14" data-working="1"' in page
    response = csrf_post(
        client,
        "/attendance/calendar/day/",
        {"day": "2026-02-14", "is_working": "0", "note": "改为休息"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    cell = response.content.decode()
    assert cell.startswith("<td") and 'data-working="0"' in cell and "cal-manual" in cell
    assert not is_working(world.county, d(2026, 2, 14))
    assert AuditLog.objects.filter(detail__what="calendar_day").count() == 1


@pytest.mark.django_db
def test_calendar_day_without_htmx_redirects(world, login):
    client = login(world.users["county"])
    response = csrf_post(
        client, "/attendance/calendar/day/", {"day": "2026-05-06", "is_working": "0"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?year=2026")
    bad = csrf_post(client, "/attendance/calendar/day/", {"day": "2026-02-30", "is_working": "0"})
    assert bad.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status", "editable"),
    [
        ("county", 200, True),
        ("far_county", 200, True),
        ("township", 200, False),
        ("inspector", 200, False),
        ("leader", 403, False),
        ("unit", 403, False),
        ("cadre", 403, False),
        ("sysadmin", 403, False),
    ],
)
def test_calendar_page_by_role(world, login, who, status, editable):
    client = login(world.users[who])
    response = client.get(CAL, {"year": COVERED})
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert ('hx-post="/attendance/calendar/day/"' in html) is editable
    toggle = csrf_post(
        client, "/attendance/calendar/day/", {"day": "2026-05-06", "is_working": "0"}
    )
    assert toggle.status_code == (302 if editable else 403)


@pytest.mark.django_db
def test_each_county_sees_and_changes_only_its_calendar(world, login):
    far = login(world.users["far_county"])
    csrf_post(far, "/attendance/calendar/day/", {"day": "2026-05-06", "is_working": "0"})
    assert not is_working(world.other_county, d(2026, 5, 6))
    assert is_working(world.county, d(2026, 5, 6))
    page = login(world.users["county"]).get(CAL, {"year": COVERED}).content.decode()
    assert "测试县" in page and "邻县" not in page


@pytest.mark.django_db
def test_confirming_from_the_page(world, login):
    client = login(world.users["county"])
    page = client.get(CAL, {"year": UNCOVERED}).content.decode()
    assert 'data-testid="fallback-warning"' in page and 'data-testid="confirm"' in page
    response = csrf_post(client, "/attendance/calendar/confirm/", {"year": UNCOVERED})
    assert response.status_code == 302
    assert CalendarYear.objects.get(county=world.county, year=UNCOVERED).confirmed_at
    assert (
        'data-testid="fallback-warning"'
        not in client.get(CAL, {"year": UNCOVERED}).content.decode()
    )
    township = login(world.users["township"])
    assert (
        csrf_post(township, "/attendance/calendar/confirm/", {"year": UNCOVERED}).status_code == 403
    )


@pytest.mark.django_db
def test_calendar_page_queries_are_fixed(world, login, django_assert_max_num_queries):
    client = login(world.users["county"])
    client.get(CAL, {"year": COVERED})
    with django_assert_max_num_queries(11):
        client.get(CAL, {"year": COVERED})
    for n in range(1, 20):
        calendar_set_day(
            actor=world.users["county"],
            county=world.county,
            day=d(2026, 6, n),
            is_working=False,
            note=f"改{n}",
        )
    with django_assert_max_num_queries(11):
        client.get(CAL, {"year": COVERED})


# --- county settings ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_settings_are_created_with_defaults_on_first_use(world, login):
    assert not AttendanceSettings.objects.exists()
    page = login(world.users["county"]).get(SETTINGS)
    assert page.status_code == 200
    entry = AttendanceSettings.objects.get(county=world.county)
    assert entry.daily_rate == 60 and entry.audit_day == 1 and entry.audit_hour == 2
    assert 'data-testid="save"' in page.content.decode()


def _settings_post(entry, **changes):
    data = {name: getattr(entry, name) for name in calendar.SETTINGS_FIELDS}
    for name in ("morning_start", "morning_end", "afternoon_start", "day_end"):
        data[name] = data[name].strftime("%H:%M")
    data.update(changes)
    return data


@pytest.mark.django_db
def test_county_office_changes_its_settings_with_an_audit_row(world, login):
    client = login(world.users["county"])
    client.get(SETTINGS)
    entry = AttendanceSettings.objects.get(county=world.county)
    response = csrf_post(
        client, SETTINGS, _settings_post(entry, daily_rate="80.00", audit_hour="3")
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.daily_rate == 80 and entry.audit_hour == 3
    log = AuditLog.objects.get(detail__what="attendance_settings")
    assert log.detail["changed"] == {"daily_rate": ["60.00", "80.00"], "audit_hour": ["2", "3"]}
    assert log.username == "county"
    # saving again without changes writes nothing
    csrf_post(client, SETTINGS, _settings_post(entry))
    assert AuditLog.objects.filter(detail__what="attendance_settings").count() == 1


@pytest.mark.django_db
def test_settings_are_checked(world, login):
    client = login(world.users["county"])
    client.get(SETTINGS)
    entry = AttendanceSettings.objects.get(county=world.county)
    bad = csrf_post(client, SETTINGS, _settings_post(entry, morning_start="13:00"))
    assert bad.status_code == 200 and 'data-testid="form-error"' in bad.content.decode()
    bad = csrf_post(client, SETTINGS, _settings_post(entry, audit_day="31"))
    assert bad.status_code == 200 and "invalid-feedback" in bad.content.decode()
    bad = csrf_post(client, SETTINGS, _settings_post(entry, daily_rate="-1"))
    assert bad.status_code == 200
    entry.refresh_from_db()
    assert (
        entry.morning_start == datetime.time(6) and entry.audit_day == 1 and entry.daily_rate == 60
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("township", 200),
        ("inspector", 200),
        ("far_county", 200),
        ("leader", 403),
        ("unit", 403),
        ("cadre", 403),
        ("secadmin", 403),
    ],
)
def test_settings_page_by_role(world, login, who, status):
    client = login(world.users[who])
    response = client.get(SETTINGS)
    assert response.status_code == status
    if who in ("township", "inspector"):
        html = response.content.decode()
        assert "测试县" in html and 'data-testid="save"' not in html and "disabled" in html
        assert not AttendanceSettings.objects.exists()  # viewing creates nothing
    post = csrf_post(client, SETTINGS, {"daily_rate": "99"})
    # the other county's office edits its own county (an incomplete form: shown again)
    assert post.status_code == (200 if who == "far_county" else 403)
    assert not AttendanceSettings.objects.filter(county=world.county).exists()


@pytest.mark.django_db
def test_settings_service_needs_the_county_office(world):
    with pytest.raises(PermissionDenied):
        calendar.settings_update(
            actor=world.users["far_county"], county=world.county, values={"daily_rate": 1}
        )
    with pytest.raises(PermissionDenied):
        calendar.settings_update(
            actor=world.users["township"], county=world.county, values={"daily_rate": 1}
        )
