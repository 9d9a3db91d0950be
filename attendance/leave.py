"""Leave (请假) and official business away (因公外出): requests, the three-level
approval, withdrawal, the return report (销假) and the overdue-return flag.

Services are keyword-only and run in one transaction with their audit row. A
refused action (no permission, outside the area, wrong state) is written to the
audit log as a failure in its own transaction after the refused one rolled back,
and the exception is raised again for the caller.

Races are settled by the database: a decision locks its request
(``select_for_update``) and re-checks the status inside the transaction, and
``LeaveDecision`` is unique per request and level; a new request locks its
cadre's row so two overlapping requests cannot both pass the overlap check.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Case,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.photos import PHOTO_CONTENT_TYPES, image_kind
from core.scoping import Scope, user_scope
from teams.models import Cadre, Membership

from .calendar import calendar_ensure_range, settings_for
from .choices import (
    PENDING_STATUSES,
    ApprovalLevel,
    Decision,
    Half,
    LeaveKind,
    LeaveStatus,
    LeaveType,
)
from .models import AttendanceSettings, LeaveDecision, LeaveRequest, WorkDay

# --- the approval levels ---------------------------------------------------------

LEVEL_PERMISSION = {
    ApprovalLevel.VILLAGE: "attendance.approve_village",
    ApprovalLevel.TOWNSHIP: "attendance.approve_township",
    ApprovalLevel.COUNTY: "attendance.approve_county",
}
# The scope an approver of each level holds (the team leader's scope is a village).
LEVEL_SCOPE = {
    ApprovalLevel.VILLAGE: Scope.VILLAGE,
    ApprovalLevel.TOWNSHIP: Scope.TOWNSHIP,
    ApprovalLevel.COUNTY: Scope.COUNTY,
}
WAITING_STATUS = {
    ApprovalLevel.VILLAGE: LeaveStatus.PENDING_VILLAGE,
    ApprovalLevel.TOWNSHIP: LeaveStatus.PENDING_TOWNSHIP,
    ApprovalLevel.COUNTY: LeaveStatus.PENDING_COUNTY,
}
LEVEL_OF_STATUS = {status: level for level, status in WAITING_STATUS.items()}
FINAL_STATUSES = (LeaveStatus.APPROVED, LeaveStatus.REJECTED, LeaveStatus.WITHDRAWN)

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_SPAN_DAYS = 366
MAX_REASON_CHARS = 1000
MAX_DECISION_REASON_CHARS = 300

# Audit detail "event" of each action (core's AuditAction has create/change only).
EVENT_CREATE = "leave_request"
EVENT_DECIDE = "leave_decision"
EVENT_WITHDRAW = "leave_withdraw"
EVENT_RETURN = "leave_return"


def approver_level(user) -> str | None:
    """The approval level a user acts at (a user has one role, so one level)."""
    if user is None or not user.is_authenticated:
        return None
    for level in (ApprovalLevel.COUNTY, ApprovalLevel.TOWNSHIP, ApprovalLevel.VILLAGE):
        if user.has_perm(LEVEL_PERMISSION[level]):
            return level
    return None


def _level_area_id(village, level: str) -> int | None:
    if level == ApprovalLevel.VILLAGE:
        return village.pk
    if level == ApprovalLevel.TOWNSHIP:
        return village.township_id
    return village.county_id


# --- the working calendar --------------------------------------------------------


def _working_dates(county_id: int, start: datetime.date, end: datetime.date) -> set[datetime.date]:
    """Working days of the county between start and end (inclusive), by the
    county's calendar (seeded from the official calendar on first use; county
    staff's corrections kept). A day without a row falls back to Monday to Friday."""
    calendar_ensure_range(county=county_id, start=start, end=end)
    rows = dict(
        WorkDay.objects.filter(county_id=county_id, date__range=(start, end)).values_list(
            "date", "is_working"
        )
    )
    days = set()
    day = start
    while day <= end:
        if rows.get(day, day.weekday() < 5):
            days.add(day)
        day += datetime.timedelta(days=1)
    return days


