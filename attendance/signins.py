"""Sign-ins from phones: services and selectors.

The rules (../shared/docs/attendance-rules.md, "Sign-ins"):

* The server's clock, in local time (Asia/Shanghai), decides the date and the
  half-day, from the county's windows (AttendanceSettings): morning from
  ``morning_start`` up to ``morning_end``, afternoon from ``afternoon_start``
  up to ``day_end`` (each end not included); anything else (also a gap the
  county leaves between the two windows) is "outside hours" (half ""), kept,
  counting for neither half. The device's time (``taken_at``) is kept and never trusted.
* In area: the great-circle distance to the village's point is at most the
  village's radius (the county's default when the village has none). A sign-in
  out of area is kept and counts only once the township office accepts it.
* Only the first valid sign-in of each half counts, and the DATABASE decides
  which one: the row goes in with ``counts=True`` inside a savepoint, and the
  partial unique constraint ``attendance_signin_first_valid_per_half`` turns
  away every later one, which is then stored as a repeat (``counts=False``).
* One row per ``client_id`` (a UUID the phone makes once per attempt, so a
  retry is safe): the unique constraint settles simultaneous retries too.

Location is sensitive personal information (行踪轨迹): coordinates are never
written to the audit log (which is append-only), photos lose their GPS
metadata before they are stored, and :func:`signins_forget_locations` nulls
raw coordinates past the county's ``location_retention_days``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AuditAction
from core.models import Area
from core.photos import CheckedPhoto, check_photo
from core.scoping import access
from teams.models import Cadre, Membership

from . import geo
from .choices import SignInHalf
from .models import AttendanceSettings, SignIn

COORD_PLACES = Decimal("0.000001")
MAX_ACCURACY_M = 100_000


def server_now() -> datetime.datetime:
    """The server's clock: the only time that decides a sign-in's date and half.
    (Tests replace this one function to move the clock.)"""
    return timezone.now()


# --- county settings and the half-day ------------------------------------------------


def settings_for(county_id: int | None) -> AttendanceSettings:
    """The county's attendance settings, or the defaults of the rules when the
    county has not saved any (an unsaved instance)."""
    found = AttendanceSettings.objects.filter(county_id=county_id).first() if county_id else None
    return found or AttendanceSettings(county_id=county_id)


def settings_by_county(county_ids: Iterable[int | None]) -> dict[int | None, AttendanceSettings]:
    """Settings of several counties in one query (defaults for those without)."""
    ids = {pk for pk in county_ids if pk}
    found = {s.county_id: s for s in AttendanceSettings.objects.filter(county_id__in=ids)}
    return {pk: found.get(pk) or AttendanceSettings(county_id=pk) for pk in ids | {None}}


def half_of(moment: datetime.time, settings: AttendanceSettings) -> str:
    """ "am", "pm" or "" (outside hours) for a local time of day."""
    if settings.morning_start <= moment < settings.morning_end:
        return SignInHalf.MORNING
    if settings.afternoon_start <= moment < settings.day_end:
        return SignInHalf.AFTERNOON
    return SignInHalf.NONE


def radius_of(village: Area | None, settings: AttendanceSettings) -> int:
    if village is not None and village.radius_m:
        return village.radius_m
    return settings.default_radius_m


def _hm(value: datetime.time) -> str:
    return value.strftime("%H:%M")


# --- who signs in --------------------------------------------------------------------


def current_membership(cadre: Cadre, day: datetime.date) -> Membership | None:
    """The cadre's membership that includes the day (with team and village)."""
    return (
        Membership.objects.filter(cadre=cadre)
        .on(day)
        .select_related("team__village")
        .order_by("-start_date", "-pk")
        .first()
    )


def cadre_of(user, perm: str = "attendance.add_signin") -> Cadre:
    """The cadre record of an account (a cadre or team leader with the
    permission), or a ValidationError saying there is none."""
    cadre = None
    if user is not None and user.is_authenticated and user.has_perm(perm):
        cadre = Cadre.objects.filter(user=user).first()
    if cadre is None:
        raise ValidationError(
            _(
                "Your account is not linked to a cadre record, so you cannot sign in. "
                "Ask your township office."
            ),
            code="no_cadre",
        )
    return cadre


