"""Writes of the teams app: adjusting, recalling and ending memberships,
reassigning pairings, correcting cadres and households, cadre account
activation codes, and the roster import jobs (upload, check, confirm, apply,
cancel, purge).

Every service is keyword-only, checks the actor's permission and scope itself
(a view is not the only way in), locks the rows it changes with
``select_for_update``, runs ``full_clean()`` before saving, and writes its
audit row in the same transaction, so a failed audit write undoes the change.
"""

from __future__ import annotations

import datetime
import hmac
import logging
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core import audit
from core.choices import AreaLevel, AuditAction, Role
from core.models import Area, AuditLog, ImportJob, ImportJobStatus, User
from core.net import client_ip
from core.scoping import Scope, user_scope

from . import importers
from .choices import EndReason
from .models import Cadre, Household, Membership, Pairing, Team
from .names import pinyin_keys
from .rosters import MAX_BYTES, ROSTERS

logger = logging.getLogger(__name__)

ONE_DAY = datetime.timedelta(days=1)


# --- helpers -------------------------------------------------------------------


def _require(actor, *perms: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perms(perms):
        raise PermissionDenied


def _require_visible(queryset, actor, obj) -> None:
    """The object must be inside the actor's scope (the same refusal whether it
    does not exist or is someone else's)."""
    if obj is None or obj.pk is None:
        raise PermissionDenied
    if not queryset.visible_to(actor).filter(pk=obj.pk).exists():
        raise PermissionDenied


def _check_day(on: datetime.date, *, field: str = "on") -> None:
    if not isinstance(on, datetime.date) or isinstance(on, datetime.datetime):
        raise ValidationError({field: _("Give a date.")})
    if on > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})


def _decision(decision: str | None, *, required: bool) -> str:
    text = " ".join((decision or "").split())
    if required and not text:
        raise ValidationError({"decision": _("Name the decision or document behind this change.")})
    if len(text) > 200:
        raise ValidationError({"decision": _("The decision can be at most 200 characters.")})
    return text


@transaction.atomic
def action_failed(*, actor, what: str, error: Exception, obj=None, request=None) -> None:
    """The audit row of a refused action (a validation error or a refusal):
    the service's own transaction rolled back, so the caller records it."""
    if isinstance(error, ValidationError):
        reason = " ".join(str(m) for m in error.messages)[:500]
    else:
        reason = type(error).__name__
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=obj,
        success=False,
        detail={"what": what, "error": reason},
    )


# --- memberships ---------------------------------------------------------------
#
# Dates. A membership's end date is its last day in the team (``on(day)``
# includes it). Ending or recalling ``on`` a day makes that day the last one.
# Adjusting ``on`` a day makes that day the first one in the new team, so the
# old membership ends the day before: every day of a cadre's record belongs
# to exactly one team, and attendance counts each day once.


def _lock_current_membership(actor, membership: Membership) -> Membership:
    _require_visible(Membership.objects, actor, membership)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("team", "cadre")
        .get(pk=membership.pk)
    )
    if locked.end_date is not None:
        raise ValidationError(_("This membership has already ended."))
    return locked


def _end_membership(
    membership: Membership, *, last_day: datetime.date, reason: str, decision: str
) -> None:
    if last_day < membership.start_date:
        raise ValidationError(
            {
                "on": _("The membership cannot end before it started (%(start)s).")
                % {"start": membership.start_date.isoformat()}
            }
        )
    membership.end_date = last_day
    membership.end_reason = reason
    membership.end_decision = decision
    membership.full_clean()
    membership.save(update_fields=["end_date", "end_reason", "end_decision"])


@transaction.atomic
def membership_end(
    *,
    actor,
    membership: Membership,
    on: datetime.date,
    reason: str = EndReason.ROTATION,
    decision: str = "",
    request=None,
) -> Membership:
    """Ends a current membership; ``on`` is the cadre's last day in the team.

    Rotation needs no decision; an adjustment or recall names the decision."""
    _require(actor, "teams.change_membership")
    if reason not in EndReason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    _check_day(on)
    text = _decision(decision, required=reason != EndReason.ROTATION)
    locked = _lock_current_membership(actor, membership)
    _end_membership(locked, last_day=on, reason=reason, decision=text)
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=locked,
        detail={
            "what": "membership_end",
            "cadre": locked.cadre_id,
            "team": locked.team_id,
            "end_date": on.isoformat(),
            "reason": reason,
            "decision": text,
        },
    )
    return locked


def membership_recall(
    *, actor, membership: Membership, on: datetime.date, decision: str, request=None
) -> Membership:
    """召回: ends the membership with reason recall and the recalling decision;
    ``on`` is the cadre's last day in the team."""
    return membership_end(
        actor=actor,
        membership=membership,
        on=on,
        reason=EndReason.RECALL,
        decision=decision,
        request=request,
    )