def count_working_days(
    county_id: int,
    start_date: datetime.date,
    start_half: str,
    end_date: datetime.date,
    end_half: str,
) -> Decimal:
    """Working-day halves covered by the request, divided by 2."""
    halves = 0
    for day in _working_dates(county_id, start_date, end_date):
        halves += 2
        if day == start_date and start_half == Half.AFTERNOON:
            halves -= 1
        if day == end_date and end_half == Half.MORNING:
            halves -= 1
    return Decimal(halves) / 2


def _half_index(day: datetime.date, half: str) -> int:
    return day.toordinal() * 2 + (1 if half == Half.AFTERNOON else 0)


# --- attachments ------------------------------------------------------------------

ATTACHMENT_CONTENT_TYPES = {"pdf": "application/pdf", **PHOTO_CONTENT_TYPES}


def attachment_kind(upload) -> str | None:
    """The file's kind by its bytes (pdf, jpg, png or webp), or None. The name
    and the declared content type are not trusted."""
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    return "pdf" if head == b"%PDF-" else image_kind(upload)


def validate_attachment(upload: UploadedFile) -> str:
    """The attachment's kind; a ValidationError when it is too large or not a
    PDF or image by its content."""
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ValidationError({"attachment": _("The attachment is larger than 5 MB.")})
    kind = attachment_kind(upload)
    if kind is None:
        raise ValidationError(
            {"attachment": _("The attachment must be a PDF or an image (JPEG, PNG or WebP).")}
        )
    return kind


# --- refusals in the audit log ------------------------------------------------------


def refusal_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    return str(exc) or str(_("Permission denied."))


def _record_refusal(*, actor, leave: LeaveRequest | None, event: str, exc, http_request, **extra):
    """A refused action as a failure row, in its own transaction (the refused one
    rolled back). The request is read again: the caller's instance may be stale."""
    stored = None
    if leave is not None and leave.pk is not None:
        stored = LeaveRequest.objects.select_related("cadre").filter(pk=leave.pk).first()
        extra["request"] = leave.pk
    with transaction.atomic():
        audit.record(
            action=(
                AuditAction.PERMISSION_DENIED
                if isinstance(exc, PermissionDenied)
                else AuditAction.OBJECT_CHANGE
            ),
            actor=actor,
            request=http_request,
            obj=stored,
            success=False,
            detail={"event": event, "refused": refusal_message(exc), **extra},
        )


# --- create -------------------------------------------------------------------------


def _covering_membership(cadre: Cadre, start: datetime.date, end: datetime.date) -> Membership:
    membership = (
        Membership.objects.filter(cadre=cadre, start_date__lte=start)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=end))
        .select_related("team__village")
        .order_by("-start_date")
        .first()
    )
    if membership is None:
        raise ValidationError(
            _("The request must fall within your time in a team (your station's dates).")
        )
    return membership


def _check_overlap(cadre: Cadre, start: int, end: int, start_date, end_date) -> None:
    candidates = LeaveRequest.objects.filter(
        cadre=cadre,
        status__in=(*PENDING_STATUSES, LeaveStatus.APPROVED),
        start_date__lte=end_date,
        end_date__gte=start_date,
    ).order_by("start_date")
    for other in candidates:
        other_start = _half_index(other.start_date, other.start_half)
        other_end = _half_index(other.end_date, other.end_half)
        if other_start <= end and start <= other_end:
            raise ValidationError(
                _(
                    "This overlaps your request from %(start)s %(start_half)s to "
                    "%(end)s %(end_half)s (%(status)s)."
                )
                % {
                    "start": other.start_date.isoformat(),
                    "start_half": other.get_start_half_display(),
                    "end": other.end_date.isoformat(),
                    "end_half": other.get_end_half_display(),
                    "status": other.get_status_display(),
                }
            )


