"""The attendance demo data: ``seed_demo`` (run once for the module: it is the
slowest test of the app, about half a minute on SQLite) gives every page
something to show, has cadres at risk, and is consistent with the rules."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from attendance import audit, onpost
from attendance.choices import (
    ApprovalLevel,
    BatchStatus,
    Decision,
    LeaveKind,
    LeaveStatus,
    OnPostStatus,
)
from attendance.models import (
    AttendanceBatch,
    AttendanceSettings,
    HelpLog,
    LeaveRequest,
    MonthlyAttendance,
    OnPostCheck,
    SignIn,
    WorkDay,
)
from attendance.panels import on_post_at_risk_panel
from core import dashboard
from core.choices import AreaLevel
from core.models import Area
from teams.models import Membership

PASSWORD = "Kaitai#2026demo"


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, seeded once for this module and removed afterwards."""
    with django_db_blocker.unblock():
        from django.db import transaction

        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            county = Area.objects.get(level=AreaLevel.COUNTY, name="开台旗")
            yield {"county": county, "out": out.getvalue()}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def db_demo(demo, db):
    return demo


def _login(username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": page.cookies["csrftoken"].value,
        },
    )
    assert response.status_code == 302
    return client


def test_the_demo_reports_what_it_made(db_demo):
    text = db_demo["out"]
    assert re.search(r"签到 \d{6} 条", text), text
    assert "200天检查" in text


def test_settings_and_calendars(db_demo):
    county = db_demo["county"]
    settings = AttendanceSettings.objects.get(county=county)
    assert settings.required_days == 200 and settings.check_weekday == 0
    year = timezone.localdate().year
    for y in (year - 1, year):
        days = WorkDay.objects.filter(county=county, date__year=y)
        assert days.count() in (365, 366)


def test_sign_ins_of_a_year_two_a_day(db_demo):
    county = db_demo["county"]
    members = Membership.objects.filter(team__village__county=county, end_date__isnull=True)
    assert members.count() == 762
    today = timezone.localdate()
    working = WorkDay.objects.filter(
        county=county, date__gte=today.replace(month=1, day=1), date__lt=today, is_working=True
    ).count()
    counting = SignIn.objects.filter(counts=True, date__lt=today, date__year=today.year).count()
    # two a day on most working days: between 80% and 100% of the halves
    assert 0.8 * 762 * working * 2 < counting < 762 * working * 2
    figures = SignIn.objects.aggregate(
        out_of_area=Count("pk", filter=Q(in_area=False, accepted=False)),
        accepted=Count("pk", filter=Q(accepted=True)),
        outside_hours=Count("pk", filter=Q(half="")),
        repeats=Count("pk", filter=Q(counts=False, in_area=True) & ~Q(half="")),
    )
    assert all(figures.values()), figures
    # every accepted sign-in names who accepted it and why
    assert not SignIn.objects.filter(accepted=True).filter(
        Q(accepted_by__isnull=True) | Q(accept_reason="")
    )
    # none in the future
    assert not SignIn.objects.filter(signed_at__gt=timezone.now()).exists()
    rest_days = WorkDay.objects.filter(county=county, is_working=False).values("date")
    assert SignIn.objects.filter(date__in=rest_days).exists()


def test_help_logs_on_most_days(db_demo):
    today = timezone.localdate()
    days_signed = (
        SignIn.objects.filter(counts=True, date__lt=today).values("cadre_id", "date").distinct()
    ).count()
    logs = HelpLog.objects.filter(date__lt=today).count()
    assert 0.75 * days_signed < logs <= days_signed


