"""Pages of the working calendar, the county settings and the monthly audit.

Views wire requests to the services (calendar.py, audit.py, batches.py) and to
scoped reads: every queryset goes through ``visible_to(user)`` and single
objects through ``access()`` (outside the scope: the same 404 as a missing
one). Every export writes an audit row.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from core import audit as audit_log
from core.choices import AreaLevel, AuditAction
from core.excel import safe_cell, workbook_response
from core.listing import sort_links
from core.models import Area
from core.scoping import Scope, access, user_scope
from teams.models import Team

from . import audit, batches, calendar
from .choices import BatchStatus, DaySource
from .forms_audit import (
    AuditRunForm,
    CalendarConfirmForm,
    CalendarDayForm,
    ReopenForm,
    ResultsFilterForm,
    SettingsForm,
    month_from,
)
from .models import AttendanceBatch, MonthlyAttendance, WorkDay

SUBSIDY_PER_PAGE = 100


# --- helpers ---------------------------------------------------------------------------


def _county_id(request) -> int:
    """The county of the user's scope (area and unit roles); 404 for others."""
    county_id = request.user.county_id_in_scope
    if county_id is None:
        raise Http404
    return county_id


def _is_county_staff(request, perm: str) -> bool:
    scope = user_scope(request.user)
    return scope.kind == Scope.COUNTY and request.user.has_perm(perm)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _errors(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


# --- the working calendar --------------------------------------------------------------


@require_GET
@permission_required("attendance.view_workday", raise_exception=True)
def calendar_year(request):
    county_id = _county_id(request)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    if not 2000 <= year <= 2100:
        year = today.year
    grid = calendar.calendar_year_grid(county=county_id, year=year)
    county = Area.objects.get(pk=county_id)
    return render(
        request,
        "attendance/calendar_year.html",
        {
            "county": county,
            "year": year,
            "grid": grid,
            "entry": grid["entry"],
            "can_edit": _is_county_staff(request, "attendance.change_workday"),
            "can_confirm": _is_county_staff(request, "attendance.change_calendaryear"),
            "covered": calendar.package_covers(year),
            "manual_source": DaySource.MANUAL,
            "weekdays": [WEEKDAYS_ABBR[i] for i in range(7)],
        },
    )


@require_POST
@permission_required("attendance.change_workday", raise_exception=True)
def calendar_day(request):
    county_id = _county_id(request)
    form = CalendarDayForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("Choose a date and whether it is a working day."), status=400)
    data = form.cleaned_data
    try:
        row = calendar.calendar_set_day(
            actor=request.user,
            county=county_id,
            day=data["day"],
            is_working=data["is_working"],
            note=data["note"],
            request=request,
        )
    except ValidationError as exc:
        return HttpResponse(_errors(exc), status=400)
    if _is_htmx(request):
        cell = calendar.CalendarCell(row.date, row.is_working, row.source, row.note)
        return render(
            request,
            "attendance/calendar_cell.html",
            {"cell": cell, "can_edit": True, "manual_source": DaySource.MANUAL},
        )
    messages.success(request, _("The day was corrected."))
    return redirect(f"{reverse('calendar_year')}?year={row.date.year}")


@require_POST
@permission_required("attendance.change_calendaryear", raise_exception=True)
def calendar_confirm(request):
    county_id = _county_id(request)
    form = CalendarConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a year."))
        return redirect("calendar_year")
    year = form.cleaned_data["year"]
    try:
        calendar.calendar_confirm_year(
            actor=request.user, county=county_id, year=year, request=request
        )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("The calendar of %(year)d is confirmed.") % {"year": year})
    return redirect(f"{reverse('calendar_year')}?year={year}")


