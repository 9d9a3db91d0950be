"""Pages of the roster upload (upload, check, preview, confirm, applied) and of
cadre account activation (codes issued by the township office, and the page
where a cadre sets a password with one).

Views wire requests to services, which check permission and scope again and
write the audit log; single objects come through ``access`` (the same 404 for
"missing" and "not yours").
"""

from __future__ import annotations

import os
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.excel import XLSX_CONTENT_TYPE
from core.models import Area, ImportJob, ImportJobStatus
from core.scoping import Scope, access, user_scope

from . import services
from .rosters import MAX_BYTES, ROSTERS

JOBS_PER_PAGE = 20
ERRORS_PER_PAGE = 100
POLL_SECONDS = 1


# --- forms -------------------------------------------------------------------------


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Roster"),
        choices=[(kind, roster.title) for kind, roster in ROSTERS.items()],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("Excel (.xlsx, .xls) or CSV, at most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".xlsx,.xls,.csv"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(gettext_lazy("The file is larger than 10 MB."))
        if os.path.splitext(upload.name)[1].lower() not in services.ALLOWED_SUFFIXES:
            raise ValidationError(gettext_lazy("Upload an Excel (.xlsx, .xls) or CSV (.csv) file."))
        return upload


class VillageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} · {obj.name}"


class VillageForm(forms.Form):
    village = VillageChoiceField(
        label=gettext_lazy("Village"),
        queryset=Area.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = (
            Area.objects.visible_to(user)
            .villages()
            .select_related("parent")
            .order_by("parent__name", "name", "pk")
        )


class ActivateForm(forms.Form):
    username = forms.CharField(
        label=gettext_lazy("Mobile number"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"class": "form-control", "autocomplete": "username", "inputmode": "numeric"}
        ),
    )
    code = forms.CharField(
        label=gettext_lazy("Activation code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"class": "form-control font-monospace", "autocomplete": "one-time-code"}
        ),
    )
    password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"class": "form-control", "autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", gettext_lazy("The two passwords differ."))
        return cleaned


# --- helpers -----------------------------------------------------------------------


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _template_url(kind: str) -> str:
    try:
        return reverse("roster_template", kwargs={"kind": kind})
    except NoReverseMatch:
        return ""


def _jobs(user):
    return ImportJob.objects.visible_to(user).select_related("created_by", "township", "county")


def _job(request, pk) -> ImportJob:
    return access(
        ImportJob.objects.select_related("created_by", "township", "county"),
        user=request.user,
        pk=pk,
    )


# --- uploads -------------------------------------------------------------------------


