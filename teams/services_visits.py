"""Writes of the teams pages: recording a household visit, and the audit rows
of revealing personal numbers and of exports.

Each write checks the actor's permission and scope itself (a view is not the
only way in), runs in one transaction and writes its audit row in it, so a
failed audit write undoes the change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.photos import CheckedPhoto, check_photo

from .models import Cadre, Household, Pairing, Visit, VisitPhoto
from .selectors import visitable_households

MAX_PHOTOS = 5
# Audit action of showing full ID and phone numbers (core's AuditAction has no
# member for it yet; the column stores the code).
AUDIT_REVEAL = getattr(AuditAction, "REVEAL", "reveal")


def validate_photos(photos: Sequence[UploadedFile]) -> list[CheckedPhoto]:
    """At most 5 photos, each checked by ``core.photos.check_photo`` (an image
    by its content, at most 5 MB) and without its location metadata."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("At most %(n)d photos per visit.") % {"n": MAX_PHOTOS}})
    checked = []
    errors = []
    for photo in photos:
        try:
            checked.append(check_photo(photo))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"photos": errors})
    return checked


@transaction.atomic
def visit_create(
    *,
    actor,
    household: Household,
    date: datetime.date,
    content: str,
    photos: Iterable[UploadedFile] = (),
    request=None,
) -> Visit:
    """Record a visit to a household by its current pairing cadre.

    A cadre records visits to the households currently paired with them; a
    team leader (or an office with the permission) records them for households
    in scope, on behalf of the household's current pairing cadre."""
    if not actor.has_perm("teams.add_visit"):
        raise PermissionDenied
    if not visitable_households(user=actor).filter(pk=household.pk).exists():
        raise ValidationError({"household": _("You cannot record a visit to this household.")})
    pairing = Pairing.objects.current().filter(household=household).select_related("cadre").first()
    if pairing is None:
        raise ValidationError({"household": _("This household has no pairing cadre.")})
    errors = {}
    if date > timezone.localdate():
        errors["date"] = _("A visit cannot be in the future.")
    elif date < pairing.start_date:
        errors["date"] = _("The visit is before the pairing started.")
    content = (content or "").strip()
    if not content:
        errors["content"] = _("Say what was done.")
    if errors:
        raise ValidationError(errors)
    checked = validate_photos(list(photos))

    visit = Visit(cadre=pairing.cadre, household=household, date=date, content=content)
    visit.full_clean()
    visit.save()
    stored: list[VisitPhoto] = []
    try:
        for checked_photo in checked:
            photo = VisitPhoto(visit=visit)
            photo.image.save(
                f"photo.{checked_photo.kind}", ContentFile(checked_photo.data), save=False
            )
            stored.append(photo)
            photo.save()
        audit.record(
            action=AuditAction.OBJECT_CREATE,
            actor=actor,
            request=request,
            obj=visit,
            detail={
                "what": "visit",
                "cadre": pairing.cadre_id,
                "household": household.pk,
                "date": date.isoformat(),
                "photos": len(stored),
            },
        )
    except BaseException:
        for photo in stored:  # the rows roll back; the files must go too
            photo.image.delete(save=False)
        raise
    return visit


@transaction.atomic
def cadre_reveal(*, actor, cadre: Cadre, request=None) -> dict[str, str]:
    """The full ID and mobile numbers of a cadre, for a role with the reveal
    permission; every reveal is an audit row (which numbers, never their values)."""
    if not actor.has_perm("teams.reveal_personal"):
        raise PermissionDenied
    numbers = {"id_number": cadre.get_number("id_number"), "phone": cadre.get_number("phone")}
    audit.record(
        action=AUDIT_REVEAL,
        actor=actor,
        request=request,
        obj=cadre,
        detail={"fields": ["id_number", "phone"]},
    )
    return numbers


@transaction.atomic
def export_audit(
    *,
    actor,
    request,
    what: str,
    filters: dict,
    rows: int,
    columns: Sequence[str],
    revealed: bool,
) -> None:
    """The audit row of an export: who, which list, filters, row count, columns,
    and whether full numbers were written."""
    audit.record(
        action=AuditAction.EXPORT,
        actor=actor,
        request=request,
        detail={
            "what": what,
            "filters": filters,
            "rows": rows,
            "columns": list(columns),
            "revealed": revealed,
        },
    )