def _not_stationed(day: datetime.date) -> ValidationError:
    return ValidationError(
        _(
            "You are not stationed in a team on %(day)s, so you cannot sign in or "
            "write a help log for it. Ask your township office if this is wrong."
        )
        % {"day": day.isoformat()},
        code="no_membership",
    )


def membership_or_error(cadre: Cadre, day: datetime.date) -> Membership:
    membership = current_membership(cadre, day)
    if membership is None:
        raise _not_stationed(day)
    return membership


# What a sign-in needs of the membership and what hangs off it (the rows are
# wide; loading only these keeps the hot path cheap).
_SETTINGS = "team__village__county__attendance_settings__"
_STATIONED_FIELDS = (
    "id",
    "start_date",
    "end_date",
    "cadre__id",
    "cadre__name",
    "cadre__user_id",
    "cadre__county_id",
    "team__id",
    "team__village__id",
    "team__village__name",
    "team__village__level",
    "team__village__county_id",
    "team__village__township_id",
    "team__village__latitude",
    "team__village__longitude",
    "team__village__radius_m",
    "team__village__county__id",
    *(
        _SETTINGS + name
        for name in (
            "id",
            "county_id",
            "morning_start",
            "morning_end",
            "afternoon_start",
            "day_end",
            "default_radius_m",
        )
    ),
)


def stationed(
    user, day: datetime.date, perm: str = "attendance.add_signin"
) -> tuple[Membership, AttendanceSettings]:
    """The membership of the user's cadre on the day, with the cadre, the
    village and the county's settings, in one query; or a ValidationError
    saying why there is none (no cadre record, or not stationed that day)."""
    membership = None
    if user is not None and user.is_authenticated and user.has_perm(perm):
        membership = (
            Membership.objects.filter(cadre__user=user)
            .on(day)
            .select_related("cadre", "team__village__county__attendance_settings")
            .only(*_STATIONED_FIELDS)
            .order_by("-start_date", "-pk")
            .first()
        )
    if membership is None:
        cadre_of(user, perm)  # raises when there is no cadre record
        raise _not_stationed(day)
    village = membership.team.village
    try:
        settings = village.county.attendance_settings
    except AttendanceSettings.DoesNotExist:
        settings = AttendanceSettings(county_id=village.county_id)
    return membership, settings


def refused(*, user, request, what: str, error: ValidationError, obj=None) -> None:
    """A refused write is an audit row (a failed action), in its own transaction."""
    messages = [str(m) for m in error.messages][:5]
    with transaction.atomic():
        audit.record(
            action=AuditAction.OBJECT_CREATE
            if what != "signin_accept"
            else AuditAction.OBJECT_CHANGE,
            actor=user if getattr(user, "is_authenticated", False) else None,
            request=request,
            obj=obj,
            success=False,
            detail={"what": what, "errors": messages},
        )


# --- the sign-in ---------------------------------------------------------------------


