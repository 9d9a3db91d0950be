"""The admin console for attendance: leave approval, and read-only, scoped views
of sign-ins, help logs, the calendar, settings and the monthly audits.

Every queryset goes through ``visible_to(request.user)``; an object outside the
user's scope is the same as a missing one. Nobody edits a leave request's
content here: approvers approve or reject, one at a time (buttons on the
request's page) or in bulk (admin actions, each request in its own
transaction), through attendance.leave, which checks level, scope and state
and writes the audit log."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ScopedAdminMixin

from . import helplogs, leave, signins
from .choices import Decision, LeaveStatus
from .forms_leave import RejectForm
from .models import (
    AttendanceBatch,
    AttendanceSettings,
    CalendarYear,
    HelpLog,
    LeaveRequest,
    MonthlyAttendance,
    OnPostCheck,
    SignIn,
    WorkDay,
)

# --- read-only registrations -------------------------------------------------------


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """View only: no add, change, delete or actions; rows within the user's scope."""

    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


@admin.register(SignIn)
class SignInAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "cadre",
        "village",
        "date",
        "half",
        "in_area",
        "accepted",
        "counts",
        "signed_at",
    )
    list_filter = ("half", "in_area", "accepted", "counts")
    list_select_related = ("cadre", "village")
    search_fields = ("cadre__name",)
    # Raw coordinates and photos (行踪轨迹) are not shown here.
    fields = (
        "cadre",
        "village",
        "signed_at",
        "date",
        "half",
        "distance_m",
        "accuracy_m",
        "taken_at",
        "in_area",
        "accepted",
        "accepted_by",
        "accept_reason",
        "counts",
        "created_at",
    )

    def get_queryset(self, request):
        # Only the sign-ins made in the user's area, as on the sign-in pages.
        return signins.visible_signins(
            request.user, super(ScopedAdminMixin, self).get_queryset(request)
        )


@admin.register(HelpLog)
class HelpLogAdmin(ReadOnlyScopedAdmin):
    list_display = ("cadre", "date", "short_content", "updated_at")
    list_select_related = ("cadre",)
    search_fields = ("cadre__name",)
    fields = ("cadre", "date", "content", "created_at", "updated_at")

    def get_queryset(self, request):
        # Only the logs of days the cadre was stationed in the user's area.
        return helplogs.visible_helplogs(
            request.user, super(ScopedAdminMixin, self).get_queryset(request)
        )

    @admin.display(description=_("content"))
    def short_content(self, obj):
        return obj.content[:40]


@admin.register(AttendanceSettings)
class AttendanceSettingsAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "county",
        "township_final_days",
        "return_grace_days",
        "default_radius_m",
        "required_days",
        "daily_rate",
        "updated_at",
    )
    list_select_related = ("county",)


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadOnlyScopedAdmin):
    list_display = ("county", "year", "source", "confirmed_by", "confirmed_at")
    list_filter = ("source",)
    list_select_related = ("county", "confirmed_by")


@admin.register(WorkDay)
class WorkDayAdmin(ReadOnlyScopedAdmin):
    list_display = ("county", "date", "is_working", "source", "note")
    list_filter = ("is_working", "source")
    list_select_related = ("county",)
    list_per_page = 100


@admin.register(AttendanceBatch)
class AttendanceBatchAdmin(ReadOnlyScopedAdmin):
    list_display = ("township", "month", "status", "computed_at", "submitted_at", "filed_at")
    list_filter = ("status",)
    list_select_related = ("township",)


@admin.register(MonthlyAttendance)
class MonthlyAttendanceAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "cadre",
        "village",
        "month",
        "working_days",
        "on_post_days",
        "leave_days",
        "absent_days",
        "subsidy",
    )
    list_select_related = ("cadre", "village")
    search_fields = ("cadre__name",)


