"""The cadre's leave pages: my requests, a new request, withdraw, report the
return, and the attachment (for the applicant and the approvers in scope).

Views only wire requests to attendance.leave (reads scoped, writes through
services with their audit rows). Approval happens in the admin console."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from teams.models import Cadre

from . import leave
from .forms_leave import LeaveRequestForm, ReturnForm
from .models import LeaveRequest

PER_PAGE = 50


def _errors_text(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


@never_cache
@require_GET
@permission_required("attendance.view_leaverequest", raise_exception=True)
def leave_list(request):
    user = request.user
    rows = (
        leave.with_overdue(leave.my_requests(user=user))
        .select_related("membership__team__village")
        .prefetch_related(leave.decisions_prefetch())
        .order_by("-start_date", "-pk")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    level = leave.approver_level(user)
    context = {
        "page": page,
        "can_apply": user.has_perm("attendance.add_leaverequest")
        and Cadre.objects.filter(user_id=user.pk).exists(),
        "approver_level": level,
        "waiting": leave.waiting_for(user=user).count() if level else 0,
        "return_form": ReturnForm(),
    }
    return render(request, "attendance/leave_list.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@permission_required("attendance.add_leaverequest", raise_exception=True)
def leave_create(request):
    if request.method == "POST":
        form = LeaveRequestForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = leave.leave_request_create(
                    user=request.user,
                    kind=data["kind"],
                    leave_type=data["leave_type"],
                    start_date=data["start_date"],
                    start_half=data["start_half"],
                    end_date=data["end_date"],
                    end_half=data["end_half"],
                    reason=data["reason"],
                    attachment=data.get("attachment"),
                    http_request=request,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    form.add_error(None, exc)
                else:
                    form.add_error(NON_FIELD_ERRORS, exc)
            else:
                messages.success(
                    request,
                    _("Request sent: %(days)s working days, waiting for the village.")
                    % {"days": created.working_days.normalize()},
                )
                return redirect("leave_list")
    else:
        form = LeaveRequestForm()
    context = {"form": form, "has_cadre": Cadre.objects.filter(user_id=request.user.pk).exists()}
    return render(request, "attendance/leave_form.html", context)


def _own(request, pk) -> LeaveRequest:
    return leave.access_request(
        user=request.user, pk=pk, queryset=leave.my_requests(user=request.user)
    )


@require_POST
@permission_required("attendance.add_leaverequest", raise_exception=True)
def leave_withdraw(request, pk):
    target = _own(request, pk)
    try:
        leave.leave_withdraw(user=request.user, request=target, http_request=request)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors_text(exc) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("The request was withdrawn."))
    return redirect("leave_list")


@require_POST
@permission_required("attendance.add_leaverequest", raise_exception=True)
def leave_return(request, pk):
    target = _own(request, pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the day of the return."))
        return redirect("leave_list")
    try:
        leave.leave_report_return(
            user=request.user,
            request=target,
            returned_on=form.cleaned_data["returned_on"],
            http_request=request,
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _errors_text(exc) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, _("The return was reported."))
    return redirect("leave_list")


@never_cache
@require_GET
@permission_required("attendance.view_leaverequest", raise_exception=True)
def leave_attachment(request, pk):
    """The attachment, to the applicant and to approvers with the request in
    their area; to anyone else the same 404 as a missing request."""
    user = request.user
    queryset = leave.my_requests(user=user)
    if leave.approver_level(user):
        queryset = queryset | leave.requests_in_area(user=user)
    target = leave.access_request(user=user, pk=pk, queryset=queryset)
    if not target.attachment:
        raise Http404
    handle = target.attachment.open("rb")
    kind = leave.attachment_kind(handle) or "pdf"
    response = FileResponse(
        handle,
        content_type=leave.ATTACHMENT_CONTENT_TYPES[kind],
        as_attachment=kind == "pdf",
        filename=f"leave-{target.pk}.{kind}",
    )
    response["Cache-Control"] = "private, no-store"
    return response
