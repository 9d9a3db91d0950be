"""The navigation: each role sees only what it may use."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .scoping import Scope, user_scope

# (label, url name, permission needed or None, scope kinds that see it or None)
NAVIGATION = [
    (_("Home"), "home", None, None),
    (_("Audit log"), "audit_log", "core.view_auditlog", None),
    (_("Admin console"), "admin:index", None, "staff"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = []
    for label, name, perm, who in NAVIGATION:
        if perm and not user.has_perm(perm):
            continue
        if who == "staff" and not user.is_staff:
            continue
        url = reverse(name)
        items.append({"label": label, "url": url, "active": request.path == url})
    scope = user_scope(user)
    return {
        "nav_items": items,
        "nav_scope": scope,
        "nav_scope_label": _scope_label(user, scope),
    }


def _scope_label(user, scope):
    if scope.kind in (Scope.COUNTY, Scope.TOWNSHIP, Scope.VILLAGE) and user.scope_area_id:
        return user.scope_area.name
    if scope.kind == Scope.UNIT and user.scope_unit_id:
        return user.scope_unit.name
    return ""