def _as_uuid(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise ValidationError({"client_id": _("Must be a valid UUID.")}) from exc


def _position(latitude, longitude, accuracy) -> tuple[float, float, float | None]:
    errors = {}
    try:
        lat = float(latitude)
        if not -90 <= lat <= 90:
            raise ValueError
    except (TypeError, ValueError):
        errors["latitude"] = _("The latitude must be a number from -90 to 90.")
    try:
        lng = float(longitude)
        if not -180 <= lng <= 180:
            raise ValueError
    except (TypeError, ValueError):
        errors["longitude"] = _("The longitude must be a number from -180 to 180.")
    acc = None
    if accuracy not in (None, ""):
        try:
            acc = float(accuracy)
            if not 0 <= acc <= MAX_ACCURACY_M:
                raise ValueError
        except (TypeError, ValueError):
            errors["accuracy"] = _("The accuracy must be a number of metres from 0 to 100000.")
    if errors:
        raise ValidationError(errors)
    return lat, lng, acc


def _photo_field(photo) -> CheckedPhoto:
    try:
        return check_photo(photo)
    except ValidationError as error:
        raise ValidationError({"photo": error.messages}) from error


def _coord(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(COORD_PLACES, rounding=ROUND_HALF_UP)


def _replay(existing: SignIn, *, user, request) -> SignIn:
    """The stored row for a client_id sent again, if it is the same person's."""
    if existing.cadre.user_id != user.pk:
        error = ValidationError(
            {"client_id": _("This client id has already been used. Make a new one.")}
        )
        refused(user=user, request=request, what="signin", error=error)
        raise error
    return existing


def signin_create(
    *,
    user,
    client_id: uuid.UUID | str,
    latitude: float,
    longitude: float,
    accuracy: float | None = None,
    taken_at: datetime.datetime | None = None,
    photo=None,
    now: datetime.datetime | None = None,
    request=None,
) -> tuple[SignIn, bool]:
    """Record a sign-in of the user's cadre; ``(sign_in, created)``.

    The same client_id again returns the stored row with ``created`` False
    (also when the two arrive at the same moment: the unique constraint keeps
    one and the other re-reads it)."""
    client_id = _as_uuid(client_id)
    if SignIn.objects.filter(client_id=client_id).exists():  # a retry
        existing = SignIn.objects.select_related("cadre", "village").get(client_id=client_id)
        return _replay(existing, user=user, request=request), False

    now = now or server_now()
    local = timezone.localtime(now)
    day = local.date()
    try:
        membership, settings = stationed(user, day)
        lat, lng, acc = _position(latitude, longitude, accuracy)
        checked = _photo_field(photo) if photo else None
    except ValidationError as error:
        refused(user=user, request=request, what="signin", error=error)
        raise
    if taken_at is not None and timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)

    cadre = membership.cadre
    village = membership.team.village
    half = half_of(local.time(), settings)
    distance = None
    in_area = False
    if village.latitude is not None and village.longitude is not None:
        metres = geo.haversine_m(lat, lng, float(village.latitude), float(village.longitude))
        # "At most the village's radius": the exact distance decides (1000.4 m
        # is beyond a 1000 m radius); the stored distance is rounded for display.
        in_area = metres <= radius_of(village, settings)
        distance = round(metres)

    signin = SignIn(
        client_id=client_id,
        cadre=cadre,
        membership=membership,
        village=village,
        signed_at=now,
        date=day,
        half=half,
        latitude=_coord(lat),
        longitude=_coord(lng),
        accuracy_m=acc,
        distance_m=distance,
        taken_at=taken_at,
        in_area=in_area,
    )
    # The unique client id and the first valid sign-in per half are the
    # database's to decide: checking them here first would race. (The
    # foreign keys were just read; checking them again costs three queries.)
    signin.full_clean(
        exclude=["cadre", "membership", "village"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            if checked is not None:
                signin.photo.save(
                    f"{client_id}.{checked.kind}", ContentFile(checked.data), save=False
                )
            _insert_first_valid_or_repeat(signin, valid=bool(half) and in_area)
            audit.record(
                action=AuditAction.OBJECT_CREATE,
                actor=user,
                request=request,
                obj=signin,
                detail={
                    "what": "signin",
                    "date": day.isoformat(),
                    "half": half,
                    "in_area": in_area,
                    "counts": signin.counts,
                },
            )
    except IntegrityError:
        if signin.photo:
            signin.photo.delete(save=False)
        # The same client_id was stored meanwhile (a retry that overtook this one).
        existing = (
            SignIn.objects.select_related("cadre", "village").filter(client_id=client_id).first()
        )
        if existing is None:
            raise
        return _replay(existing, user=user, request=request), False
    except BaseException:
        if signin.photo:
            signin.photo.delete(save=False)
        raise
    signin.outcome = signin_outcome(signin, settings)
    return signin, True


def _insert_first_valid_or_repeat(signin: SignIn, *, valid: bool) -> None:
    """Insert the row; a valid one goes in as counting, and if the database's
    partial unique constraint says the half already has its counting sign-in,
    it goes in as a repeat. An IntegrityError that remains is the client_id's."""
    if valid:
        signin.counts = True
        try:
            with transaction.atomic():
                signin.save(force_insert=True)
            return
        except IntegrityError:
            signin.pk = None
            signin._state.adding = True
            signin.counts = False
    signin.save(force_insert=True)


# --- what a sign-in means ------------------------------------------------------------


class State:
    COUNTS = "counts"
    REPEAT = "repeat"
    OUTSIDE_HOURS = "outside_hours"
    OUT_OF_AREA = "out_of_area"
    NO_POINT = "no_point"


STATE_LABELS = {
    State.COUNTS: _("Counts"),
    State.REPEAT: _("Repeat"),
    State.OUTSIDE_HOURS: _("Outside hours"),
    State.OUT_OF_AREA: _("Out of area"),
    State.NO_POINT: _("Village has no point"),
}


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str  # why it does not count, "" when it counts

    @property
    def counts(self) -> bool:
        return self.state == State.COUNTS

    @property
    def repeat(self) -> bool:
        return self.state == State.REPEAT

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def signin_outcome(signin: SignIn, settings: AttendanceSettings) -> Outcome:
    """Whether the sign-in counts, and if not, why, in words for the cadre.
    ``signin.village`` should be loaded (for the radius)."""
    if signin.counts:
        return Outcome(State.COUNTS, "")
    if not signin.half:
        hours = {
            "am": _hm(settings.morning_start),
            "am_end": _hm(settings.morning_end),
            "pm": _hm(settings.afternoon_start),
            "end": _hm(settings.day_end),
        }
        if settings.morning_end == settings.afternoon_start:
            message = _(
                "Signed outside the sign-in hours (morning %(am)s–%(pm)s, afternoon "
                "%(pm)s–%(end)s), so it counts for neither half-day."
            )
        else:
            message = _(
                "Signed outside the sign-in hours (morning %(am)s–%(am_end)s, afternoon "
                "%(pm)s–%(end)s), so it counts for neither half-day."
            )
        return Outcome(State.OUTSIDE_HOURS, str(message % hours))
    if not signin.in_area and not signin.accepted:
        if signin.distance_m is None:
            return Outcome(
                State.NO_POINT,
                str(
                    _(
                        "Your village has no point recorded yet, so the distance cannot be "
                        "checked. It counts only if the township office accepts it."
                    )
                ),
            )
        return Outcome(
            State.OUT_OF_AREA,
            str(
                _(
                    "%(distance)s m from the village point, beyond the %(radius)s m radius. "
                    "It counts only if the township office accepts it."
                )
                % {"distance": signin.distance_m, "radius": radius_of(signin.village, settings)}
            ),
        )
    return Outcome(
        State.REPEAT,
        str(_("This half-day already has a sign-in that counts; this one is kept as a repeat.")),
    )


# --- township acceptance -------------------------------------------------------------


def signin_accept(*, actor, signin: SignIn, reason: str, request=None) -> SignIn:
    """The township office accepts an out-of-area sign-in, with a reason. It then
    counts unless its half already has a counting sign-in (the database decides)."""
    if not actor.has_perm("attendance.accept_signin"):
        raise PermissionDenied
    try:
        return _accept(actor=actor, pk=signin.pk, reason=reason, request=request)
    except ValidationError as error:
        refused(user=actor, request=request, what="signin_accept", error=error, obj=signin)
        raise


@transaction.atomic
def _accept(*, actor, pk: int, reason: str, request) -> SignIn:
    signin = access_signin(user=actor, pk=pk, queryset=SignIn.objects.select_for_update())
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for accepting this sign-in.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("The reason can be at most 200 characters.")})
    if not signin.half:
        raise ValidationError(_("A sign-in outside the sign-in hours cannot be accepted."))
    if signin.in_area:
        raise ValidationError(_("This sign-in is in the area; there is nothing to accept."))
    if signin.accepted:
        raise ValidationError(_("This sign-in has already been accepted."))
    changes = {"accepted": True, "accepted_by": actor, "accept_reason": reason}
    counts = True
    try:
        with transaction.atomic():
            SignIn.objects.filter(pk=signin.pk).update(counts=True, **changes)
    except IntegrityError:
        counts = False
        SignIn.objects.filter(pk=signin.pk).update(**changes)
    signin.refresh_from_db()
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=signin,
        detail={"what": "signin_accept", "reason": reason, "counts": counts},
    )
    return signin


