"""Pages of the teams app: cadres, a village's team, households, pairings,
monthly visits, the matching report and team structure.

Views only wire requests to selectors (reads, always scoped), filter sets and
services (writes with their audit rows). Every list is paginated, sortable
through an allow-list, and exportable to Excel with the same filters; numbers
are masked unless a role with ``teams.reveal_personal`` asks for them.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.excel import build_workbook, workbook_response
from core.idcard import age_on
from core.listing import query_without, sort_links
from core.models import Area
from core.photos import PHOTO_CONTENT_TYPES, image_kind
from core.scoping import access

from . import selectors, services_visits
from .filters import (
    CadreFilterSet,
    HouseholdFilterSet,
    MonthlyFilterSet,
    PairingFilterSet,
)
from .forms import DayForm, MonthForm, VisitForm
from .models import Cadre, Visit, VisitPhoto

PER_PAGE = 50
EXPORT_LIMIT = 50_000
VISITS_PER_MONTH = 4  # 每月进村入户不少于4次


# --- helpers ---------------------------------------------------------------------


def _wants_export(request) -> bool:
    if request.GET.get("export") != "xlsx":
        return False
    if not request.user.has_perm("teams.export_roster"):
        raise PermissionDenied
    return True


def _wants_reveal(request) -> bool:
    """Full numbers only when asked for and allowed."""
    return request.GET.get("reveal") == "1" and request.user.has_perm("teams.reveal_personal")


def _export(request, *, what: str, title: str, headers, rows, filters: dict, revealed: bool):
    """An Excel file of the rows, with its audit row (filters, row count, columns)."""
    rows = list(rows)
    services_visits.export_audit(
        actor=request.user,
        request=request,
        what=what,
        filters=filters,
        rows=len(rows),
        columns=headers,
        revealed=revealed,
    )
    wb = build_workbook(title, headers, rows)
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response = workbook_response(wb, f"{title}_{stamp}.xlsx")
    response["Cache-Control"] = "no-store"
    return response


def _page(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def _number(obj, name: str, reveal: bool) -> str:
    return obj.get_number(name) if reveal else getattr(obj, f"{name}_masked")


# --- cadres ----------------------------------------------------------------------

CADRE_SORTS = ("name", "birth", "unit", "township", "village", "role", "start", "households")
CADRE_HEADERS = [
    "姓名",
    "性别",
    "出生日期",
    "身份证号",
    "手机号",
    "派出单位",
    "单位类别",
    "职务",
    "职级",
    "学历",
    "政治面貌",
    "乡镇",
    "村名称",
    "驻村身份",
    "驻村开始日期",
    "帮扶户数",
]


@never_cache
@require_GET
@permission_required("teams.view_cadre", raise_exception=True)
def cadre_list(request):
    filterset = CadreFilterSet(
        request.GET, queryset=selectors.cadre_list(user=request.user), user=request.user
    )
    rows = filterset.rows
    if _wants_export(request):
        reveal = _wants_reveal(request)
        return _export(
            request,
            what="cadres",
            title="干部名单",
            headers=CADRE_HEADERS,
            rows=(
                [
                    c.name,
                    c.sex,
                    c.birth_date,
                    _number(c, "id_number", reveal),
                    _number(c, "phone", reveal),
                    c.unit.name,
                    c.unit.kind,
                    c.post,
                    c.rank,
                    c.education,
                    c.political_status,
                    c.current_township or "",
                    c.current_village or "",
                    c.current_role or "",
                    c.current_start,
                    c.paired_households,
                ]
                for c in rows[:EXPORT_LIMIT]
            ),
            filters=filterset.filter_values,
            revealed=reveal,
        )
    page = _page(request, rows)
    page.object_list = list(page.object_list)
    today = timezone.localdate()
    for cadre in page.object_list:
        cadre.age = age_on(cadre.birth_date, today)
    return render(
        request,
        "teams/cadre_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query_without(request),
            "sorts": sort_links(request, CADRE_SORTS),
        },
    )


def _cadre(request, pk) -> Cadre:
    return selectors.access_distinct(
        Cadre.objects.select_related("unit", "county"), user=request.user, pk=pk
    )


@require_GET
@permission_required("teams.view_cadre", raise_exception=True)
def cadre_detail(request, pk):
    cadre = _cadre(request, pk)
    record = selectors.cadre_record(user=request.user, cadre=cadre)
    return render(request, "teams/cadre_detail.html", _cadre_context(request, cadre, record))


def _cadre_context(request, cadre, record, numbers=None) -> dict:
    current = next((m for m in record["memberships"] if m.end_date is None), None)
    return {
        "cadre": cadre,
        "current": current,
        "current_pairings": [p for p in record["pairings"] if p.end_date is None],
        "events": record["events"],
        "numbers": numbers,
        "age": age_on(cadre.birth_date, timezone.localdate()),
        "can_reveal": request.user.has_perm("teams.reveal_personal"),
    }


@never_cache
@require_POST
@permission_required("teams.reveal_personal", raise_exception=True)
def cadre_reveal(request, pk):
    """Full ID and mobile numbers, once, on an explicit request; an audit row each time."""
    cadre = _cadre(request, pk)
    numbers = services_visits.cadre_reveal(actor=request.user, cadre=cadre, request=request)
    if request.headers.get("HX-Request") == "true":
        return render(request, "teams/cadre_reveal.html", {"cadre": cadre, "numbers": numbers})
    record = selectors.cadre_record(user=request.user, cadre=cadre)
    return render(
        request, "teams/cadre_detail.html", _cadre_context(request, cadre, record, numbers)
    )


# --- a village's team ----------------------------------------------------------------


@require_GET
@permission_required("teams.view_team", raise_exception=True)
def village_team(request, pk):
    village = access(
        Area.objects.villages().select_related("township", "county"), user=request.user, pk=pk
    )
    data = selectors.village_team(user=request.user, village=village)
    return render(request, "teams/team_detail.html", {"village": village, **data})


# --- households and pairings --------------------------------------------------------

HOUSEHOLD_SORTS = ("township", "village", "head", "size", "type", "year", "cadre")
HOUSEHOLD_HEADERS = [
    "乡镇",
    "村名称",
    "户主姓名",
    "户主身份证号",
    "家庭人口",
    "户类型",
    "脱贫年度",
    "联系电话",
    "帮扶干部",
    "派出单位",
    "结对开始日期",
]


@never_cache
@require_GET
@permission_required("teams.view_household", raise_exception=True)
def household_list(request):
    filterset = HouseholdFilterSet(
        request.GET, queryset=selectors.household_list(user=request.user), user=request.user
    )
    rows = filterset.rows
    if _wants_export(request):
        reveal = _wants_reveal(request)
        return _export(
            request,
            what="households",
            title="帮扶户名单",
            headers=HOUSEHOLD_HEADERS,
            rows=(
                [
                    h.village.township.name,
                    h.village.name,
                    h.head_name,
                    _number(h, "head_id_number", reveal),
                    h.size,
                    h.type,
                    h.year_out_of_poverty,
                    _number(h, "phone", reveal),
                    h.pairing_cadre or "",
                    h.pairing_unit or "",
                    h.paired_since,
                ]
                for h in rows[:EXPORT_LIMIT]
            ),
            filters=filterset.filter_values,
            revealed=reveal,
        )
    return render(
        request,
        "teams/household_list.html",
        {
            "filter": filterset,
            "page": _page(request, rows),
            "query": query_without(request),
            "sorts": sort_links(request, HOUSEHOLD_SORTS),
        },
    )


PAIRING_SORTS = ("cadre", "unit", "household", "village", "start", "end")
PAIRING_HEADERS = [
    "帮扶干部姓名",
    "帮扶干部身份证号",
    "派出单位",
    "户主姓名",
    "户主身份证号",
    "乡镇",
    "村名称",
    "户类型",
    "结对开始日期",
    "结对结束日期",
]


@never_cache
@require_GET
@permission_required("teams.view_pairing", raise_exception=True)
def pairing_list(request):
    filterset = PairingFilterSet(
        request.GET,
        queryset=selectors.pairing_list(user=request.user, current_only=False),
        user=request.user,
    )
    rows = filterset.rows
    if _wants_export(request):
        reveal = _wants_reveal(request)
        return _export(
            request,
            what="pairings",
            title="结对帮扶名单",
            headers=PAIRING_HEADERS,
            rows=(
                [
                    p.cadre.name,
                    _number(p.cadre, "id_number", reveal),
                    p.cadre.unit.name,
                    p.household.head_name,
                    _number(p.household, "head_id_number", reveal),
                    p.household.village.township.name,
                    p.household.village.name,
                    p.household.type,
                    p.start_date,
                    p.end_date,
                ]
                for p in rows[:EXPORT_LIMIT]
            ),
            filters=filterset.filter_values,
            revealed=reveal,
        )
    return render(
        request,
        "teams/pairing_list.html",
        {
            "filter": filterset,
            "page": _page(request, rows),
            "query": query_without(request),
            "sorts": sort_links(request, PAIRING_SORTS),
        },
    )


# --- visits --------------------------------------------------------------------------

MONTHLY_HEADERS = [
    "帮扶干部",
    "派出单位",
    "本月走访次数",
    "乡镇",
    "村名称",
    "户主姓名",
    "本户走访次数",
]


@never_cache
@require_GET
@permission_required("teams.view_visit", raise_exception=True)
def visit_monthly(request):
    """Each current pairing cadre in scope, their households and the month's visits."""
    user = request.user
    month_form = MonthForm(request.GET)
    if request.GET.get("month") and not month_form.is_valid():
        messages.warning(request, _("Give the month as YYYY-MM; showing this month."))
    month = month_form.month_value()
    filterset = MonthlyFilterSet(request.GET, queryset=selectors.pairing_list(user=user), user=user)
    pairings = filterset.rows
    cadres = selectors.monthly_cadres(user=user, month=month, pairings=pairings)
    if month_form.is_valid() and month_form.cleaned_data.get("under"):
        cadres = cadres.filter(month_visits__lt=VISITS_PER_MONTH)
    cadres = cadres.order_by("month_visits", "name_pinyin", "pk")

    if _wants_export(request):
        rows = selectors.monthly_pairings(
            user=user, month=month, cadre_ids=cadres.values("pk"), pairings=pairings
        ).select_related("cadre__unit", "household__village__township")
        totals = dict(cadres.values_list("pk", "month_visits"))
        return _export(
            request,
            what="visits_monthly",
            title=f"走访统计_{month:%Y-%m}",
            headers=MONTHLY_HEADERS,
            rows=(
                [
                    p.cadre.name,
                    p.cadre.unit.name,
                    totals.get(p.cadre_id, 0),
                    p.household.village.township.name,
                    p.household.village.name,
                    p.household.head_name,
                    p.month_visits,
                ]
                for p in rows[:EXPORT_LIMIT]
            ),
            filters={**filterset.filter_values, "month": f"{month:%Y-%m}"},
            revealed=False,
        )

    page = _page(request, cadres)
    cadre_rows = list(page.object_list)
    by_cadre: dict[int, list] = {c.pk: [] for c in cadre_rows}
    for p in selectors.monthly_pairings(
        user=user, month=month, cadre_ids=list(by_cadre), pairings=pairings
    ):
        by_cadre[p.cadre_id].append(p)
    for c in cadre_rows:
        c.month_pairings = by_cadre[c.pk]
        c.unvisited = [p for p in c.month_pairings if not p.month_visits]
        c.under = c.month_visits < VISITS_PER_MONTH
    pairing_rows = selectors.monthly_pairings(
        user=user, month=month, cadre_ids=cadres.values("pk"), pairings=pairings
    )
    return render(
        request,
        "teams/visit_monthly.html",
        {
            "filter": filterset,
            "month_form": month_form,
            "month": month,
            "page": page,
            "cadres": cadre_rows,
            "summary": selectors.monthly_summary(
                cadres=cadres, pairings=pairing_rows, threshold=VISITS_PER_MONTH
            ),
            "threshold": VISITS_PER_MONTH,
            "query": query_without(request),
        },
    )


