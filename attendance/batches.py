"""The monthly audit's workflow: the township office reviews and submits its
township's month, the county office files it (备案); a filed month is locked
until the county office reopens it.

Each step locks the batch row (``select_for_update``), checks the actor's
permission, scope and the batch's state again under the lock, changes it and
writes the audit row, in one transaction: two offices clicking at once cannot
file a month twice or submit a filed one.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.scoping import Scope, user_scope

from .choices import BatchStatus
from .models import AttendanceBatch

REASON_MAX = 300


def _locked(batch: AttendanceBatch | int) -> AttendanceBatch:
    pk = batch if isinstance(batch, int) else batch.pk
    return (
        AttendanceBatch.objects.select_for_update(of=("self",))
        .select_related("township")
        .get(pk=pk)
    )


def _require(actor, batch: AttendanceBatch, perm: str, scope_kind: str) -> None:
    scope = user_scope(actor)
    anchor = batch.township_id if scope_kind == Scope.TOWNSHIP else batch.township.county_id
    if not actor.has_perm(perm) or scope.kind != scope_kind or scope.pk != anchor:
        raise PermissionDenied


def _record(actor, batch: AttendanceBatch, step: str, before: str, request, **extra) -> None:
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=batch,
        detail={
            "what": "monthly_audit",
            "step": step,
            "month": batch.month.strftime("%Y-%m"),
            "from": before,
            "to": batch.status,
            **extra,
        },
    )


@transaction.atomic
def batch_submit(*, actor, batch: AttendanceBatch | int, request=None) -> AttendanceBatch:
    """The township office submits its township's computed month to the county."""
    batch = _locked(batch)
    _require(actor, batch, "attendance.submit_audit", Scope.TOWNSHIP)
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError(
            _("Only a computed month that was not submitted yet can be submitted."),
            code="state",
        )
    before = batch.status
    batch.status = BatchStatus.SUBMITTED
    batch.submitted_by = actor
    batch.submitted_at = timezone.now()
    batch.save(update_fields=["status", "submitted_by", "submitted_at"])
    _record(actor, batch, "submit", before, request)
    return batch


@transaction.atomic
def batch_file(*, actor, batch: AttendanceBatch | int, request=None) -> AttendanceBatch:
    """The county office files (备案) a submitted month; it is locked from then on."""
    batch = _locked(batch)
    _require(actor, batch, "attendance.file_audit", Scope.COUNTY)
    if batch.status != BatchStatus.SUBMITTED:
        raise ValidationError(
            _("Only a month the township has submitted can be filed."), code="state"
        )
    before = batch.status
    batch.status = BatchStatus.FILED
    batch.filed_by = actor
    batch.filed_at = timezone.now()
    batch.save(update_fields=["status", "filed_by", "filed_at"])
    _record(actor, batch, "file", before, request)
    return batch


@transaction.atomic
def batch_reopen(
    *, actor, batch: AttendanceBatch | int, reason: str, request=None
) -> AttendanceBatch:
    """The county office reopens a filed month (with a reason, logged); it is a
    draft again, so the audit can be re-run and the township submits again."""
    batch = _locked(batch)
    _require(actor, batch, "attendance.file_audit", Scope.COUNTY)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for reopening.")}, code="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": _("Keep the reason to %(n)d characters.") % {"n": REASON_MAX}},
            code="reason",
        )
    if batch.status != BatchStatus.FILED:
        raise ValidationError(_("Only a filed month can be reopened."), code="state")
    before = batch.status
    filed_by, filed_at = batch.filed_by_id, batch.filed_at
    batch.status = BatchStatus.DRAFT
    batch.filed_by = None
    batch.filed_at = None
    batch.submitted_by = None
    batch.submitted_at = None
    batch.reopened_count += 1
    batch.save(
        update_fields=[
            "status",
            "filed_by",
            "filed_at",
            "submitted_by",
            "submitted_at",
            "reopened_count",
        ]
    )
    _record(
        actor,
        batch,
        "reopen",
        before,
        request,
        reason=reason,
        was_filed_by=filed_by,
        was_filed_at=filed_at.isoformat() if filed_at else None,
        reopened_count=batch.reopened_count,
    )
    return batch