def calendar_panel(request, *, area=None, unit=None) -> dict | None:
    """The county page's flag for calendar years that need confirming (one query)."""
    if area is None or area.level != AreaLevel.COUNTY:
        return None
    if not request.user.has_perm("attendance.view_calendaryear"):
        return None
    flagged = calendar.years_to_confirm(county=area.pk)
    if not flagged:
        return None
    return {
        "template": "attendance/_panel_calendar.html",
        "context": {
            "years": flagged,
            "can_edit": _is_county_staff(request, "attendance.change_calendaryear"),
        },
    }


# --- county settings --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("attendance.view_attendancesettings", raise_exception=True)
def attendance_settings(request):
    county_id = _county_id(request)
    editable = _is_county_staff(request, "attendance.change_attendancesettings")
    if request.method == "POST" and not editable:
        raise PermissionDenied
    entry = calendar.settings_for(county=county_id, create=editable)
    form = SettingsForm(
        request.POST if request.method == "POST" else None, instance=entry, editable=editable
    )
    if request.method == "POST" and form.is_valid():
        try:
            _entry, changed = calendar.settings_update(
                actor=request.user, county=county_id, values=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if changed:
                messages.success(request, _("The settings were saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("attendance_settings")
    return render(
        request,
        "attendance/settings_form.html",
        {"form": form, "editable": editable, "county": Area.objects.get(pk=county_id)},
    )


# --- monthly results ----------------------------------------------------------------------

RESULT_SORTS = {
    "name": ("cadre__name_pinyin", "cadre_id"),
    "village": ("village__name", "cadre__name_pinyin"),
    "on_post": ("on_post_days", "cadre__name_pinyin"),
    "leave": ("leave_days", "cadre__name_pinyin"),
    "absent": ("absent_days", "cadre__name_pinyin"),
    "out_of_area": ("out_of_area", "cadre__name_pinyin"),
    "outside_hours": ("outside_hours", "cadre__name_pinyin"),
    "rest_day": ("rest_day_signins", "cadre__name_pinyin"),
    "no_log": ("days_without_log", "cadre__name_pinyin"),
    "subsidy": ("subsidy", "cadre__name_pinyin"),
}
STATUS_FILTERS = {
    "absent": Q(absent_days__gt=0),
    "leave": Q(leave_days__gt=0),
    "out_of_area": Q(out_of_area__gt=0),
    "no_log": Q(days_without_log__gt=0),
    "rest_day": Q(rest_day_signins__gt=0),
}


def _allowed_townships(request):
    """Townships whose results the user may open: the county's, their own, or
    (a team leader) their village's."""
    scope = user_scope(request.user)
    townships = Area.objects.filter(level=AreaLevel.TOWNSHIP)
    if scope.kind == Scope.COUNTY:
        return townships.filter(county_id=scope.pk)
    if scope.kind == Scope.TOWNSHIP:
        return townships.filter(pk=scope.pk)
    if scope.kind == Scope.VILLAGE:
        return townships.filter(pk=request.user.scope_area.township_id)
    return townships.none()


@never_cache
@require_GET
@permission_required("attendance.view_attendancebatch", raise_exception=True)
def audit_results(request):
    month, month_errors = month_from(request.GET)
    allowed = _allowed_townships(request)
    scope = user_scope(request.user)
    township_id = request.GET.get("township")
    if not township_id and scope.kind == Scope.COUNTY:
        return _county_overview(request, month, month_errors)
    if not township_id:
        township = allowed.first()
        if township is None:
            raise Http404
    else:
        try:
            township = allowed.select_related("county").get(pk=township_id)
        except (Area.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
    return _township_results(request, township, month, month_errors)


def _county_overview(request, month, month_errors):
    county_id = user_scope(request.user).pk
    townships = list(
        Area.objects.filter(level=AreaLevel.TOWNSHIP, county_id=county_id).order_by("code", "pk")
    )
    batches = {
        b.township_id: b
        for b in AttendanceBatch.objects.visible_to(request.user)
        .filter(month=month)
        .annotate(
            cadres=Count("rows"),
            absent=Sum("rows__absent_days"),
            with_absences=Count("rows", filter=Q(rows__absent_days__gt=0)),
            subsidy_total=Sum("rows__subsidy"),
        )
    }
    for township in townships:
        township.batch = batches.get(township.pk)
    return render(
        request,
        "attendance/audit_overview.html",
        {
            "month": month,
            "month_errors": month_errors,
            "townships": townships,
            "can_run": _is_county_staff(request, "attendance.run_audit"),
            "filed": sum(1 for b in batches.values() if b.status == BatchStatus.FILED),
        },
    )


def _township_results(request, township, month, month_errors):
    user = request.user
    # A team leader sees the rows of the village but not the township's batch
    # (AttendanceBatch has no village scope): then no status and no buttons.
    batch = (
        AttendanceBatch.objects.visible_to(user)
        .filter(township=township, month=month)
        .select_related("submitted_by", "filed_by")
        .first()
    )
    villages = Area.objects.visible_to(user).filter(
        level=AreaLevel.VILLAGE, township_id=township.pk
    )
    form = ResultsFilterForm(request.GET or None, villages=villages.order_by("code", "name"))
    rows = (
        MonthlyAttendance.objects.visible_to(user)
        .filter(month=month, batch__township=township)
        .select_related("cadre", "cadre__unit", "village")
    )
    if form.is_valid():
        if form.cleaned_data.get("village"):
            rows = rows.filter(village=form.cleaned_data["village"])
        status = form.cleaned_data.get("status")
        if status in STATUS_FILTERS:
            rows = rows.filter(STATUS_FILTERS[status])
    sort = request.GET.get("sort", "")
    key = sort.lstrip("-")
    order = RESULT_SORTS.get(key, RESULT_SORTS["village"])
    if key in RESULT_SORTS and sort.startswith("-"):
        order = (f"-{order[0]}", *order[1:])
    rows = list(rows.order_by(*order))
    totals = {
        name: sum((getattr(r, name) for r in rows), Decimal(0))
        for name in (*audit.FIGURES, "subsidy")
    }
    scope = user_scope(user)
    status = batch.status if batch else None
    teams = list(
        Team.objects.visible_to(user)
        .filter(village__township_id=township.pk)
        .filter(Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=month))
        .filter(formed_on__lte=audit.month_end(month))
        .select_related("village")
        .order_by("village__code", "village__name", "pk")
    )
    return render(
        request,
        "attendance/audit_results.html",
        {
            "township": township,
            "month": month,
            "month_errors": month_errors,
            "batch": batch,
            "rows": rows,
            "totals": totals,
            "form": form,
            "teams": teams,
            "sorts": sort_links(request, RESULT_SORTS, current=sort),
            "reopen_form": ReopenForm(),
            "can_submit": status == BatchStatus.DRAFT
            and scope.kind == Scope.TOWNSHIP
            and user.has_perm("attendance.submit_audit"),
            "can_file": status == BatchStatus.SUBMITTED
            and _is_county_staff(request, "attendance.file_audit"),
            "can_reopen": status == BatchStatus.FILED
            and _is_county_staff(request, "attendance.file_audit"),
            "can_run": status != BatchStatus.FILED
            and _is_county_staff(request, "attendance.run_audit"),
            "back_to_county": scope.kind == Scope.COUNTY,
        },
    )


def _results_url(batch: AttendanceBatch) -> str:
    query = urlencode({"month": batch.month.strftime("%Y-%m"), "township": batch.township_id})
    return f"{reverse('audit_results')}?{query}"


def _batch_step(request, pk, step):
    batch = access(AttendanceBatch.objects.all(), user=request.user, pk=pk)
    try:
        step(batch)
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return redirect(_results_url(batch))


@require_POST
@permission_required("attendance.submit_audit", raise_exception=True)
def audit_batch_submit(request, pk):
    def step(batch):
        batches.batch_submit(actor=request.user, batch=batch, request=request)
        messages.success(request, _("Submitted to the county office."))

    return _batch_step(request, pk, step)


@require_POST
@permission_required("attendance.file_audit", raise_exception=True)
def audit_batch_file(request, pk):
    def step(batch):
        batches.batch_file(actor=request.user, batch=batch, request=request)
        messages.success(request, _("Filed. The month is locked."))

    return _batch_step(request, pk, step)


@require_POST
@permission_required("attendance.file_audit", raise_exception=True)
def audit_batch_reopen(request, pk):
    def step(batch):
        form = ReopenForm(request.POST)
        reason = form.data.get("reason", "")
        batches.batch_reopen(actor=request.user, batch=batch, reason=reason, request=request)
        messages.success(request, _("Reopened. The audit can be run again."))

    return _batch_step(request, pk, step)


# --- running the audit from the portal ------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("attendance.run_audit", raise_exception=True)
def audit_run(request):
    scope = user_scope(request.user)
    if scope.kind != Scope.COUNTY:
        raise PermissionDenied
    county = Area.objects.get(pk=scope.pk)
    initial = {}
    if request.method == "GET":
        month, _errors_ = month_from(request.GET)
        initial["month"] = month
        if request.GET.get("township"):
            initial["township"] = request.GET["township"]
    form = AuditRunForm(
        request.POST if request.method == "POST" else None, county_id=county.pk, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        month = form.cleaned_data["month"]
        township = form.cleaned_data.get("township")
        try:
            audit.check_month(month)
            targets = audit.target_townships(county=county, township=township)
            locked = audit.locked_townships(townships=targets, month=month)
            if locked:
                raise audit.AuditLocked(locked, month)
        except ValidationError as exc:
            form.add_error("month", exc)
        else:
            from .tasks_audit import audit_month_task

            job_id = str(uuid.uuid4())
            audit.job_start(
                job_id=job_id, county=county, user=request.user, month=month, township=township
            )
            audit_month_task.apply_async_on_commit(
                args=[county.pk, month.isoformat()],
                kwargs={
                    "township_id": township.pk if township else None,
                    "actor_id": request.user.pk,
                },
                task_id=job_id,
            )
            return redirect("audit_progress", job_id=job_id)
    return render(request, "attendance/audit_run.html", {"form": form, "county": county})


@never_cache
@require_GET
@permission_required("attendance.run_audit", raise_exception=True)
def audit_progress(request, job_id):
    state = audit.job_state(str(job_id))
    scope = user_scope(request.user)
    if state is None or scope.kind != Scope.COUNTY or state.get("county") != scope.pk:
        raise Http404
    total = state.get("total") or 0
    done = state.get("done") or 0
    percent = 100 if state.get("state") == "done" else (round(100 * done / total) if total else 0)
    query = {"month": state["month"]}
    if state.get("township"):
        query["township"] = state["township"]
    context = {
        "job_id": job_id,
        "state": state,
        "percent": percent,
        "results_url": f"{reverse('audit_results')}?{urlencode(query)}",
    }
    if _is_htmx(request):
        return render(request, "attendance/audit_progress_bar.html", context)
    return render(request, "attendance/audit_progress.html", context)


# --- the record book and the subsidy statement ---------------------------------------------


@never_cache
@require_GET
@permission_required("attendance.view_attendancebatch", raise_exception=True)
def audit_record_book(request, pk):
    team = access(
        Team.objects.select_related("village", "village__township", "village__county"),
        user=request.user,
        pk=pk,
    )
    month, _errors_ = month_from(request.GET)
    book = record_book(team=team, month=month)
    with transaction.atomic():
        audit_log.record(
            action=AuditAction.EXPORT,
            request=request,
            obj=team,
            detail={
                "what": "attendance_record_book",
                "filters": {"team": team.pk, "month": month.strftime("%Y-%m")},
                "rows": book.rows,
                "columns": book.columns,
            },
        )
    response = workbook_response(book.workbook, book.filename)
    response["Cache-Control"] = "no-store"
    return response


def _subsidy_rows(request, month, township):
    rows = MonthlyAttendance.objects.visible_to(request.user).filter(month=month)
    if township is not None:
        rows = rows.filter(batch__township=township)
    return rows


@never_cache
@require_GET
@permission_required("attendance.view_monthlyattendance", raise_exception=True)
def subsidy_statement(request):
    month, month_errors = month_from(request.GET)
    townships = Area.objects.visible_to(request.user).filter(level=AreaLevel.TOWNSHIP)
    township = None
    if request.GET.get("township"):
        try:
            township = townships.get(pk=request.GET["township"])
        except (Area.DoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc
    rows = _subsidy_rows(request, month, township).select_related(
        "cadre", "cadre__unit", "village", "batch__township"
    )
    rows = rows.order_by(
        "batch__township__code", "batch__township_id", "village__name", "cadre__name_pinyin", "pk"
    )
    if request.GET.get("export") == "xlsx":
        sheet = subsidy_workbook(month=month, township=township, rows=rows)
        with transaction.atomic():
            audit_log.record(
                action=AuditAction.EXPORT,
                request=request,
                detail={
                    "what": "subsidy_statement",
                    "filters": {
                        "month": month.strftime("%Y-%m"),
                        "township": township.pk if township else None,
                    },
                    "rows": sheet.rows,
                    "columns": sheet.columns,
                },
            )
        response = workbook_response(sheet.workbook, sheet.filename)
        response["Cache-Control"] = "no-store"
        return response
    totals = _subsidy_rows(request, month, township).aggregate(
        cadres=Count("pk"),
        on_post=Sum("on_post_days"),
        amount=Sum("subsidy"),
        unfiled=Count("pk", filter=~Q(batch__status=BatchStatus.FILED)),
    )
    page = Paginator(rows, SUBSIDY_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    county_id = request.user.county_id_in_scope
    rate = calendar.settings_for(county=county_id).daily_rate if county_id else None
    for row in page.object_list:
        row.rate = (
            (row.subsidy / row.on_post_days).quantize(Decimal("0.01")) if row.on_post_days else rate
        )
    return render(
        request,
        "attendance/subsidy_statement.html",
        {
            "month": month,
            "month_errors": month_errors,
            "township": township,
            "townships": townships.order_by("code", "pk"),
            "page": page,
            "totals": totals,
            "rate": rate,
            "query": query.urlencode(),
        },
    )


# --- Excel: the record book (出勤记录本) and the subsidy statement -------------------------

WEEKDAYS = "一二三四五六日"
MARKS = {"valid": "√", "business": "公", "leave": "假", "absent": "×"}
LEGEND = (
    "说明：√ 在岗（有效签到）；公 因公外出；假 请假；× 缺勤；空白为休息日或不在驻村期间。"
    "每格上行为上午，下行为下午。"
)
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
REST_FILL = PatternFill("solid", fgColor="E7E6E6")


@dataclass
class Sheet:
    workbook: Workbook
    filename: str
    rows: int
    columns: list[str]


def _a4_landscape(ws, title_rows: str) -> None:
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.print_title_rows = title_rows


def _half_mark(valid: int, biz: int, lea: int) -> str:
    if valid:
        return MARKS["valid"]
    if biz:
        return MARKS["business"]
    if lea:
        return MARKS["leave"]
    return MARKS["absent"]


def record_book(*, team: Team, month: datetime.date) -> Sheet:
    """The team's attendance record book of the month, as a township prints it:
    one row per member, one column per day (morning over afternoon), the
    month's totals at the right, A4 landscape."""
    from teams.choices import LEADER_ROLES
    from teams.models import Membership

    start, end = month, audit.month_end(month)
    halves = audit.team_month_halves(team=team, month=month)
    memberships = list(
        Membership.objects.filter(team=team, start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .select_related("cadre")
        .order_by("start_date", "pk")
    )
    people: dict[int, dict] = {}
    for m in memberships:  # one row per member; the latest role of the month
        person = people.setdefault(
            m.cadre_id, {"cadre": m.cadre, "role": m.role, "start": m.start_date}
        )
        person["role"] = m.role
    cells: dict[tuple[int, datetime.date], dict[str, str]] = {}
    totals = {pk: {"working": 0, "valid": 0, "business": 0, "leave": 0} for pk in people}
    for cadre_id, _village, day, half, working, valid, biz, lea in halves:
        if not working:
            continue
        mark = _half_mark(valid, biz, lea)
        cells.setdefault((cadre_id, day), {})[half] = mark
        figures = totals.setdefault(cadre_id, {"working": 0, "valid": 0, "business": 0, "leave": 0})
        figures["working"] += 1
        figures["valid"] += 1 if valid else 0
        figures["business"] += 1 if (biz and not valid) else 0
        figures["leave"] += 1 if (lea and not valid and not biz) else 0
    leaders = set(LEADER_ROLES)
    order = sorted(
        people.values(),
        key=lambda p: (p["role"] not in leaders, p["start"], p["cadre"].name_pinyin, p["cadre"].pk),
    )

    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    calendar_working = set(
        WorkDay.objects.filter(
            county_id=village_county(team), date__range=(start, end), is_working=True
        ).values_list("date", flat=True)
    )
    total_headers = ["应出勤(天)", "在岗(天)", "其中因公(天)", "请假(天)", "缺勤(天)"]
    headers = ["序号", "姓名", "驻村身份", *[f"{d.day}日" for d in days], *total_headers]
    width = len(headers)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{month:%Y年%m月}"
    village = team.village
    title = f"{village.township.name}{village.name}驻村工作队出勤记录本"
    ws.cell(row=1, column=1, value=safe_cell(title)).font = Font(bold=True, size=16)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=1, column=1).alignment = CENTER
    subtitle = (
        f"{month.year}年{month.month}月    本月工作日 {len(calendar_working)} 天    "
        f"制表日期：{timezone.localdate():%Y年%m月%d日}"
    )
    ws.cell(row=2, column=1, value=subtitle).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    for col, label in enumerate(headers, start=1):
        ws.cell(row=3, column=col, value=label)
    for col in (1, 2, 3, *range(len(headers) - len(total_headers) + 1, width + 1)):
        ws.merge_cells(start_row=3, start_column=col, end_row=4, end_column=col)
    for index, d in enumerate(days):
        ws.cell(row=4, column=4 + index, value=WEEKDAYS[d.weekday()])
    rest_columns = {4 + index for index, d in enumerate(days) if d not in calendar_working}
    for row in (3, 4):
        for col in range(1, width + 1):
            cell = ws.cell(row=row, column=col)
            cell.font = Font(bold=True, size=9)
            cell.alignment = CENTER
            cell.border = BORDER
            if col in rest_columns:
                cell.fill = REST_FILL
    first = 5
    for number, person in enumerate(order, start=1):
        r = first + number - 1
        cadre = person["cadre"]
        figures = totals.get(cadre.pk, {"working": 0, "valid": 0, "business": 0, "leave": 0})
        on_post = figures["valid"] + figures["business"]
        values = [number, safe_cell(cadre.name), person["role"]]
        for d in days:
            marks = cells.get((cadre.pk, d))
            values.append(f"{marks.get('am', '')}\n{marks.get('pm', '')}" if marks else "")
        values += [
            _days(figures["working"]),
            _days(on_post),
            _days(figures["business"]),
            _days(figures["leave"]),
            _days(figures["working"] - on_post - figures["leave"]),
        ]
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col, value=value)
            cell.alignment = CENTER
            cell.border = BORDER
            cell.font = Font(size=9, color="C00000" if value and "×" in str(value) else None)
            if col in rest_columns:
                cell.fill = REST_FILL
        ws.row_dimensions[r].height = 26
    last = first + len(order)
    ws.cell(row=last + 1, column=1, value=LEGEND).font = Font(size=9)
    ws.merge_cells(start_row=last + 1, start_column=1, end_row=last + 1, end_column=width)
    ws.cell(
        row=last + 3,
        column=1,
        value="填表人：                    驻村第一书记（队长）：                    乡镇驻村办审核：",
    )
    ws.merge_cells(start_row=last + 3, start_column=1, end_row=last + 3, end_column=width)
    ws.column_dimensions["A"].width = 5
    ws.column_dimensions["B"].width = 9
    ws.column_dimensions["C"].width = 10
    for index in range(len(days)):
        ws.column_dimensions[get_column_letter(4 + index)].width = 3.6
    for index in range(len(total_headers)):
        ws.column_dimensions[get_column_letter(4 + len(days) + index)].width = 7
    ws.freeze_panes = ws.cell(row=first, column=4)
    _a4_landscape(ws, "1:4")
    filename = f"{village.township.name}{village.name}出勤记录本_{month:%Y%m}.xlsx"
    return Sheet(wb, filename, len(order), headers)


def village_county(team: Team) -> int:
    return team.village.county_id


def _days(halves: int) -> Decimal:
    return Decimal(halves) / 2


SUBSIDY_HEADERS = [
    "序号",
    "姓名",
    "身份证号",
    "派出单位",
    "乡镇",
    "村",
    "在岗天数",
    "标准(元/天)",
    "金额(元)",
    "领取人签字",
]


def subsidy_workbook(*, month: datetime.date, township, rows) -> Sheet:
    """The month's living-subsidy statement for the finance office (ID numbers
    masked), with totals, A4 landscape."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"{month:%Y年%m月}"
    width = len(SUBSIDY_HEADERS)
    scope = f"（{township.name}）" if township is not None else ""
    ws.cell(
        row=1, column=1, value=f"{month.year}年{month.month}月驻村工作队员生活补助发放表{scope}"
    )
    ws.cell(row=1, column=1).font = Font(bold=True, size=15)
    ws.cell(row=1, column=1).alignment = CENTER
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=2, column=1, value=f"制表日期：{timezone.localdate():%Y年%m月%d日}")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    for col, label in enumerate(SUBSIDY_HEADERS, start=1):
        cell = ws.cell(row=3, column=col, value=label)
        cell.font = Font(bold=True)
        cell.alignment = CENTER
        cell.border = BORDER
    count = 0
    total_days = Decimal(0)
    total_amount = Decimal(0)
    for count, row in enumerate(rows.iterator(chunk_size=2000), start=1):
        rate = (
            (row.subsidy / row.on_post_days).quantize(Decimal("0.01")) if row.on_post_days else ""
        )
        values = [
            count,
            row.cadre.name,
            row.cadre.id_number_masked,
            row.cadre.unit.name,
            row.batch.township.name,
            row.village.name,
            row.on_post_days,
            rate,
            row.subsidy,
            "",
        ]
        total_days += row.on_post_days
        total_amount += row.subsidy
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=3 + count, column=col, value=safe_cell(value))
            cell.border = BORDER
            if col in (7, 8, 9):
                cell.number_format = "0.00" if col != 7 else "0.0"
    r = 4 + count
    ws.cell(row=r, column=1, value="合计").font = Font(bold=True)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=6)
    ws.cell(row=r, column=7, value=total_days).number_format = "0.0"
    ws.cell(row=r, column=9, value=total_amount).number_format = "0.00"
    for col in range(1, width + 1):
        ws.cell(row=r, column=col).border = BORDER
        ws.cell(row=r, column=col).font = Font(bold=True)
    for col, w in enumerate([6, 10, 21, 22, 10, 12, 10, 12, 12, 14], start=1):
        ws.column_dimensions[get_column_letter(col)].width = w
    ws.freeze_panes = "A4"
    _a4_landscape(ws, "1:3")
    name = f"生活补助发放表_{township.name if township else ''}{month:%Y%m}.xlsx"
    return Sheet(wb, name, count, SUBSIDY_HEADERS)
