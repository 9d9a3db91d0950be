"""What each role may do. Permissions come from the role alone: a user has one
role, so nobody can hold two of the three administrator roles, and the three
hold disjoint permission sets (checked by a test)."""

from .choices import Role

BUSINESS_VIEW = {"core.view_area", "core.view_dispatchingunit"}

TEAMS_MODELS = ("cadre", "team", "membership", "household", "pairing", "visit")
TEAMS_VIEW = {f"teams.view_{m}" for m in TEAMS_MODELS}
TEAMS_EDIT = {f"teams.{a}_{m}" for m in TEAMS_MODELS for a in ("add", "change")}
ROSTERS = {"teams.import_roster", "teams.export_roster", "core.view_importjob"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PENDING: frozenset(),
    Role.COUNTY_OFFICE: frozenset(
        BUSINESS_VIEW
        | TEAMS_VIEW
        | TEAMS_EDIT
        | ROSTERS
        | {
            "teams.reveal_personal",
            "core.add_area",
            "core.change_area",
            "core.add_dispatchingunit",
            "core.change_dispatchingunit",
        }
    ),
    Role.TOWNSHIP_OFFICE: frozenset(
        BUSINESS_VIEW | TEAMS_VIEW | TEAMS_EDIT | ROSTERS | {"core.change_area"}
    ),
    Role.UNIT: frozenset({"core.view_dispatchingunit"} | TEAMS_VIEW),
    Role.TEAM_LEADER: frozenset({"core.view_area"} | TEAMS_VIEW | {"teams.add_visit"}),
    Role.CADRE: frozenset(
        {"teams.view_cadre", "teams.view_pairing", "teams.view_visit", "teams.add_visit"}
    ),
    Role.INSPECTOR: frozenset(BUSINESS_VIEW | TEAMS_VIEW),
    # 三员分立: users and settings / roles, permissions and lockouts / the audit log.
    Role.SYSTEM_ADMIN: frozenset(
        {
            "core.view_user",
            "core.add_user",
            "core.change_user",
            "core.manage_users",
            "core.manage_settings",
        }
    ),
    Role.SECURITY_ADMIN: frozenset(
        {
            "core.view_roleassignment",
            "core.change_roleassignment",
            "core.assign_roles",
            "core.unlock_users",
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accessfailurelog",
        }
    ),
    Role.AUDIT_ADMIN: frozenset({"core.view_auditlog", "core.export_auditlog"}),
}


def permissions_for(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