def _validate_input(*, kind, leave_type, start_date, start_half, end_date, end_half, reason):
    errors: dict[str, list] = {}
    if kind not in LeaveKind.values:
        errors["kind"] = [_("Choose leave or official business.")]
    elif kind == LeaveKind.LEAVE and leave_type not in LeaveType.values:
        errors["leave_type"] = [_("Choose a leave type.")]
    elif kind == LeaveKind.BUSINESS and leave_type:
        errors["leave_type"] = [_("Official business has no leave type.")]
    if start_half not in Half.values:
        errors["start_half"] = [_("Choose morning or afternoon.")]
    if end_half not in Half.values:
        errors["end_half"] = [_("Choose morning or afternoon.")]
    if not isinstance(start_date, datetime.date) or not isinstance(end_date, datetime.date):
        errors["start_date"] = [_("Give the start and end dates.")]
    elif not errors.get("start_half") and not errors.get("end_half"):
        if _half_index(end_date, end_half) < _half_index(start_date, start_half):
            errors["end_date"] = [_("The end cannot be before the start.")]
        elif (end_date - start_date).days >= MAX_SPAN_DAYS:
            errors["end_date"] = [_("A request can cover at most a year.")]
    if not reason:
        errors["reason"] = [_("Give a reason.")]
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = [_("The reason can be at most 1000 characters.")]
    if errors:
        raise ValidationError(errors)


def leave_request_create(
    *,
    user,
    kind: str,
    leave_type: str,
    start_date: datetime.date,
    start_half: str,
    end_date: datetime.date,
    end_half: str,
    reason: str,
    attachment: UploadedFile | None = None,
    http_request=None,
) -> LeaveRequest:
    """A cadre asks for leave or records official business away.

    The request falls within one membership of the cadre; its working days are
    the working-day halves it covers, divided by 2, by the county's calendar. It
    is final at the township when it is official business or at most the
    county's ``township_final_days`` working days, else at the county."""
    try:
        return _create(
            user=user,
            kind=kind,
            leave_type=leave_type or "",
            start_date=start_date,
            start_half=start_half,
            end_date=end_date,
            end_half=end_half,
            reason=(reason or "").strip(),
            attachment=attachment,
            http_request=http_request,
        )
    except (PermissionDenied, ValidationError) as exc:
        _record_refusal(
            actor=user, leave=None, event=EVENT_CREATE, exc=exc, http_request=http_request
        )
        raise


@transaction.atomic
def _create(
    *,
    user,
    kind,
    leave_type,
    start_date,
    start_half,
    end_date,
    end_half,
    reason,
    attachment,
    http_request,
) -> LeaveRequest:
    if not user.has_perm("attendance.add_leaverequest"):
        raise PermissionDenied(_("You cannot ask for leave."))
    _validate_input(
        kind=kind,
        leave_type=leave_type,
        start_date=start_date,
        start_half=start_half,
        end_date=end_date,
        end_half=end_half,
        reason=reason,
    )
    attachment_ext = validate_attachment(attachment) if attachment else None
    # Lock the cadre: requests of one cadre are created one at a time, so two
    # overlapping ones cannot both pass the overlap check.
    cadre = Cadre.objects.select_for_update().filter(user_id=user.pk).first()
    if cadre is None:
        raise ValidationError(_("Your account is not linked to a cadre."))
    membership = _covering_membership(cadre, start_date, end_date)
    village = membership.team.village
    start = _half_index(start_date, start_half)
    end = _half_index(end_date, end_half)
    _check_overlap(cadre, start, end, start_date, end_date)
    days = count_working_days(village.county_id, start_date, start_half, end_date, end_half)
    if days <= 0:
        raise ValidationError(_("There is no working day in this period."))
    settings = settings_for(county=village.county_id)
    final_level = (
        ApprovalLevel.TOWNSHIP
        if kind == LeaveKind.BUSINESS or days <= settings.township_final_days
        else ApprovalLevel.COUNTY
    )
    leave = LeaveRequest(
        cadre=cadre,
        membership=membership,
        kind=kind,
        leave_type=leave_type,
        start_date=start_date,
        start_half=start_half,
        end_date=end_date,
        end_half=end_half,
        working_days=days,
        reason=reason,
        status=LeaveStatus.PENDING_VILLAGE,
        final_level=final_level,
    )
    if attachment is not None:
        # The stored name is random, its suffix from the content, never the client's.
        leave.attachment.save(f"{uuid.uuid4().hex}.{attachment_ext}", attachment, save=False)
    try:
        leave.full_clean()
        leave.save()
    except Exception:
        if leave.attachment:
            leave.attachment.delete(save=False)
        raise
    audit.record(
        action=AuditAction.OBJECT_CREATE,
        actor=user,
        request=http_request,
        obj=leave,
        detail={
            "event": EVENT_CREATE,
            "kind": kind,
            "working_days": str(days),
            "final_level": final_level,
        },
    )
    return leave