@permission_required("teams.import_roster", raise_exception=True)
@require_http_methods(["GET", "POST"])
@never_cache
def import_list(request):
    """The scope's import jobs and the upload form."""
    services.import_scope(request.user)  # 403 for a role without an office scope
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in ROSTERS else {}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.import_job_create(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                request=request,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            services.import_job_start_check(job=job)
            return redirect("import_detail", pk=job.pk)
    page = Paginator(_jobs(request.user), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    templates = [
        {"kind": kind, "title": roster.title, "url": _template_url(kind)}
        for kind, roster in ROSTERS.items()
    ]
    return render(
        request,
        "teams/import_list.html",
        {
            "form": form,
            "page": page,
            "templates": templates,
            "titles": {kind: roster.title for kind, roster in ROSTERS.items()},
            "max_mb": MAX_BYTES // (1024 * 1024),
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required("core.view_importjob", raise_exception=True)
@require_GET
@never_cache
def import_detail(request, pk):
    """Progress while the file is checked or applied; then the preview (counts,
    every error by row and column, warnings) with confirm and cancel."""
    job = _job(request, pk)
    errors = Paginator(job.errors or [], ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    running = job.status in services.RUNNING_STATUSES
    can_import = request.user.has_perm("teams.import_roster")
    context = {
        "job": job,
        "title": ROSTERS[job.kind].title if job.kind in ROSTERS else job.kind,
        "running": running,
        "progress": services.import_job_progress(job),
        "poll_seconds": POLL_SECONDS,
        "errors": errors,
        "warnings": job.warnings or [],
        "counts": {
            "new": (job.counts or {}).get("new", 0),
            "changed": (job.counts or {}).get("changed", 0),
            "unchanged": (job.counts or {}).get("unchanged", 0),
        },
        "can_confirm": can_import and job.status == ImportJobStatus.PREVIEW and not job.errors,
        "can_cancel": can_import and job.status in services.CANCELLABLE,
        "has_error_workbook": can_import and bool(job.errors) and bool(job.file),
        "template_url": _template_url(job.kind),
    }
    return render(request, "teams/import_detail.html", context)


@permission_required("core.view_importjob", raise_exception=True)
@require_GET
@never_cache
def import_progress(request, pk):
    """The progress bar, polled by htmx; once the stage is over it asks htmx to
    load the job's page again, which then shows the preview or the result."""
    job = _job(request, pk)
    running = job.status in services.RUNNING_STATUSES
    response = render(
        request,
        "teams/import_progress.html",
        {
            "job": job,
            "running": running,
            "progress": services.import_job_progress(job),
            "poll_seconds": POLL_SECONDS,
        },
    )
    if not running and request.headers.get("HX-Request"):
        response["HX-Redirect"] = reverse("import_detail", kwargs={"pk": job.pk})
    return response


@permission_required("teams.import_roster", raise_exception=True)
@require_GET
@never_cache
def import_errors(request, pk):
    """The uploaded workbook with the bad cells marked and a comment on each."""
    job = _job(request, pk)
    try:
        content = services.import_job_error_workbook(actor=request.user, job=job, request=request)
    except ValidationError as exc:
        raise Http404 from exc
    stem = os.path.splitext(job.original_name)[0] or "roster"
    filename = f"{stem}_错误标注.xlsx"
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@permission_required("teams.import_roster", raise_exception=True)
@require_POST
def import_confirm(request, pk):
    job = _job(request, pk)
    try:
        job = services.import_job_confirm(actor=request.user, job=job, request=request)
    except ValidationError as exc:
        services.action_failed(
            actor=request.user, what="import_confirm", error=exc, obj=job, request=request
        )
        for message in exc.messages:
            messages.error(request, message)
        return redirect("import_detail", pk=job.pk)
    services.import_job_start_apply(job=job, actor=request.user)
    job.refresh_from_db()
    if job.status == ImportJobStatus.APPLIED:
        messages.success(request, _("The roster has been imported."))
    return redirect("import_detail", pk=job.pk)


@permission_required("teams.import_roster", raise_exception=True)
@require_POST
def import_cancel(request, pk):
    job = _job(request, pk)
    try:
        services.import_job_cancel(actor=request.user, job=job, request=request)
    except ValidationError as exc:
        services.action_failed(
            actor=request.user, what="import_cancel", error=exc, obj=job, request=request
        )
        for message in exc.messages:
            messages.error(request, message)
        return redirect("import_detail", pk=job.pk)
    messages.info(request, _("The import was cancelled and the uploaded file deleted."))
    return redirect("import_list")


# --- activation ---------------------------------------------------------------------


def _require_office(user) -> None:
    if not user.has_perm(services.ACTIVATION_ISSUE_PERMISSION):
        raise PermissionDenied
    if user_scope(user).kind not in (Scope.COUNTY, Scope.TOWNSHIP):
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
@never_cache
def activation_codes(request):
    """The township office picks a village and issues codes for its stationed
    cadres whose accounts wait for activation; the codes are shown once, on a
    printable page."""
    _require_office(request.user)
    source = request.POST if request.method == "POST" else request.GET
    form = VillageForm(source or None, user=request.user)
    village = candidates = None
    if source.get("village"):
        village = access(Area.objects.villages(), user=request.user, pk=source.get("village"))
        form = VillageForm({"village": village.pk}, user=request.user)
        candidates = services.activation_candidates(actor=request.user, village=village)
    if request.method == "POST":
        if village is None:
            raise Http404
        if not candidates:
            messages.info(request, _("No cadre of this village is waiting for activation."))
            return redirect(f"{reverse('activation_codes')}?village={village.pk}")
        try:
            issued = services.activation_codes_issue(
                actor=request.user, cadres=candidates, request=request
            )
        except ValidationError as exc:
            services.action_failed(
                actor=request.user,
                what="activation_codes",
                error=exc,
                obj=village,
                request=request,
            )
            for message in exc.messages:
                messages.error(request, message)
            return redirect(f"{reverse('activation_codes')}?village={village.pk}")
        rows = [
            {
                "name": cadre.name,
                "phone": cadre.phone_masked,
                "username": cadre.phone_masked
                if cadre.user.username == cadre.get_number("phone")
                else cadre.user.username,
                "code": services.activation_code_display(code),
            }
            for cadre, code in issued
        ]
        # The only time the codes exist in plain text: never_cache keeps the
        # page out of every cache ("no-store").
        return render(
            request,
            "teams/activation_codes_print.html",
            {
                "village": village,
                "rows": rows,
                "activate_url": request.build_absolute_uri(reverse("account_activate")),
                "days": services.ACTIVATION_TTL.days,
            },
        )
    return render(
        request,
        "teams/activation_codes.html",
        {"form": form, "village": village, "candidates": candidates},
    )


@login_not_required
@require_http_methods(["GET", "POST"])
@never_cache
def account_activate(request):
    """A cadre sets a first password with the code from the township office."""
    form = ActivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_activate(
                username=form.cleaned_data["username"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password1"],
                request=request,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for message in exc.message_dict.get("password", []):
                    form.add_error("password1", message)
            else:
                form.add_error(None, exc.messages)
        else:
            messages.success(
                request,
                _("Your account is active. Log in with your mobile number and new password."),
            )
            return redirect("login")
    return render(
        request,
        "teams/activation_activate.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