@require_http_methods(["GET", "POST"])
@permission_required("teams.add_visit", raise_exception=True)
def visit_create(request):
    bound = request.method == "POST"
    form = VisitForm(
        request.POST if bound else None, request.FILES if bound else None, user=request.user
    )
    if bound and form.is_valid():
        try:
            visit = services_visits.visit_create(
                actor=request.user,
                household=form.cleaned_data["household"],
                date=form.cleaned_data["date"],
                content=form.cleaned_data["content"],
                photos=form.cleaned_data["photos"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The visit has been recorded."))
            return redirect(f"{reverse('visit_monthly')}?month={visit.date:%Y-%m}")
    return render(request, "teams/visit_create.html", {"form": form})


def _add_errors(form, exc: ValidationError) -> None:
    """A service's errors on the form: on their field when it has one."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@require_GET
@permission_required("teams.view_visit", raise_exception=True)
def visit_photo(request, pk):
    """A visit photo, for users who may see the visit; served with the type
    found in its content, never the uploaded name's."""
    try:
        photo = VisitPhoto.objects.get(
            pk=pk, visit__in=Visit.objects.visible_to(request.user).values("pk")
        )
    except (VisitPhoto.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    handle = photo.image.open("rb")
    content_type = PHOTO_CONTENT_TYPES.get(image_kind(handle) or "")
    if content_type is None:
        handle.close()
        raise Http404
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response


# --- reports -----------------------------------------------------------------------

MATCHING_HEADERS = ["乡镇", "村名称", "村情类别", "应派单位类别", "现有单位类别", "现任队员数"]


@never_cache
@require_GET
@permission_required("teams.view_team", raise_exception=True)
def matching_report(request):
    report = selectors.matching_report(user=request.user)
    teams = list(report["teams"])
    for team in teams:
        team.kinds = selectors.kinds_present(team)
    if _wants_export(request):
        return _export(
            request,
            what="matching_report",
            title="选派匹配情况",
            headers=MATCHING_HEADERS,
            rows=(
                [
                    t.village.township.name,
                    t.village.name,
                    t.village.condition,
                    t.needed_kind,
                    "、".join(t.kinds),
                    len(t.current_members),
                ]
                for t in teams
            ),
            filters={},
            revealed=False,
        )
    return render(
        request,
        "teams/team_matching.html",
        {"summary": report["summary"], "teams": teams, "rule": selectors.NEEDED_KIND},
    )


STRUCTURE_HEADERS = [
    "地区",
    "工作队",
    "队员",
    "平均年龄",
    "大专以上",
    "研究生",
    "博士",
    "党员",
    "副科以上",
    "涉农专业",
    "农村工作经历",
    "曾参加脱贫攻坚驻村",
]


@never_cache
@require_GET
@permission_required("teams.view_team", raise_exception=True)
def team_structure(request):
    form = DayForm(request.GET)
    if request.GET.get("date") and not form.is_valid():
        messages.warning(request, _("Give the date as YYYY-MM-DD; showing today."))
    day = form.day_value()
    rows = selectors.team_structure(user=request.user, day=day)
    if _wants_export(request):
        return _export(
            request,
            what="team_structure",
            title=f"工作队结构_{day:%Y%m%d}",
            headers=STRUCTURE_HEADERS,
            rows=([r.area.name, *[r.figures[k] for k in selectors.STRUCTURE_KEYS]] for r in rows),
            filters={"date": day.isoformat()},
            revealed=False,
        )
    chart = {
        "names": [r.area.name for r in rows[1:]] or [r.area.name for r in rows],
        "series": {
            key: [r.figures[key] for r in (rows[1:] or rows)]
            for key in ("members", "college_or_above", "party_members", "deputy_section_or_above")
        },
    }
    chart_labels = {
        "members": _("Members"),
        "college_or_above": _("College or above"),
        "party_members": _("Party members"),
        "deputy_section_or_above": _("Deputy section or above"),
    }
    return render(
        request,
        "teams/team_structure.html",
        {"form": form, "day": day, "rows": rows, "chart": chart, "chart_labels": chart_labels},
    )