# --- village points ------------------------------------------------------------------


class PointSystem:
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    CHOICES = (
        (WGS84, _("WGS-84 (GPS, phone browsers)")),
        (GCJ02, _("GCJ-02 (Chinese map apps: Amap, Tencent)")),
    )


@transaction.atomic
def village_point_set(
    *,
    actor,
    village: Area,
    latitude: float,
    longitude: float,
    system: str,
    radius_m: int | None = None,
    request=None,
) -> Area:
    """Set a village's sign-in point (stored in WGS-84) and, optionally, radius."""
    if not actor.has_perm("core.change_area"):
        raise PermissionDenied
    village = access(Area.objects.villages().select_for_update(), user=actor, pk=village.pk)
    if system not in (PointSystem.WGS84, PointSystem.GCJ02):
        raise ValidationError({"system": _("Choose WGS-84 or GCJ-02.")})
    lat, lng, _acc = _position(latitude, longitude, None)
    if system == PointSystem.GCJ02:
        lat, lng = geo.gcj02_to_wgs84(lat, lng)
    before = {
        "latitude": str(village.latitude) if village.latitude is not None else None,
        "longitude": str(village.longitude) if village.longitude is not None else None,
        "radius_m": village.radius_m,
    }
    village.latitude = _coord(lat)
    village.longitude = _coord(lng)
    if radius_m is not None:
        village.radius_m = radius_m
    village.full_clean()
    village.save(update_fields=["latitude", "longitude", "radius_m"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=village,
        detail={
            "what": "village_point",
            "system": system,
            "before": before,
            "after": {
                "latitude": str(village.latitude),
                "longitude": str(village.longitude),
                "radius_m": village.radius_m,
            },
        },
    )
    return village


# --- retention of raw coordinates ----------------------------------------------------


@transaction.atomic
def signins_forget_locations(
    *, older_than_days: int | None = None, now: datetime.datetime | None = None
) -> int:
    """Null the raw coordinates of sign-ins older than the
    ``location_retention_days`` of the county where they were made (or ``older_than_days`` for every county, when
    given); distance and in-area stay. Returns the number of rows changed.

    The body of the daily task ``attendance.tasks.forget_signin_locations``;
    a few UPDATEs (one per distinct retention period), never a row loop."""
    today = timezone.localdate(now or server_now())
    pending = SignIn.objects.filter(Q(latitude__isnull=False) | Q(longitude__isnull=False))
    changed = 0
    if older_than_days is not None:
        cutoff = today - datetime.timedelta(days=older_than_days)
        changed = pending.filter(date__lt=cutoff).update(latitude=None, longitude=None)
    else:
        default = AttendanceSettings._meta.get_field("location_retention_days").default
        periods: dict[int, list[int]] = {}
        for county_id, days in AttendanceSettings.objects.values_list(
            "county_id", "location_retention_days"
        ):
            periods.setdefault(days, []).append(county_id)
        configured = [pk for ids in periods.values() for pk in ids]
        for days, ids in periods.items():
            cutoff = today - datetime.timedelta(days=days)
            changed += pending.filter(date__lt=cutoff, village__county_id__in=ids).update(
                latitude=None, longitude=None
            )
        cutoff = today - datetime.timedelta(days=default)
        changed += (
            pending.filter(date__lt=cutoff)
            .exclude(village__county_id__in=configured)
            .update(latitude=None, longitude=None)
        )
    if changed:
        audit.record(
            action=AuditAction.OBJECT_CHANGE,
            detail={"what": "signin_locations_forgotten", "rows": changed},
        )
    return changed


# --- selectors -----------------------------------------------------------------------


def visible_signins(user, queryset: QuerySet[SignIn] | None = None) -> QuerySet[SignIn]:
    """The sign-ins the user may see (an area: those made in its villages)."""
    return (queryset if queryset is not None else SignIn.objects.all()).visible_to(user)


def access_signin(*, user, pk, queryset: QuerySet[SignIn] | None = None) -> SignIn:
    """One sign-in within the user's scope, or the same 404 as a missing one."""
    try:
        return visible_signins(user, queryset).get(pk=pk)
    except (SignIn.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def signin_list(
    *,
    user,
    day: datetime.date | None = None,
    problems_only: bool = False,
) -> QuerySet[SignIn]:
    """Sign-ins the user may see (a cadre: their own), newest first."""
    rows = visible_signins(user).select_related(
        "cadre", "village", "village__parent", "accepted_by"
    )
    if day is not None:
        rows = rows.filter(date=day)
    if problems_only:
        rows = rows.filter(counts=False).filter(Q(half="") | Q(in_area=False, accepted=False))
    return rows.order_by("-signed_at", "-pk")


def with_outcomes(rows: Iterable[SignIn]) -> list[SignIn]:
    """The sign-ins with ``outcome`` set on each (one settings query for all
    their counties); ``village`` should be loaded."""
    rows = list(rows)
    todo = [r for r in rows if not hasattr(r, "outcome")]
    if todo:
        by_county = settings_by_county(r.village.county_id if r.village_id else None for r in todo)
        for row in todo:
            county = row.village.county_id if row.village_id else None
            row.outcome = signin_outcome(row, by_county.get(county) or by_county[None])
    return rows


@dataclass
class HalfState:
    half: str
    label: str
    start: datetime.time
    end: datetime.time
    state: str  # counts / not_counted / open / upcoming / missed
    counting: SignIn | None


@dataclass
class Day:
    cadre: Cadre | None
    membership: Membership | None
    village: Area | None
    settings: AttendanceSettings
    day: datetime.date
    now: datetime.datetime
    halves: list[HalfState]
    signins: list[tuple[SignIn, Outcome]]
    radius_m: int | None
    error: str = ""


def signin_day(*, user, now: datetime.datetime | None = None) -> Day:
    """What the sign-in page shows: today's two halves and today's sign-ins
    of the user's cadre (a fixed number of queries)."""
    now = now or server_now()
    local = timezone.localtime(now)
    day = local.date()
    try:
        membership, settings = stationed(user, day)
    except ValidationError as error:
        return Day(
            cadre=None,
            membership=None,
            village=None,
            settings=AttendanceSettings(),
            day=day,
            now=now,
            halves=[],
            signins=[],
            radius_m=None,
            error=" ".join(str(m) for m in error.messages),
        )
    cadre = membership.cadre
    village = membership.team.village
    rows = list(
        SignIn.objects.filter(cadre=cadre, date=day)
        .select_related("village")
        .order_by("-signed_at", "-pk")
    )
    current = half_of(local.time(), settings)
    halves = []
    spans = (
        (SignInHalf.MORNING, settings.morning_start, settings.morning_end),
        (SignInHalf.AFTERNOON, settings.afternoon_start, settings.day_end),
    )
    for half, start, end in spans:
        counting = next((r for r in rows if r.half == half and r.counts), None)
        tried = any(r.half == half for r in rows)
        if counting is not None:
            state = "counts"
        elif tried:
            state = "not_counted"
        elif current == half:
            state = "open"
        elif local.time() < start:
            state = "upcoming"
        else:
            state = "missed"
        halves.append(
            HalfState(
                half=half,
                label=str(SignInHalf(half).label),
                start=start,
                end=end,
                state=state,
                counting=counting,
            )
        )
    return Day(
        cadre=cadre,
        membership=membership,
        village=village,
        settings=settings,
        day=day,
        now=now,
        halves=halves,
        signins=[(r, signin_outcome(r, settings)) for r in rows],
        radius_m=radius_of(village, settings),
    )
