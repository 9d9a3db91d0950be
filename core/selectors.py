"""Reads of the core app, always through the user's scope."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .choices import AreaLevel
from .models import Area, AuditLog, DispatchingUnit, User


def area_list(*, user: User, level: str | None = None, parent: Area | None = None) -> QuerySet:
    qs = Area.objects.visible_to(user)
    if level:
        qs = qs.filter(level=level)
    if parent is not None:
        qs = qs.filter(parent=parent)
    return qs


def township_summary(*, user: User, county: Area) -> QuerySet:
    """The county's townships with their village counts, in one query."""
    return (
        area_list(user=user, level=AreaLevel.TOWNSHIP, parent=county)
        .annotate(
            villages=Count("children", filter=Q(children__level=AreaLevel.VILLAGE)),
            demonstration=Count("children", filter=Q(children__category="示范村")),
            key=Count("children", filter=Q(children__category="重点村")),
        )
        .order_by("code", "name")
    )


def village_list(*, user: User, township: Area) -> QuerySet:
    return area_list(user=user, level=AreaLevel.VILLAGE, parent=township).order_by("code", "name")


def unit_list(*, user: User) -> QuerySet:
    return DispatchingUnit.objects.visible_to(user).select_related("county", "township")


AUDIT_FILTERS = ("username", "action", "success", "date_from", "date_to", "ip_address")


def audit_log_list(*, filters: dict) -> QuerySet:
    """The audit log, filtered by an allow-list of keys (never request keys as lookups)."""
    qs = AuditLog.objects.all()
    if filters.get("username"):
        qs = qs.filter(username__icontains=filters["username"])
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("success") in (True, False):
        qs = qs.filter(success=filters["success"])
    if filters.get("ip_address"):
        qs = qs.filter(ip_address=filters["ip_address"])
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=filters["date_from"])
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=filters["date_to"])
    return qs.order_by("-created_at", "-pk")