@transaction.atomic
def membership_adjust(
    *,
    actor,
    membership: Membership,
    to_team_or_village: Team | Area,
    on: datetime.date,
    role: str | None = None,
    decision: str,
    request=None,
) -> Membership:
    """调整: moves a member to another village's team, or to another role.

    ``on`` is the first day in the new team; the old membership ends the day
    before with reason adjustment and the decision. The target village's
    current team is used, or created (formed ``on``) if it has none. Returns
    the new membership."""
    _require(actor, "teams.change_membership", "teams.add_membership")
    _check_day(on)
    text = _decision(decision, required=True)
    if isinstance(to_team_or_village, Team):
        village = to_team_or_village.village
        wanted_team = to_team_or_village
    elif isinstance(to_team_or_village, Area) and to_team_or_village.level == AreaLevel.VILLAGE:
        village = to_team_or_village
        wanted_team = None
    else:
        raise ValidationError({"to": _("Choose a village or a team.")})
    _require_visible(Area.objects, actor, village)
    locked = _lock_current_membership(actor, membership)
    new_role = role or locked.role
    if on <= locked.start_date:
        raise ValidationError(
            {
                "on": _("An adjustment must come after the membership started (%(start)s).")
                % {"start": locked.start_date.isoformat()}
            }
        )
    # One current team per village: lock the village so two adjustments into a
    # village without a team cannot both create one.
    Area.objects.select_for_update().get(pk=village.pk)
    team = (
        Team.objects.select_for_update().filter(village=village, dissolved_on__isnull=True).first()
    )
    if wanted_team is not None and (team is None or team.pk != wanted_team.pk):
        raise ValidationError({"to": _("That team has been dissolved.")})
    if team is not None and team.pk == locked.team_id and new_role == locked.role:
        raise ValidationError({"to": _("The cadre is already in this team with this role.")})
    created_team = team is None
    if created_team:
        team = Team(village=village, formed_on=on)
        team.full_clean()
        team.save()
    _end_membership(locked, last_day=on - ONE_DAY, reason=EndReason.ADJUSTMENT, decision=text)
    new = Membership(team=team, cadre=locked.cadre, role=new_role, start_date=on)
    new.full_clean()
    new.save()
    if created_team:
        audit.record(
            action=AuditAction.OBJECT_CREATE,
            actor=actor,
            request=request,
            obj=team,
            detail={"what": "team", "village": village.pk, "formed_on": on.isoformat()},
        )
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=locked,
        detail={
            "what": "membership_adjust",
            "cadre": locked.cadre_id,
            "from_team": locked.team_id,
            "to_team": team.pk,
            "end_date": locked.end_date.isoformat(),
            "reason": EndReason.ADJUSTMENT,
            "decision": text,
        },
    )
    audit.record(
        action=AuditAction.OBJECT_CREATE,
        actor=actor,
        request=request,
        obj=new,
        detail={
            "what": "membership",
            "cadre": new.cadre_id,
            "team": team.pk,
            "role": new_role,
            "start_date": on.isoformat(),
            "adjusted_from": locked.pk,
        },
    )
    return new


# --- pairings ------------------------------------------------------------------


@transaction.atomic
def pairing_reassign(
    *, actor, household: Household, cadre: Cadre, on: datetime.date, request=None
) -> Pairing:
    """Gives a household a new pairing cadre from ``on``; the current pairing,
    if any, ends the day before (one current pairing per household, which the
    database enforces). Returns the new pairing."""
    _require(actor, "teams.change_pairing", "teams.add_pairing")
    _check_day(on)
    _require_visible(Household.objects, actor, household)
    _require_visible(Cadre.objects, actor, cadre)
    household = (
        Household.objects.select_for_update(of=("self",))
        .select_related("village")
        .get(pk=household.pk)
    )
    if cadre.county_id != household.village.county_id:
        raise ValidationError(
            {"cadre": _("The cadre and the household are in different counties.")}
        )
    current = Pairing.objects.select_for_update().filter(household=household, end_date__isnull=True)
    old = current.first()
    if old is not None:
        if old.cadre_id == cadre.pk:
            raise ValidationError({"cadre": _("This cadre is already paired with the household.")})
        if on <= old.start_date:
            raise ValidationError(
                {
                    "on": _(
                        "A reassignment must come after the current pairing started (%(start)s)."
                    )
                    % {"start": old.start_date.isoformat()}
                }
            )
        old.end_date = on - ONE_DAY
        old.full_clean()
        old.save(update_fields=["end_date"])
        audit.record(
            action=AuditAction.OBJECT_CHANGE,
            actor=actor,
            request=request,
            obj=old,
            detail={
                "what": "pairing_end",
                "cadre": old.cadre_id,
                "household": household.pk,
                "end_date": old.end_date.isoformat(),
            },
        )
    new = Pairing(cadre=cadre, household=household, start_date=on)
    new.full_clean()
    new.save()
    audit.record(
        action=AuditAction.OBJECT_CREATE,
        actor=actor,
        request=request,
        obj=new,
        detail={
            "what": "pairing",
            "cadre": cadre.pk,
            "household": household.pk,
            "start_date": on.isoformat(),
            "replaces": old.pk if old is not None else None,
        },
    )
    return new


