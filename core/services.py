"""Writes of the core app: each in one transaction with its audit row."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import audit
from .choices import ADMIN_ROLES, STAFF_ROLES, AuditAction, Role
from .models import Area, DispatchingUnit, User, UserSession


def _apply_role_flags(user: User) -> None:
    user.is_staff = user.role in STAFF_ROLES
    user.is_superuser = False


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    full_name: str = "",
    role: str = Role.PENDING,
    scope_area: Area | None = None,
    scope_unit: DispatchingUnit | None = None,
    email: str = "",
    must_change_password: bool = True,
    request=None,
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        role=role,
        scope_area=scope_area,
        scope_unit=scope_unit,
    )
    _apply_role_flags(user)
    if password:
        validate_password(password, user)
        user.set_password(password)
        user.must_change_password = must_change_password
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit.record(
        action=AuditAction.USER_CREATE,
        actor=actor,
        request=request,
        obj=user,
        detail={"role": role, "scope_area": scope_area and scope_area.pk},
    )
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, changed: list[str], request=None) -> User:
    """Saves account fields (not the role) changed by the system administrator."""
    forbidden = {"role", "scope_area", "scope_unit", "is_superuser", "is_staff"}
    if forbidden.intersection(changed):
        raise PermissionDenied
    user.full_clean()
    user.save()
    if "is_active" in changed and not user.is_active:
        end_sessions(user)
    audit.record(
        action=AuditAction.USER_CHANGE,
        actor=actor,
        request=request,
        obj=user,
        detail={"fields": sorted(changed)},
    )
    return user


@transaction.atomic
def user_reset_password(*, actor: User, user: User, password: str, request=None) -> None:
    validate_password(password, user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    end_sessions(user)
    audit.record(
        action=AuditAction.USER_CHANGE,
        actor=actor,
        request=request,
        obj=user,
        detail={"fields": ["password"]},
    )


@transaction.atomic
def user_assign_role(
    *,
    actor: User,
    user: User,
    role: str,
    scope_area: Area | None = None,
    scope_unit: DispatchingUnit | None = None,
    request=None,
) -> User:
    """The security administrator's one way to change what a user may do."""
    if actor.pk == user.pk:
        raise ValidationError(_("You cannot change your own role."))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = {"role": user.role, "scope_area": user.scope_area_id, "scope_unit": user.scope_unit_id}
    user.role = role
    user.scope_area = scope_area
    user.scope_unit = scope_unit
    _apply_role_flags(user)
    user.full_clean()
    user.save(update_fields=["role", "scope_area", "scope_unit", "is_staff", "is_superuser"])
    after = {"role": user.role, "scope_area": user.scope_area_id, "scope_unit": user.scope_unit_id}
    if before != after:
        end_sessions(user)
    audit.record(
        action=AuditAction.ROLE_CHANGE,
        actor=actor,
        request=request,
        obj=user,
        detail={"before": before, "after": after, "admin_role": role in ADMIN_ROLES},
    )
    return user


def end_sessions(user: User) -> int:
    """Deletes every stored session of the user (deactivation, role change)."""
    ended, _details = UserSession.objects.filter(user=user).delete()
    return ended


@transaction.atomic
def lockout_release(*, actor: User, attempts, request=None) -> int:
    """Unlocks the given axes AccessAttempt rows, one audit row each."""
    released = 0
    for attempt in AccessAttempt.objects.select_for_update().filter(
        pk__in=[a.pk for a in attempts]
    ):
        audit.record(
            action=AuditAction.UNLOCK,
            actor=actor,
            request=request,
            detail={
                "username": attempt.username or "",
                "ip_address": attempt.ip_address or "",
                "failures": attempt.failures_since_start,
            },
        )
        attempt.delete()
        released += 1
    return released


@transaction.atomic
def password_changed(*, user: User, request=None) -> None:
    audit.record(action=AuditAction.PASSWORD_CHANGE, actor=user, request=request, obj=user)


@transaction.atomic
def area_save(*, actor: User, area: Area, created: bool, changed: list[str], request=None) -> Area:
    area.full_clean()
    area.save()
    audit.record(
        action=AuditAction.OBJECT_CREATE if created else AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=area,
        detail={"fields": sorted(changed)},
    )
    return area


@transaction.atomic
def unit_save(
    *, actor: User, unit: DispatchingUnit, created: bool, changed: list[str], request=None
) -> DispatchingUnit:
    unit.full_clean()
    unit.save()
    audit.record(
        action=AuditAction.OBJECT_CREATE if created else AuditAction.OBJECT_CHANGE,
        actor=actor,
        request=request,
        obj=unit,
        detail={"fields": sorted(changed)},
    )
    return unit