@admin.register(OnPostCheck)
class OnPostCheckAdmin(ReadOnlyScopedAdmin):
    list_display = (
        "cadre",
        "year",
        "as_of",
        "required_days",
        "on_post_days",
        "remaining_working_days",
        "status",
    )
    list_filter = ("status", "year")
    list_select_related = ("cadre",)
    search_fields = ("cadre__name",)


# --- leave approval -----------------------------------------------------------------------

MINE = None  # no ?status=: the requests waiting for me
ALL = "all"


class WaitingStatusFilter(admin.SimpleListFilter):
    """By default the requests waiting at the user's level; the others on demand."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(ALL, _("All")), *LeaveStatus.choices]

    def choices(self, changelist):
        yield {
            "selected": self.value() is MINE,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Waiting for my approval"),
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value is MINE:
            return queryset.filter(pk__in=leave.waiting_for(user=request.user).values("pk"))
        if value == ALL:
            return queryset
        if value in LeaveStatus.values:
            return queryset.filter(status=value)
        return queryset.none()


class OverdueFilter(admin.SimpleListFilter):
    title = _("return overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_overdue=True)
        if self.value() == "no":
            return queryset.filter(is_overdue=False)
        return queryset


@admin.register(LeaveRequest)
class LeaveRequestAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "applicant",
        "village",
        "period",
        "kind_display",
        "days",
        "status_display",
        "overdue",
    )
    list_filter = (WaitingStatusFilter, "kind", OverdueFilter)
    list_select_related = ("cadre", "membership__team__village")
    search_fields = ("cadre__name",)
    list_per_page = 50
    actions = ["approve_selected", "reject_selected"]
    fields = (
        "applicant",
        "village",
        "kind_display",
        "period",
        "days",
        "reason",
        "attachment_link",
        "status_display",
        "final_level",
        "decision_history",
        "decided_at",
        "returned_on",
        "overdue",
        "created_at",
    )
    readonly_fields = fields
    change_form_template = "admin/attendance/leaverequest/change_form.html"

    # --- rows and permissions

    def get_queryset(self, request):
        # visible_to (ScopedAdminMixin) and made on a membership in the user's area.
        return leave.with_overdue(leave.requests_in_area(user=request.user)).select_related(
            "cadre", "membership__team__village"
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # nobody edits a request's content

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return leave.approver_level(request.user) is not None

    # --- columns

    @admin.display(description=_("applicant"), ordering="cadre__name")
    def applicant(self, obj):
        return obj.cadre.name

    @admin.display(description=_("village"), ordering="membership__team__village__name")
    def village(self, obj):
        return obj.membership.team.village.name

    @admin.display(description=_("period"), ordering="start_date")
    def period(self, obj):
        return (
            f"{obj.start_date:%Y-%m-%d} {obj.get_start_half_display()} – "
            f"{obj.end_date:%Y-%m-%d} {obj.get_end_half_display()}"
        )

    @admin.display(description=_("kind"), ordering="kind")
    def kind_display(self, obj):
        if obj.leave_type:
            return f"{obj.get_kind_display()} · {obj.leave_type}"
        return obj.get_kind_display()

    @admin.display(description=_("working days"), ordering="working_days")
    def days(self, obj):
        return obj.working_days.normalize()

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj):
        return obj.get_status_display()

    @admin.display(description=_("return overdue"), boolean=True, ordering="is_overdue")
    def overdue(self, obj):
        return bool(getattr(obj, "is_overdue", False))

    @admin.display(description=_("decisions"))
    def decision_history(self, obj):
        rows = obj.decisions.select_related("approver").order_by("pk")
        return (
            format_html_join(
                "",
                "<div>{}：{} · {} · {}{}</div>",
                (
                    (
                        d.get_level_display(),
                        d.get_decision_display(),
                        d.approver,
                        f"{timezone.localtime(d.decided_at):%Y-%m-%d %H:%M}",
                        f"（{d.reason}）" if d.reason else "",
                    )
                    for d in rows
                ),
            )
            or "—"
        )

    @admin.display(description=_("attachment"))
    def attachment_link(self, obj):
        if not obj.attachment:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("leave_attachment", args=[obj.pk]), gettext("Open")
        )

    # --- one at a time: buttons on the change page

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="{}_{}_approve".format(*info),
            ),
            path(
                "<path:object_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="{}_{}_reject".format(*info),
            ),
            *super().get_urls(),
        ]

    def _can_decide(self, request, obj) -> bool:
        return leave.waiting_for(user=request.user).filter(pk=obj.pk).exists()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        extra_context["can_decide"] = obj is not None and self._can_decide(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def _changelist_url(self, request) -> str:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return add_preserved_filters(
            {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}, url
        )

    def _decided_object(self, request, object_id):
        if not self.has_approve_permission(request):
            raise PermissionDenied
        return self.get_object(request, unquote(object_id))

    def approve_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self._decided_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        self._decide_one(request, obj, Decision.APPROVE, "")
        return HttpResponseRedirect(self._changelist_url(request))

    def reject_view(self, request, object_id):
        obj = self._decided_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            form = RejectForm(request.POST)
            if form.is_valid():
                self._decide_one(request, obj, Decision.REJECT, form.cleaned_data["reason"])
                return HttpResponseRedirect(self._changelist_url(request))
        else:
            form = RejectForm()
        return self._reject_page(request, [obj], form, single=True)

    def _decide_one(self, request, obj, decision, reason):
        try:
            leave.leave_decide(
                actor=request.user,
                request=obj,
                decision=decision,
                reason=reason,
                http_request=request,
            )
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request,
                gettext("%(request)s: %(why)s")
                % {"request": obj, "why": leave.refusal_message(exc)},
                messages.ERROR,
            )
        else:
            done = (
                gettext("Approved: %(request)s.")
                if decision == Decision.APPROVE
                else gettext("Rejected: %(request)s.")
            )
            self.message_user(request, done % {"request": obj}, messages.SUCCESS)

    # --- in bulk: admin actions

    def _decide_many(self, request, queryset, decision, reason):
        done, refused = leave.decide_many(
            actor=request.user,
            requests=list(queryset),
            decision=decision,
            reason=reason,
            http_request=request,
        )
        if decision == Decision.APPROVE:
            summary = ngettext("%(n)d request approved.", "%(n)d requests approved.", done) % {
                "n": done
            }
        else:
            summary = ngettext("%(n)d request rejected.", "%(n)d requests rejected.", done) % {
                "n": done
            }
        self.message_user(request, summary, messages.SUCCESS if done else messages.INFO)
        if refused:
            reasons = "；".join(f"{obj}：{why}" for obj, why in refused)
            self.message_user(
                request,
                ngettext(
                    "%(n)d request refused: %(reasons)s",
                    "%(n)d requests refused: %(reasons)s",
                    len(refused),
                )
                % {"n": len(refused), "reasons": reasons},
                messages.WARNING,
            )

    @admin.action(description=_("Approve the selected requests"), permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._decide_many(request, queryset, Decision.APPROVE, "")

    @admin.action(description=_("Reject the selected requests"), permissions=["approve"])
    def reject_selected(self, request, queryset):
        form = RejectForm(request.POST if request.POST.get("post") == "yes" else None)
        if form.is_bound and form.is_valid():
            self._decide_many(request, queryset, Decision.REJECT, form.cleaned_data["reason"])
            return None  # back to the list, with the summary
        return self._reject_page(request, list(queryset), form, single=False)

    def _reject_page(self, request, objects, form, *, single: bool):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reject leave requests"),
            "opts": self.opts,
            "objects": objects,
            "form": form,
            "single": single,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "preserved_filters": self.get_preserved_filters(request),
            "changelist_url": self._changelist_url(request),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/attendance/leaverequest/reject.html", context)