# --- decide -------------------------------------------------------------------------


def leave_decide(
    *, actor, request: LeaveRequest, decision: str, reason: str = "", http_request=None
) -> LeaveRequest:
    """Approve or reject a request at the level it is waiting at.

    The actor holds that level's permission, has the applicant's village in
    their area (team leader: the village; township office: its township; county
    office: its county) and is not the applicant. A rejection needs a reason and
    ends the request; an approval moves it to the next level, or makes it final
    at its final level. One decision per level (a unique row), never twice."""
    reason = (reason or "").strip()
    try:
        return _decide(
            actor=actor, pk=request.pk, decision=decision, reason=reason, http_request=http_request
        )
    except IntegrityError:
        exc = ValidationError(_("This request has already been decided at this level."))
        _record_refusal(
            actor=actor,
            leave=request,
            event=EVENT_DECIDE,
            exc=exc,
            http_request=http_request,
            decision=decision,
        )
        raise exc from None
    except (PermissionDenied, ValidationError, LeaveRequest.DoesNotExist) as exc:
        if isinstance(exc, LeaveRequest.DoesNotExist):
            exc = ValidationError(_("This request does not exist."))
        _record_refusal(
            actor=actor,
            leave=request,
            event=EVENT_DECIDE,
            exc=exc,
            http_request=http_request,
            decision=decision,
        )
        raise exc from None


