"""The navigation: each role sees only what it may use."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .scoping import Scope, user_scope

# (label, url name, permission needed or None, scope kinds that see it or None)
NAVIGATION = [
    (_("Home"), "home", None, None),
    (_("Cadres"), "cadre_list", "teams.view_cadre", "area"),
    (_("Households"), "household_list", "teams.view_household", "area"),
    (_("Monthly visits"), "visit_monthly", "teams.view_visit", "area"),
    (_("Record a visit"), "visit_create", "teams.add_visit", None),
    (_("Matching report"), "matching_report", "teams.view_team", "area"),
    (_("Team structure"), "team_structure", "teams.view_team", "area"),
    (_("Roster uploads"), "import_list", "teams.import_roster", None),
    (_("Activation codes"), "activation_codes", "teams.change_cadre", "area"),
    (_("Sign in"), "signin_page", "attendance.add_signin", None),
    (_("Leave"), "leave_list", "attendance.view_leaverequest", None),
    (_("Monthly audit"), "audit_results", "attendance.view_attendancebatch", "area"),
    (_("200 days"), "on_post_list", "attendance.view_onpostcheck", None),
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
        if who == "area" and user_scope(user).kind in (Scope.SELF, Scope.NONE):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
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