def test_leave_of_every_kind_and_state(db_demo):
    states = set(LeaveRequest.objects.values_list("kind", "status").distinct())
    for status in (
        LeaveStatus.APPROVED,
        LeaveStatus.REJECTED,
        LeaveStatus.WITHDRAWN,
        LeaveStatus.PENDING_VILLAGE,
        LeaveStatus.PENDING_TOWNSHIP,
    ):
        assert (LeaveKind.LEAVE, status) in states, status
    assert (LeaveKind.BUSINESS, LeaveStatus.APPROVED) in states
    # approvals follow the levels: the final level approved last, nobody approves their own
    for request in LeaveRequest.objects.filter(status=LeaveStatus.APPROVED).prefetch_related(
        "decisions"
    )[:200]:
        levels = [d.level for d in request.decisions.all()]
        expected = [ApprovalLevel.VILLAGE, ApprovalLevel.TOWNSHIP]
        if request.final_level == ApprovalLevel.COUNTY:
            expected.append(ApprovalLevel.COUNTY)
        assert levels == expected, request.pk
        assert all(d.decision == Decision.APPROVE for d in request.decisions.all())
        assert request.cadre.user_id not in {d.approver_id for d in request.decisions.all()}


def test_monthly_audit_of_every_ended_month(db_demo):
    county = db_demo["county"]
    today = timezone.localdate()
    batches = AttendanceBatch.objects.filter(township__county=county)
    months = set(batches.values_list("month", flat=True))
    assert today.replace(day=1) not in months
    assert len(months) >= 1 and batches.count() == 12 * len(months)
    assert batches.filter(status=BatchStatus.FILED).exists() or len(months) == 1
    rows = MonthlyAttendance.objects.filter(batch__township__county=county)
    assert rows.filter(month=max(months)).count() == 762
    assert rows.filter(leave_days__gt=0).exists() and rows.filter(absent_days__gt=0).exists()
    # the stored rows are what the audit engine computes from the demo's data
    month = max(months)
    stored = {(r.cadre_id, r.village_id): r.on_post_days for r in rows.filter(month=month)}
    computed = {
        (r["cadre_id"], r["village_id"]): r["on_post_days"]
        for r in audit.month_figures(county=county, month=month)
    }
    assert stored == computed


def test_the_200_day_check_has_cadres_at_risk(db_demo):
    county = db_demo["county"]
    checks = OnPostCheck.objects.filter(township__county=county)
    year = timezone.localdate().year if timezone.localdate().month >= 4 else None
    if year:
        checks = checks.filter(year=year)
    statuses = dict(checks.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    assert statuses.get(OnPostStatus.AT_RISK, 0) > 0
    assert statuses.get(OnPostStatus.MET, 0) + statuses.get(OnPostStatus.ON_TRACK, 0) > 0
    # a second run as of the same day replaces the rows with the same figures
    row = checks.order_by("cadre_id").first()
    before = (row.required_days, row.on_post_days, row.remaining_working_days, row.status)
    onpost.check_on_post(county=county, year=row.year, as_of=row.as_of)
    row.refresh_from_db()
    assert (row.required_days, row.on_post_days, row.remaining_working_days, row.status) == before


def test_the_pages_have_something_to_show(db_demo):
    county = db_demo["county"]
    added = on_post_at_risk_panel not in dashboard.PANELS
    dashboard.register(on_post_at_risk_panel)
    try:
        office = _login("demo_county")
        page = office.get(reverse("on_post_list"), {"status": "at_risk"})
        assert page.status_code == 200
        assert page.content.decode().count('class="table-danger"') > 0
        home = office.get(reverse("area_detail", args=[county.pk])).content.decode()
        assert 'data-testid="panel-onpost"' in home
        api = office.get("/api/v1/attendance/on-post/", {"area": county.pk})
        assert api.status_code == 200 and api.json()["count"] > 0
        unit = _login("demo_unit").get(reverse("on_post_list"))
        assert unit.status_code == 200
        cadre = _login("demo_cadre").get("/api/v1/attendance/on-post/")
        assert cadre.json()["count"] == 1
    finally:
        if added:
            dashboard.PANELS.remove(on_post_at_risk_panel)