@transaction.atomic
def _decide(*, actor, pk, decision, reason, http_request) -> LeaveRequest:
    if decision not in Decision.values:
        raise ValidationError(_("Choose approve or reject."))
    leave = (
        LeaveRequest.objects.select_for_update(of=("self",))
        .select_related("cadre", "membership__team__village")
        .get(pk=pk)
    )
    level = LEVEL_OF_STATUS.get(leave.status)
    if level is None:
        raise ValidationError(
            _("This request is no longer waiting for approval (%(status)s).")
            % {"status": leave.get_status_display()}
        )
    if not actor.has_perm(LEVEL_PERMISSION[level]):
        raise PermissionDenied(
            _("This request is waiting for the %(level)s level, not for you.")
            % {"level": ApprovalLevel(level).label}
        )
    if leave.cadre.user_id is not None and leave.cadre.user_id == actor.pk:
        raise PermissionDenied(_("You cannot decide on your own request."))
    scope = user_scope(actor)
    village = leave.membership.team.village
    if scope.kind != LEVEL_SCOPE[level] or scope.pk != _level_area_id(village, level):
        raise PermissionDenied(_("The applicant is outside your area."))
    if decision == Decision.REJECT and not reason:
        raise ValidationError({"reason": [_("Give a reason for rejecting.")]})
    if len(reason) > MAX_DECISION_REASON_CHARS:
        raise ValidationError({"reason": [_("The reason can be at most 300 characters.")]})

    LeaveDecision.objects.create(
        request=leave, level=level, decision=decision, approver=actor, reason=reason
    )
    before = leave.status
    if decision == Decision.REJECT:
        leave.status = LeaveStatus.REJECTED
    elif level == leave.final_level or level == ApprovalLevel.COUNTY:
        leave.status = LeaveStatus.APPROVED
    elif level == ApprovalLevel.VILLAGE:
        leave.status = LeaveStatus.PENDING_TOWNSHIP
    else:
        leave.status = LeaveStatus.PENDING_COUNTY
    if leave.status in FINAL_STATUSES:
        leave.decided_at = timezone.now()
    leave.save(update_fields=["status", "decided_at"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=http_request,
        obj=leave,
        detail={
            "event": EVENT_DECIDE,
            "decision": decision,
            "level": level,
            "from": before,
            "to": leave.status,
            "reason": reason,
        },
    )
    return leave


# --- withdraw and return ----------------------------------------------------------------


def _applicant_action(*, user, request: LeaveRequest, event: str, action, http_request, **kw):
    try:
        return action(user=user, pk=request.pk, http_request=http_request, **kw)
    except (PermissionDenied, ValidationError, LeaveRequest.DoesNotExist) as exc:
        if isinstance(exc, LeaveRequest.DoesNotExist):
            exc = ValidationError(_("This request does not exist."))
        _record_refusal(actor=user, leave=request, event=event, exc=exc, http_request=http_request)
        raise exc from None


def _lock_own(*, user, pk) -> LeaveRequest:
    leave = LeaveRequest.objects.select_for_update(of=("self",)).select_related("cadre").get(pk=pk)
    if leave.cadre.user_id is None or leave.cadre.user_id != user.pk:
        raise PermissionDenied(_("Only the applicant can do this."))
    return leave


def leave_withdraw(*, user, request: LeaveRequest, http_request=None) -> LeaveRequest:
    """The applicant withdraws a request that is not final yet."""
    return _applicant_action(
        user=user,
        request=request,
        event=EVENT_WITHDRAW,
        action=_withdraw,
        http_request=http_request,
    )


@transaction.atomic
def _withdraw(*, user, pk, http_request) -> LeaveRequest:
    leave = _lock_own(user=user, pk=pk)
    if leave.status not in PENDING_STATUSES:
        raise ValidationError(
            _("Only a request that is not final can be withdrawn (this one: %(status)s).")
            % {"status": leave.get_status_display()}
        )
    before = leave.status
    leave.status = LeaveStatus.WITHDRAWN
    leave.save(update_fields=["status"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=user,
        request=http_request,
        obj=leave,
        detail={"event": EVENT_WITHDRAW, "from": before, "to": leave.status},
    )
    return leave


def leave_report_return(
    *, user, request: LeaveRequest, returned_on: datetime.date, http_request=None
) -> LeaveRequest:
    """销假: the applicant reports the return from approved leave."""
    return _applicant_action(
        user=user,
        request=request,
        event=EVENT_RETURN,
        action=_report_return,
        http_request=http_request,
        returned_on=returned_on,
    )


@transaction.atomic
def _report_return(*, user, pk, returned_on, http_request) -> LeaveRequest:
    leave = _lock_own(user=user, pk=pk)
    if leave.status != LeaveStatus.APPROVED:
        raise ValidationError(_("Only approved leave can be reported back."))
    if leave.returned_on is not None:
        raise ValidationError(_("The return has already been reported."))
    if not isinstance(returned_on, datetime.date):
        raise ValidationError({"returned_on": [_("Give the day of the return.")]})
    if returned_on > timezone.localdate():
        raise ValidationError({"returned_on": [_("The return cannot be in the future.")]})
    if returned_on < leave.start_date:
        raise ValidationError({"returned_on": [_("The return cannot be before the leave starts.")]})
    leave.returned_on = returned_on
    leave.save(update_fields=["returned_on"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=user,
        request=http_request,
        obj=leave,
        detail={"event": EVENT_RETURN, "returned_on": returned_on.isoformat()},
    )
    return leave


# --- reads ------------------------------------------------------------------------------


GRACE = "return_grace"


def with_grace(queryset: QuerySet) -> QuerySet:
    """Each row with its county's ``return_grace_days`` (the default without settings)."""
    default = AttendanceSettings._meta.get_field("return_grace_days").default
    return queryset.annotate(
        **{
            GRACE: Coalesce(
                Subquery(
                    AttendanceSettings.objects.filter(
                        county_id=OuterRef("cadre__county_id")
                    ).values("return_grace_days")[:1]
                ),
                Value(default),
            )
        }
    )


def overdue_condition(today: datetime.date) -> Q:
    """Approved leave (not official business) whose end + the county's
    ``return_grace_days`` is before today and whose return is not reported.
    Needs :func:`with_grace` on the queryset.

    One small query reads the grace values in use (a handful of integers), so
    the condition stays plain date comparisons on every database."""
    default = AttendanceSettings._meta.get_field("return_grace_days").default
    graces = {default} | set(
        AttendanceSettings.objects.order_by().values_list("return_grace_days", flat=True).distinct()
    )
    per_county = Q()
    for grace in sorted(graces):
        per_county |= Q(**{GRACE: grace}, end_date__lt=today - datetime.timedelta(days=grace))
    return (
        Q(status=LeaveStatus.APPROVED, kind=LeaveKind.LEAVE, returned_on__isnull=True) & per_county
    )


def with_overdue(queryset: QuerySet, today: datetime.date | None = None) -> QuerySet:
    """The queryset with ``is_overdue`` (the overdue-return flag) on each row."""
    today = today or timezone.localdate()
    return with_grace(queryset).annotate(
        is_overdue=Case(
            When(overdue_condition(today), then=True), default=False, output_field=BooleanField()
        )
    )


def overdue_returns(*, county, today: datetime.date | None = None, user=None) -> QuerySet:
    """The county's approved leave whose return is overdue (scoped when a user is given)."""
    today = today or timezone.localdate()
    queryset = LeaveRequest.objects.all() if user is None else LeaveRequest.objects.visible_to(user)
    county_id = getattr(county, "pk", county)
    return (
        with_grace(queryset.filter(membership__team__village__county_id=county_id))
        .filter(overdue_condition(today))
        .select_related("cadre", "membership__team__village")
    )


def decisions_prefetch() -> Prefetch:
    return Prefetch(
        "decisions", queryset=LeaveDecision.objects.select_related("approver").order_by("pk")
    )


def my_requests(*, user) -> QuerySet:
    """The user's own requests (as the applicant): the SELF part of any scope."""
    if user is None or not user.is_authenticated:
        return LeaveRequest.objects.none()
    return LeaveRequest.objects.filter(cadre__user_id=user.pk)


def visible_requests(*, user) -> QuerySet:
    """The user's own requests and, for approvers and offices, those made on a
    membership in their area (not what a cadre they once had asks elsewhere)."""
    return my_requests(user=user) | requests_in_area(user=user)


def access_request(*, user, pk, queryset: QuerySet | None = None) -> LeaveRequest:
    """One request of ``queryset`` (default: the user's visible requests), or
    404, the same for "not yours" as for "does not exist"."""
    rows = visible_requests(user=user) if queryset is None else queryset
    try:
        return rows.get(pk=pk)
    except (LeaveRequest.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def requests_in_area(*, user) -> QuerySet:
    """Requests an approver may look at: made on a membership in their area
    (a cadre's earlier villages do not count; the model's scope says so)."""
    return LeaveRequest.objects.visible_to(user)


def waiting_for(*, user) -> QuerySet:
    """The requests waiting at the user's level inside the user's area (the
    user's own requests excluded: nobody decides their own)."""
    level = approver_level(user)
    scope = user_scope(user)
    if level is None or scope.kind != LEVEL_SCOPE[level]:
        return LeaveRequest.objects.none()
    return (
        requests_in_area(user=user)
        .filter(status=WAITING_STATUS[level])
        .exclude(cadre__user_id=user.pk)  # never one's own request
    )


def decide_many(
    *, actor, requests: Iterable[LeaveRequest], decision: str, reason: str = "", http_request=None
) -> tuple[int, list[tuple[LeaveRequest, str]]]:
    """Decide each request in its own transaction; (succeeded, [(request, why refused)])."""
    done = 0
    refused: list[tuple[LeaveRequest, str]] = []
    for leave in requests:
        try:
            leave_decide(
                actor=actor,
                request=leave,
                decision=decision,
                reason=reason,
                http_request=http_request,
            )
        except (PermissionDenied, ValidationError) as exc:
            refused.append((leave, refusal_message(exc)))
        else:
            done += 1
    return done, refused
