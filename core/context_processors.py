"""The navigation: each role sees only what it may use."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .scoping import Scope, user_scope

# Menus of (label, url name, permission needed or None, who sees it: None,
# "area" (users with an area or unit scope) or "staff"). A menu with a label
# and two or more entries the user may use is a dropdown; otherwise its
# entries stand in the bar on their own.
NAVIGATION = [
    (None, [(_("Home"), "home", None, None)]),
    (
        pgettext_lazy("menu", "Teams"),
        [
            (_("Cadres"), "cadre_list", "teams.view_cadre", "area"),
            (_("Households"), "household_list", "teams.view_household", "area"),
            (_("Monthly visits"), "visit_monthly", "teams.view_visit", "area"),
            (_("Record a visit"), "visit_create", "teams.add_visit", None),
            (_("Matching report"), "matching_report", "teams.view_team", "area"),
            (_("Team structure"), "team_structure", "teams.view_team", "area"),
        ],
    ),
    (
        pgettext_lazy("menu", "Rosters"),
        [
            (_("Roster uploads"), "import_list", "teams.import_roster", None),
            (_("Activation codes"), "activation_codes", "teams.change_cadre", "area"),
        ],
    ),
    (
        pgettext_lazy("menu", "Attendance"),
        [
            (_("Sign in"), "signin_page", "attendance.add_signin", None),
            (_("Leave"), "leave_list", "attendance.view_leaverequest", None),
            (_("Monthly audit"), "audit_results", "attendance.view_attendancebatch", "area"),
            (_("200 days"), "on_post_list", "attendance.view_onpostcheck", None),
        ],
    ),
    (None, [(_("Audit log"), "audit_log", "core.view_auditlog", None)]),
    (None, [(_("Admin console"), "admin:index", None, "staff")]),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = user_scope(user)
    # A cadre has a handful of entries, sign-in first among them: no menus.
    grouped = scope.kind not in (Scope.SELF, Scope.NONE)
    groups = []
    for label, entries in NAVIGATION:
        items = [item for entry in entries if (item := _item(request, user, scope, *entry))]
        if grouped and label is not None and len(items) > 1:
            active = any(item["active"] for item in items)
            groups.append({"label": label, "items": items, "active": active})
        else:
            groups.extend({"label": None, "items": [item]} for item in items)
    return {
        "nav_groups": groups,
        "nav_scope": scope,
        "nav_scope_label": _scope_label(user, scope),
    }


def _item(request, user, scope, label, name, perm, who) -> dict | None:
    if perm and not user.has_perm(perm):
        return None
    if who == "staff" and not user.is_staff:
        return None
    if who == "area" and scope.kind in (Scope.SELF, Scope.NONE):
        return None
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return {"label": label, "url": url, "active": request.path == url}


def _scope_label(user, scope):
    if scope.kind in (Scope.COUNTY, Scope.TOWNSHIP, Scope.VILLAGE) and user.scope_area_id:
        return user.scope_area.name
    if scope.kind == Scope.UNIT and user.scope_unit_id:
        return user.scope_unit.name
    return ""