# --- corrections from the admin console ----------------------------------------

CADRE_EDITABLE = (
    "name",
    "unit",
    "post",
    "rank",
    "education",
    "major",
    "agri_major",
    "political_status",
    "rural_experience",
    "prior_poverty_service",
)
HOUSEHOLD_EDITABLE = ("head_name", "size", "type", "year_out_of_poverty")


@transaction.atomic
def cadre_update(*, actor, cadre: Cadre, changed: Sequence[str], request=None) -> Cadre:
    """Saves corrections to a cadre's plain fields (not the ID or phone number,
    which come from the rosters). ``cadre`` carries the new values."""
    _require(actor, "teams.change_cadre")
    _require_visible(Cadre.objects, actor, cadre)
    fields = [f for f in changed if f in CADRE_EDITABLE]
    if set(changed) - set(CADRE_EDITABLE):
        raise PermissionDenied
    Cadre.objects.select_for_update().get(pk=cadre.pk)
    update = list(fields)
    if "name" in fields:
        cadre.name_pinyin, cadre.name_initials = pinyin_keys(cadre.name)
        update += ["name_pinyin", "name_initials"]
    if "unit" in fields and cadre.unit.county_id != cadre.county_id:
        raise ValidationError({"unit": _("Choose a unit of the cadre's county.")})
    cadre.full_clean()
    if update:
        cadre.save(update_fields=[*update, "updated_at"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=cadre,
        detail={"what": "cadre", "fields": sorted(fields)},
    )
    return cadre


@transaction.atomic
def household_update(*, actor, household: Household, changed: Sequence[str], request=None):
    """Saves corrections to a household's plain fields (not the ID number)."""
    _require(actor, "teams.change_household")
    _require_visible(Household.objects, actor, household)
    if set(changed) - set(HOUSEHOLD_EDITABLE):
        raise PermissionDenied
    Household.objects.select_for_update().get(pk=household.pk)
    household.full_clean()
    if changed:
        household.save(update_fields=[*changed, "updated_at"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=household,
        detail={"what": "household", "fields": sorted(changed)},
    )
    return household


@transaction.atomic
def export_record(
    *,
    actor,
    what: str,
    rows: int,
    columns: Sequence[str],
    filters: dict | None = None,
    request=None,
) -> None:
    """The audit row of an export from the admin console (masked numbers only)."""
    audit.record(
        action=AuditAction.EXPORT,
        actor=actor,
        request=request,
        detail={
            "what": what,
            "filters": filters or {},
            "rows": rows,
            "columns": [str(c) for c in columns],
            "revealed": False,
        },
    )


# --- account activation ----------------------------------------------------------
#
# Imported cadres get an account that cannot log in (unusable password). The
# township office issues a one-time code, printed once; the cadre sets a
# password with it. Codes are random (``secrets``), short-lived and stored as
# an HMAC keyed with SECRET_KEY (a slow password hash adds nothing for a
# random 50-bit secret that dies in a week). Five wrong codes for a username
# clear its code: the office must issue a new one.

ACTIVATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
ACTIVATION_LENGTH = 10
ACTIVATION_TTL = datetime.timedelta(days=7)
ACTIVATION_MAX_FAILURES = 5
ACTIVATION_WHAT = "activation"
ACTIVATION_ISSUE_PERMISSION = "teams.change_cadre"


def activation_code_new() -> str:
    return "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))


def activation_code_normalize(code: str | None) -> str:
    """What the cadre typed, the way it was issued: upper case, without the
    spaces and dashes of the printed ``ABCDE-FGHJK``."""
    return "".join((code or "").split()).replace("-", "").upper()[:64]


def activation_code_display(code: str) -> str:
    """ABCDE-FGHJK: easier to read out and to type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _activation_hash(user_pk: int, code: str) -> str:
    return salted_hmac(
        "kaitai.teams.activation", f"{user_pk}:{code}", algorithm="sha256"
    ).hexdigest()


def _activatable(user: User | None) -> bool:
    return (
        user is not None
        and user.role == Role.CADRE
        and user.is_active
        and not user.has_usable_password()
    )


@transaction.atomic
def activation_codes_issue(
    *, actor, cadres: Iterable[Cadre], request=None
) -> list[tuple[Cadre, str]]:
    """New activation codes for the cadres' accounts (each replaces the old
    code), valid for 7 days. Returns (cadre, code) pairs: the only time the
    codes exist in plain text. One audit row for the batch, without the codes."""
    _require(actor, ACTIVATION_ISSUE_PERMISSION)
    if user_scope(actor).kind not in (Scope.COUNTY, Scope.TOWNSHIP):
        raise PermissionDenied
    cadres = list(cadres)
    if not cadres:
        raise ValidationError(_("Choose at least one cadre."))
    visible = set(
        Cadre.objects.visible_to(actor)
        .filter(pk__in=[c.pk for c in cadres])
        .values_list("pk", flat=True)
    )
    if any(c.pk not in visible for c in cadres):
        raise PermissionDenied
    users = {
        u.pk: u
        for u in User.objects.select_for_update()
        .filter(pk__in=[c.user_id for c in cadres if c.user_id])
        .order_by("pk")
    }
    issued: list[tuple[Cadre, str]] = []
    expires = timezone.now() + ACTIVATION_TTL
    for cadre in cadres:
        user = users.get(cadre.user_id)
        if not _activatable(user):
            raise ValidationError(
                _("%(name)s has no account waiting for activation.") % {"name": cadre.name}
            )
        code = activation_code_new()
        user.activation_code_hash = _activation_hash(user.pk, code)
        user.activation_expires_at = expires
        user.save(update_fields=["activation_code_hash", "activation_expires_at"])
        cadre.user = user
        issued.append((cadre, code))
    audit.record(
        action=AuditAction.USER_CHANGE,
        actor=actor,
        request=request,
        detail={
            "what": "activation_codes",
            "users": sorted(users),
            "count": len(issued),
            "expires_at": expires.isoformat(),
        },
    )
    return issued


def _activation_failures(username: str, ip: str | None) -> int:
    """Wrong tries for this account from this address within the lockout time
    (attempts refused while locked out do not count)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    rows = AuditLog.objects.filter(
        action=AuditAction.LOGIN_FAILED,
        username=audit.clean_text(username, 150),
        created_at__gte=since,
        detail__what=ACTIVATION_WHAT,
    ).exclude(detail__reason="locked")
    rows = rows.filter(ip_address=ip) if ip else rows.filter(ip_address__isnull=True)
    return rows.count()


ACTIVATION_FAILED = _(
    "The mobile number or activation code is wrong, or the code has expired. "
    "Ask your township office for a new code if this keeps happening."
)
ACTIVATION_LOCKED = _(
    "Too many wrong tries from this network. Wait %(minutes)d minutes and try "
    "again, or ask your township office for a new code."
)


def account_activate(*, username: str, code: str, password: str, request=None) -> User:
    """A cadre sets their first password with the activation code.

    A wrong, expired or missing code is refused with one message that does not
    say which; each failure is an audit row (LOGIN_FAILED, what=activation),
    and five within the lockout time from one address lock that address out
    for the account (keyed on account and address, as logins are: keyed on the
    account alone, anyone could lock a named cadre out, and the code stays
    good from the cadre's own phone). A correct code while locked out is still
    refused. A password the validators refuse is reported as such and does not
    use up the code."""
    username = (username or "").strip()[:150]
    typed = activation_code_normalize(code)
    ip = client_ip(request) if request is not None else None
    if _activation_failures(username, ip) >= ACTIVATION_MAX_FAILURES:
        with transaction.atomic():
            _activation_refused(request, username, "locked")
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        raise ValidationError(ACTIVATION_LOCKED, params={"minutes": minutes})
    password_error: ValidationError | None = None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if not _activatable(user):
            user = None
        stored = user.activation_code_hash if user is not None else ""
        # Compare even when there is nothing to compare with, so that the time
        # taken does not tell whether the username exists.
        expected = stored or _activation_hash(0, "-" * ACTIVATION_LENGTH)
        matches = hmac.compare_digest(_activation_hash(user.pk if user else 0, typed), expected)
        expired = (
            user is None
            or not user.activation_expires_at
            or (user.activation_expires_at <= timezone.now())
        )
        if user is None or not stored or expired or not matches:
            if user is None:
                reason = "no_account"
            elif not stored:
                reason = "no_code"
            else:
                reason = "expired" if expired else "wrong_code"
            _activation_refused(request, username, reason, user)
            if _activation_failures(username, ip) >= ACTIVATION_MAX_FAILURES:
                audit.record(
                    action=AuditAction.LOCKED_OUT,
                    request=request,
                    username=username,
                    success=False,
                    obj=user,
                    detail={"what": ACTIVATION_WHAT, "failures": ACTIVATION_MAX_FAILURES},
                )
            user = None
        else:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                password_error = exc
            else:
                user.set_password(password)
                user.activation_code_hash = ""
                user.activation_expires_at = None
                user.save(
                    update_fields=[
                        "password",
                        "password_changed_at",
                        "must_change_password",
                        "activation_code_hash",
                        "activation_expires_at",
                    ]
                )
                audit.record(
                    action=AuditAction.PASSWORD_CHANGE,
                    actor=user,
                    request=request,
                    obj=user,
                    detail={"what": ACTIVATION_WHAT},
                )
    if password_error is not None:
        raise ValidationError({"password": password_error.messages})
    if user is None:
        raise ValidationError(ACTIVATION_FAILED)
    return user


def _activation_refused(request, username: str, reason: str, user: User | None = None) -> None:
    """The audit row of a refused activation (counted by ``_activation_failures``)."""
    audit.record(
        action=AuditAction.LOGIN_FAILED,
        actor=None,
        request=request,
        username=username,
        success=False,
        obj=user,
        detail={"what": ACTIVATION_WHAT, "reason": reason},
    )


def activation_candidates(*, actor, village: Area) -> list[Cadre]:
    """Cadres stationed in the village now whose accounts wait for activation."""
    _require_visible(Area.objects, actor, village)
    return list(
        Cadre.objects.visible_to(actor)
        .filter(
            memberships__team__village=village,
            memberships__end_date__isnull=True,
            user__isnull=False,
            user__role=Role.CADRE,
            user__is_active=True,
        )
        .filter(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .select_related("user")
        .order_by("name_pinyin", "pk")
        .distinct()
    )


# --- roster import jobs ------------------------------------------------------------
#
# upload -> check (dry run) -> preview or invalid -> confirm -> apply -> applied;
# cancel from any state before applying. Transitions take the job row with
# select_for_update and re-check its status, so a job is never applied twice
# or after it was cancelled. The uploaded file holds personal data: it is
# deleted when the job is applied, cancelled, fails, or is abandoned.

OPEN_STATUSES = (
    ImportJobStatus.UPLOADED,
    ImportJobStatus.VALIDATING,
    ImportJobStatus.PREVIEW,
    ImportJobStatus.INVALID,
)
RUNNING_STATUSES = (ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING, ImportJobStatus.APPLYING)
CANCELLABLE = (*OPEN_STATUSES, ImportJobStatus.FAILED)
ALLOWED_SUFFIXES = (".xlsx", ".xls", ".csv")
# Files this small (about 300 rows, whatever the format) are checked and
# applied in the request; bigger ones go to Celery with a progress bar. The
# size is the cheap, safe measure: counting rows would mean opening the file
# before the engine's zip-bomb and format checks. Measured: 300 cadre rows
# are about 24 KB as .xlsx (openpyxl; Excel adds styles) and 50 KB as UTF-8
# .csv (39 KB in GB18030); legacy .xls is bulkier.
SYNC_MAX_BYTES = {".xlsx": 32 * 1024, ".csv": 56 * 1024, ".xls": 96 * 1024}
MAX_ATTEMPTS = 3
ABANDONED_AFTER = datetime.timedelta(days=1)
PROGRESS_TTL = 24 * 3600
FAILED_MESSAGE = _("The file could not be processed.")
GONE_MESSAGE = _("The uploaded file is gone; upload it again.")


def _suffix(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


def import_scope(actor) -> tuple[Area, Area | None]:
    """(county, township or None) an actor imports into; PermissionDenied for others."""
    _require(actor, "teams.import_roster")
    scope = user_scope(actor)
    if scope.kind not in (Scope.COUNTY, Scope.TOWNSHIP) or not actor.scope_area_id:
        raise PermissionDenied
    area = actor.scope_area
    if scope.kind == Scope.COUNTY:
        return area, None
    return area.county, area


def _lock_job(actor, job: ImportJob) -> ImportJob:
    _require(actor, "teams.import_roster")
    _require_visible(ImportJob.objects, actor, job)
    return ImportJob.objects.select_for_update().get(pk=job.pk)


def _delete_file_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: _delete_file(name))


def _delete_file(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError:  # pragma: no cover - the purge sweeps what is left
        logger.warning("could not delete uploaded roster %s", name)


def _clear_file(job: ImportJob) -> None:
    name = job.file.name if job.file else ""
    job.file = ""
    _delete_file_on_commit(name)


def _clean_issues(items) -> list:
    cleaned = []
    for item in items or []:
        if isinstance(item, dict):
            cleaned.append(
                {
                    "row": item.get("row"),
                    "column": str(item.get("column") or ""),
                    "message": str(item.get("message") or ""),
                }
            )
        else:
            cleaned.append({"row": None, "column": "", "message": str(item)})
    return cleaned


def progress_key(job_id: int) -> str:
    return f"kaitai:import:{job_id}:progress"


class _Progress:
    """progress(done, total) for the importer: written to the cache (Redis in
    production), not the database, so it is visible while the apply's
    transaction is still open; about a hundred writes per job at most."""

    def __init__(self, job_id: int, stage: str) -> None:
        self.key = progress_key(job_id)
        self.stage = stage
        self.last = -1
        self.set(0, 0)

    def set(self, done: int, total: int) -> None:
        cache.set(self.key, {"stage": self.stage, "done": done, "total": total}, PROGRESS_TTL)

    def __call__(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 0
        if percent != self.last or done >= total:
            self.last = percent
            self.set(done, total)


@dataclass(frozen=True)
class JobProgress:
    stage: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0


def import_job_progress(job: ImportJob) -> JobProgress:
    stage = "apply" if job.status == ImportJobStatus.APPLYING else "check"
    value = cache.get(progress_key(job.pk))
    if job.status in RUNNING_STATUSES and isinstance(value, dict) and value.get("stage") == stage:
        return JobProgress(stage, int(value.get("done") or 0), int(value.get("total") or 0))
    return JobProgress(stage, job.processed_rows, job.total_rows)


def _attempt(job_id: int, stage: str) -> int:
    """How many times this stage has started for the job (redeliveries after a
    lost worker count too): a file that kills workers is not retried forever."""
    key = f"kaitai:import:{job_id}:{stage}:attempts"
    cache.add(key, 0, PROGRESS_TTL)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, PROGRESS_TTL)
        return 1


@transaction.atomic
def import_job_create(*, actor, kind: str, upload, request=None) -> ImportJob:
    """Saves an uploaded roster as a job of the actor's township or county."""
    county, township = import_scope(actor)
    if kind not in ROSTERS:
        raise ValidationError({"kind": _("Choose a roster.")})
    name = os.path.basename((getattr(upload, "name", "") or "").replace("\\", "/"))[:200]
    if _suffix(name) not in ALLOWED_SUFFIXES:
        raise ValidationError({"file": _("Upload an Excel (.xlsx, .xls) or CSV (.csv) file.")})
    size = getattr(upload, "size", 0) or 0
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    if size > MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than 10 MB.")})
    job = ImportJob(
        kind=kind,
        county=county,
        township=township,
        created_by=actor,
        original_name=name or "roster",
    )
    job.file.save(name or "roster", upload, save=False)
    try:
        job.full_clean()
        job.save()
        audit.record(
            action=AuditAction.OBJECT_CREATE,
            actor=actor,
            request=request,
            obj=job,
            detail={"what": "import_upload", "kind": kind, "bytes": size},
        )
    except BaseException:
        _delete_file(job.file.name)  # the row rolls back; the file must go too
        raise
    return job


def import_job_is_small(job: ImportJob) -> bool:
    try:
        size = job.file.size if job.file else 0
    except OSError:
        size = 0
    return size <= SYNC_MAX_BYTES.get(_suffix(job.original_name), 0)


def import_job_start_check(*, job: ImportJob) -> None:
    """Checks a small file now; queues a big one for Celery (after commit)."""
    if import_job_is_small(job):
        import_job_check(job_id=job.pk)
    else:
        from .tasks import check_import_job

        check_import_job.delay_on_commit(job.pk)


def _read(job: ImportJob) -> bytes | None:
    if not job.file:
        return None
    try:
        with default_storage.open(job.file.name, "rb") as handle:
            return handle.read(MAX_BYTES + 1)
    except OSError:
        return None


def _job_fail(job_id: int, *, message: str, from_statuses: Sequence[str], stage: str) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in from_statuses:
            return job
        job.status = ImportJobStatus.FAILED
        job.message = message[:500]
        job.finished_at = timezone.now()
        _clear_file(job)
        job.save(update_fields=["status", "message", "finished_at", "file"])
        audit.record(
            action=AuditAction.OBJECT_CHANGE,
            actor=None,
            username=job.created_by.get_username(),
            obj=job,
            success=False,
            detail={"what": f"import_{stage}", "status": job.status},
        )
    return job


def import_job_check(*, job_id: int) -> ImportJob:
    """The dry run: reads the file, checks every row (writing no data) and
    leaves the job ready to confirm, or with its errors. Idempotent: a job
    that is no longer waiting for its check is left alone."""
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("county", "township", "created_by")
            .get(pk=job_id)
        )
        if job.status not in (ImportJobStatus.UPLOADED, ImportJobStatus.VALIDATING):
            return job
        job.status = ImportJobStatus.VALIDATING
        job.save(update_fields=["status"])
    checking = (ImportJobStatus.VALIDATING,)
    if _attempt(job_id, "check") > MAX_ATTEMPTS:
        return _job_fail(job_id, message=str(FAILED_MESSAGE), from_statuses=checking, stage="check")
    data = _read(job)
    if data is None:
        return _job_fail(job_id, message=str(GONE_MESSAGE), from_statuses=checking, stage="check")
    try:
        result = importers.check_roster(
            kind=job.kind,
            data=data,
            filename=job.original_name,
            actor=job.created_by,
            county=job.county,
            township=job.township,
            progress=_Progress(job_id, "check"),
        )
    except importers.RosterError as exc:
        return _job_fail(job_id, message=str(exc.message), from_statuses=checking, stage="check")
    except Exception:
        logger.exception("import job %s: check failed", job_id)
        return _job_fail(job_id, message=str(FAILED_MESSAGE), from_statuses=checking, stage="check")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportJobStatus.VALIDATING:
            return job  # cancelled while it was being checked
        _store_result(job, result)
        job.status = ImportJobStatus.PREVIEW if result.ok else ImportJobStatus.INVALID
        job.save(
            update_fields=["status", "total_rows", "processed_rows", "counts", "errors", "warnings"]
        )
        audit.record(
            action=AuditAction.OBJECT_CHANGE,
            actor=None,
            username=job.created_by.get_username(),
            obj=job,
            detail={
                "what": "import_check",
                "status": job.status,
                "rows": job.total_rows,
                "counts": job.counts,
                "errors": len(job.errors),
            },
        )
    return job


def _store_result(job: ImportJob, result) -> None:
    total = max(int(result.total_rows or 0), 0)
    job.total_rows = total
    job.processed_rows = total
    job.counts = {k: int(v) for k, v in dict(result.counts or {}).items()}
    job.errors = _clean_issues(result.errors)
    job.warnings = _clean_issues(result.warnings)


@transaction.atomic
def import_job_confirm(*, actor, job: ImportJob, request=None) -> ImportJob:
    """Confirms a checked job without errors; it is then applied (all or
    nothing). Refused for any other state: applied, cancelled, invalid..."""
    job = _lock_job(actor, job)
    if job.status != ImportJobStatus.PREVIEW or job.errors:
        raise ValidationError(_("This import cannot be confirmed in its present state."))
    job.status = ImportJobStatus.APPLYING
    job.processed_rows = 0
    job.save(update_fields=["status", "processed_rows"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=job,
        detail={"what": "import_confirm", "kind": job.kind, "rows": job.total_rows},
    )
    return job


def import_job_start_apply(*, job: ImportJob, actor) -> None:
    """Applies a small confirmed job now; queues a big one for Celery."""
    if import_job_is_small(job):
        import_job_apply(job_id=job.pk, actor_id=actor.pk)
    else:
        from .tasks import apply_import_job

        apply_import_job.delay_on_commit(job.pk, actor.pk)


def import_job_apply(*, job_id: int, actor_id: int | None = None) -> ImportJob:
    """Applies a confirmed job in one transaction: the rows, the job's new
    status and its audit row commit together, or not at all. Idempotent: a
    job that is not waiting to be applied is left alone. ``actor_id`` is who
    confirmed it (the uploader when not given)."""
    applying = (ImportJobStatus.APPLYING,)
    if _attempt(job_id, "apply") > MAX_ATTEMPTS:
        return _job_fail(job_id, message=str(FAILED_MESSAGE), from_statuses=applying, stage="apply")
    try:
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(of=("self",))
                .select_related("county", "township", "created_by")
                .get(pk=job_id)
            )
            if job.status != ImportJobStatus.APPLYING:
                return job
            actor = User.objects.filter(pk=actor_id).first() if actor_id else None
            actor = actor or job.created_by
            data = _read(job)
            if data is None:
                raise importers.RosterError(str(GONE_MESSAGE))
            result = importers.apply_roster(
                kind=job.kind,
                data=data,
                filename=job.original_name,
                actor=actor,
                county=job.county,
                township=job.township,
                progress=_Progress(job_id, "apply"),
            )
            _store_result(job, result)
            job.status = ImportJobStatus.APPLIED
            job.finished_at = timezone.now()
            _clear_file(job)
            job.save(
                update_fields=[
                    "status",
                    "total_rows",
                    "processed_rows",
                    "counts",
                    "errors",
                    "warnings",
                    "finished_at",
                    "file",
                ]
            )
            audit.record(
                action=AuditAction.OBJECT_CHANGE,
                actor=actor,
                obj=job,
                detail={"what": "import_apply", "status": job.status, "counts": job.counts},
            )
            return job
    except importers.RosterInvalid as exc:
        invalid = exc.result  # the data changed since the preview: nothing was written
    except importers.RosterError as exc:
        return _job_fail(job_id, message=str(exc.message), from_statuses=applying, stage="apply")
    except Exception:
        logger.exception("import job %s: apply failed", job_id)
        return _job_fail(job_id, message=str(FAILED_MESSAGE), from_statuses=applying, stage="apply")
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("created_by")
            .get(pk=job_id)
        )
        if job.status != ImportJobStatus.APPLYING:
            return job
        _store_result(job, invalid)
        job.status = ImportJobStatus.INVALID
        job.message = str(_("The data changed since the preview; nothing was written."))
        job.save(
            update_fields=[
                "status",
                "message",
                "total_rows",
                "processed_rows",
                "counts",
                "errors",
                "warnings",
            ]
        )
        audit.record(
            action=AuditAction.OBJECT_CHANGE,
            actor=None,
            username=job.created_by.get_username(),
            obj=job,
            success=False,
            detail={"what": "import_apply", "status": job.status, "errors": len(job.errors)},
        )
    return job


@transaction.atomic
def import_job_cancel(*, actor, job: ImportJob, request=None) -> ImportJob:
    """Cancels a job before it is applied and deletes its file."""
    job = _lock_job(actor, job)
    if job.status not in CANCELLABLE:
        raise ValidationError(_("This import cannot be cancelled in its present state."))
    job.status = ImportJobStatus.CANCELLED
    job.finished_at = timezone.now()
    _clear_file(job)
    job.save(update_fields=["status", "finished_at", "file"])
    audit.record(
        action=AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=job,
        detail={"what": "import_cancel"},
    )
    return job


@transaction.atomic
def import_job_error_workbook(*, actor, job: ImportJob, request=None) -> bytes:
    """The uploaded workbook with the bad cells marked and a comment on each.
    It holds the office's own personal data, so it is an export: an audit row."""
    _require(actor, "teams.import_roster")
    _require_visible(ImportJob.objects, actor, job)
    if not job.errors:
        raise ValidationError(_("This import has no errors."))
    data = _read(job)
    if data is None:
        raise ValidationError(GONE_MESSAGE)
    content = importers.error_workbook(
        kind=job.kind, data=data, filename=job.original_name, errors=job.errors
    )
    audit.record(
        action=AuditAction.EXPORT,
        actor=actor,
        request=request,
        obj=job,
        detail={
            "what": "import_errors",
            "rows": len(job.errors),
            "columns": ["row", "column", "message"],
        },
    )
    return content


def import_jobs_purge(*, now: datetime.datetime | None = None) -> int:
    """Ends jobs abandoned for more than a day and deletes their files; then
    deletes stray files in ``imports/`` no job refers to (a crash between
    commit and delete). Returns the number of files deleted."""
    now = now or timezone.now()
    cutoff = now - ABANDONED_AFTER
    with transaction.atomic():
        stale = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(created_at__lt=cutoff)
            .filter(Q(status__in=(*OPEN_STATUSES, ImportJobStatus.APPLYING)) | ~Q(file=""))
            .order_by("pk")
        )
        ended = []
        for job in stale:
            if job.status in OPEN_STATUSES:
                job.status = ImportJobStatus.CANCELLED
            elif job.status == ImportJobStatus.APPLYING:
                # An apply is one transaction with a time limit far below a day:
                # one still "applying" a day later died and wrote nothing.
                job.status = ImportJobStatus.FAILED
                job.message = str(_("The import was interrupted; nothing was written."))
            if job.finished_at is None:
                job.finished_at = now
            _clear_file(job)
            job.save(update_fields=["status", "message", "finished_at", "file"])
            ended.append(job.pk)
        if ended:
            audit.record(
                action=AuditAction.OBJECT_CHANGE,
                detail={"what": "import_purge", "jobs": ended},
            )
    deleted = len(ended)
    deleted += _sweep_stray_files(cutoff)
    return deleted


def _sweep_stray_files(cutoff: datetime.datetime) -> int:
    try:
        _dirs, files = default_storage.listdir("imports")
    except (FileNotFoundError, NotImplementedError):
        return 0
    referenced = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))
    removed = 0
    for name in files:
        path = f"imports/{name}"
        if path in referenced:
            continue
        try:
            modified = default_storage.get_modified_time(path)
        except (OSError, NotImplementedError):
            continue
        if modified < cutoff:
            _delete_file(path)
            removed += 1
    return removed
