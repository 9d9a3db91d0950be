"""Help logs (帮扶日志): one a day per cadre, text and photos.

Which day a cadre may write for: **today or yesterday** (local dates). Cadres
often write the log in the evening, sometimes after midnight or the next
morning when the village had no signal; one day of grace covers that. More
would let a cadre fill in a week of logs afterwards to clear the monthly
audit's ``days_without_log`` (which counts working days with a counting
sign-in but no log), and the audit of a month runs on the 1st: a log for the
last day of a month written on the 1st after the audit shows up when the
audit is re-run. Nobody writes for the future.

Saving the same day again updates the text and adds photos (at most 9 per log);
the database keeps one log per cadre and day (``attendance_helplog_one_a_day``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.models import Area
from core.scoping import Scope, user_scope
from teams.models import Membership

from . import signins
from .models import HelpLog, HelpLogPhoto

MAX_PHOTOS = 9
MAX_CONTENT = 5000
GRACE_DAYS = 1  # today or yesterday


def writable_days(now: datetime.datetime | None = None) -> list[datetime.date]:
    """The days a cadre may write a log for, today first."""
    today = timezone.localtime(now or signins.server_now()).date()
    return [today - datetime.timedelta(days=n) for n in range(GRACE_DAYS + 1)]


def helplog_save(
    *,
    user,
    date: datetime.date,
    content: str,
    photos: Iterable = (),
    now: datetime.datetime | None = None,
    request=None,
) -> tuple[HelpLog, bool]:
    """Create or update the user's help log of a day; ``(log, created)``."""
    photos = list(photos)
    try:
        cadre = signins.cadre_of(user, perm="attendance.add_helplog")
        errors = {}
        if date not in writable_days(now):
            errors["date"] = _("A help log can be written only for today or yesterday.")
        else:
            signins.membership_or_error(cadre, date)
        content = (content or "").strip()
        if not content:
            errors["content"] = _("Write what you did today.")
        elif len(content) > MAX_CONTENT:
            errors["content"] = _("A help log can be at most %(n)d characters.") % {
                "n": MAX_CONTENT
            }
        if len(photos) > MAX_PHOTOS:
            errors["photos"] = _("At most %(n)d photos per help log.") % {"n": MAX_PHOTOS}
        if errors:
            raise ValidationError(errors)
        checked = []
        photo_errors = []
        for upload in photos:
            try:
                checked.append(signins.check_photo(upload))
            except ValidationError as error:
                photo_errors.extend(error.messages)
        if photo_errors:
            raise ValidationError({"photos": photo_errors})
        return _save(
            user=user, cadre=cadre, date=date, content=content, checked=checked, request=request
        )
    except ValidationError as error:
        signins.refused(user=user, request=request, what="helplog", error=error)
        raise


@transaction.atomic
def _save(*, user, cadre, date, content, checked, request) -> tuple[HelpLog, bool]:
    created = False
    log = HelpLog.objects.select_for_update().filter(cadre=cadre, date=date).first()
    if log is None:
        try:
            with transaction.atomic():
                log = HelpLog(cadre=cadre, date=date, content=content)
                # one log a day is the database's to decide (a check here
                # would race with another device's save)
                log.full_clean(exclude=["cadre"], validate_unique=False, validate_constraints=False)
                log.save(force_insert=True)
                created = True
        except IntegrityError:  # written at the same moment from another device
            log = HelpLog.objects.select_for_update().get(cadre=cadre, date=date)
    if not created:
        log.content = content
        log.full_clean(exclude=["cadre"], validate_unique=False, validate_constraints=False)
        log.save(update_fields=["content", "updated_at"])
    # Counted under the row lock, so two saves at once cannot pass nine.
    existing = log.photos.count()
    if existing + len(checked) > MAX_PHOTOS:
        raise ValidationError(
            {
                "photos": _("At most %(n)d photos per help log; this one already has %(have)d.")
                % {"n": MAX_PHOTOS, "have": existing}
            }
        )
    stored: list[HelpLogPhoto] = []
    try:
        for photo in checked:
            row = HelpLogPhoto(log=log)
            row.image.save(f"{row.uuid}.{photo.kind}", ContentFile(photo.data), save=False)
            stored.append(row)
            row.save(force_insert=True)
        audit.record(
            action=AuditAction.OBJECT_CREATE if created else AuditAction.OBJECT_CHANGE,
            actor=user,
            request=request,
            obj=log,
            detail={
                "what": "helplog",
                "date": date.isoformat(),
                "photos_added": len(stored),
                "characters": len(content),
            },
        )
    except BaseException:
        for row in stored:  # the rows roll back; the files must go too
            row.image.delete(save=False)
        raise
    return log, created


# --- selectors -----------------------------------------------------------------------


def visible_helplogs(user, queryset: QuerySet[HelpLog] | None = None) -> QuerySet[HelpLog]:
    """``HelpLog.visible_to(user)``, and for a township office or a team leader
    only the logs of days the cadre was stationed in their area.

    The model's scope follows every membership the cadre ever had, so a
    township would otherwise also read what a cadre it once had writes in
    another township later (as ``signins.visible_signins`` does for sign-ins)."""
    rows = (queryset if queryset is not None else HelpLog.objects.all()).visible_to(user)
    if user_scope(user).kind in (Scope.TOWNSHIP, Scope.VILLAGE):
        stationed = Membership.objects.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("date")),
            cadre_id=OuterRef("cadre_id"),
            team__village__in=Area.objects.visible_to(user).values("pk"),
            start_date__lte=OuterRef("date"),
        )
        rows = rows.filter(Exists(stationed))
    return rows


def helplog_list(
    *,
    user,
    day: datetime.date | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
) -> QuerySet[HelpLog]:
    """Help logs the user may see (a cadre: their own), newest first, with photos."""
    rows = visible_helplogs(user).select_related("cadre")
    if day is not None:
        rows = rows.filter(date=day)
    if since is not None:
        rows = rows.filter(date__gte=since)
    if until is not None:
        rows = rows.filter(date__lte=until)
    return rows.prefetch_related(
        Prefetch("photos", queryset=HelpLogPhoto.objects.order_by("created_at", "pk"))
    ).order_by("-date", "-pk")


def own_helplogs(*, user, days: list[datetime.date]) -> dict[datetime.date, HelpLog]:
    """The user's own logs of the given days (for the page's form)."""
    rows = (
        HelpLog.objects.filter(cadre__user=user, date__in=days)
        .prefetch_related(
            Prefetch("photos", queryset=HelpLogPhoto.objects.order_by("created_at", "pk"))
        )
        .order_by("-date")
    )
    return {log.date: log for log in rows}


def helplog_photo_access(*, user, photo_uuid) -> HelpLogPhoto:
    """A help log photo within the user's scope, else the same 404 as a missing one."""
    visible = visible_helplogs(user).values("pk")
    photo = HelpLogPhoto.objects.filter(uuid=photo_uuid, log__in=visible).first()
    if photo is None:
        raise Http404
    return photo
