"""Pages of the core app: login, home per role, area and unit pages, audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import audit, dashboard, selectors, services
from .choices import AreaLevel, AuditAction, Role
from .excel import build_workbook, workbook_response
from .forms import AuditFilterForm, LoginForm
from .models import Area, DispatchingUnit
from .scoping import Scope, access, user_scope


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            services.password_changed(user=form.user, request=self.request)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "core/password_change_done.html"


@login_not_required
def lockout_response(request, credentials=None, *args, **kwargs):
    """What a locked-out login attempt gets (django-axes calls this)."""
    form = LoginForm(request)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = _(
        "Too many failed attempts: this account is locked from your address for "
        "%(minutes)d minutes. Ask the security administrator to unlock it."
    ) % {"minutes": minutes}
    return render(
        request, "core/login.html", {"form": form, "lockout_message": message}, status=429
    )


@login_not_required
@require_GET
@never_cache
def health(request):
    """Liveness for load balancers: database reachable, cache reachable."""
    status = {"database": False, "cache": False}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        status["database"] = True
    except Exception:  # noqa: BLE001
        status["database"] = False
    try:
        cache.set("kaitai:health", "1", 5)
        status["cache"] = cache.get("kaitai:health") == "1"
    except Exception:  # noqa: BLE001
        status["cache"] = False
    ok = all(status.values())
    return JsonResponse({"status": "ok" if ok else "error", **status}, status=200 if ok else 503)


def home(request):
    """Each role lands on the page of its own scope."""
    user = request.user
    scope = user_scope(user)
    if scope.kind in (Scope.COUNTY, Scope.TOWNSHIP, Scope.VILLAGE):
        return area_detail(request, scope.pk)
    if scope.kind == Scope.UNIT:
        return unit_detail(request, scope.pk)
    context = {"role": user.role}
    if user.role == Role.SYSTEM_ADMIN:
        context["admin_links"] = [(_("User accounts"), "admin:core_user_changelist")]
    elif user.role == Role.SECURITY_ADMIN:
        context["admin_links"] = [
            (_("Roles and scopes"), "admin:core_roleassignment_changelist"),
            (_("Locked-out accounts"), "admin:axes_accessattempt_changelist"),
        ]
    elif user.role == Role.AUDIT_ADMIN:
        context["admin_links"] = [(_("Audit log"), "audit_log")]
    return render(request, "core/home.html", context)


def area_detail(request, pk):
    area = access(Area.objects.select_related("parent", "county"), user=request.user, pk=pk)
    context = {"area": area}
    if area.level == AreaLevel.COUNTY:
        townships = list(selectors.township_summary(user=request.user, county=area))
        context["townships"] = townships
        context["village_total"] = sum(t.villages for t in townships)
        context["chart"] = {
            "names": [t.name for t in townships],
            "villages": [t.villages for t in townships],
        }
        template = "core/area_county.html"
    elif area.level == AreaLevel.TOWNSHIP:
        context["villages"] = selectors.village_list(user=request.user, township=area)
        template = "core/area_township.html"
    else:
        context["point"] = (
            {"lat": float(area.latitude), "lng": float(area.longitude), "radius": area.radius_m}
            if area.latitude is not None
            else None
        )
        template = "core/area_village.html"
    context["panels"] = dashboard.panels_for(request, area=area)
    return render(request, template, context)


def unit_detail(request, pk):
    unit = access(
        DispatchingUnit.objects.select_related("county", "township"), user=request.user, pk=pk
    )
    panels = dashboard.panels_for(request, unit=unit)
    return render(request, "core/unit_detail.html", {"unit": unit, "panels": panels})


@permission_required("core.view_auditlog", raise_exception=True)
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    entries = selectors.audit_log_list(filters=form.filters() if request.GET else {})
    page = Paginator(entries.select_related(None), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "core/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


AUDIT_EXPORT_LIMIT = 100_000


@permission_required("core.export_auditlog", raise_exception=True)
def audit_log_export(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    entries = selectors.audit_log_list(filters=filters)[:AUDIT_EXPORT_LIMIT]
    headers = ["时间", "用户名", "IP地址", "操作", "对象类型", "对象ID", "对象", "结果", "详情"]
    labels = dict(AuditAction.choices)
    rows = [
        (
            e.created_at,
            e.username,
            e.ip_address or "",
            str(labels.get(e.action, e.action)),
            e.object_type,
            e.object_id,
            e.object_repr,
            "成功" if e.success else "失败",
            str(e.detail) if e.detail else "",
        )
        for e in entries.iterator(chunk_size=2000)
    ]
    with transaction.atomic():
        audit.record(
            action=AuditAction.EXPORT,
            request=request,
            detail={
                "what": "audit_log",
                "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")},
                "rows": len(rows),
                "columns": headers,
            },
        )
    wb = build_workbook("审计日志", headers, rows, widths=[20, 16, 16, 14, 18, 10, 24, 8, 40])
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    return workbook_response(wb, f"审计日志_{stamp}.xlsx")


def permission_denied(request, exception=None):
    """403 page; the refusal is an audit row (a failed action)."""
    audit.record_refusal(request)
    return render(request, "403.html", status=403)
