"""What each role may do. Permissions come from the role alone: a user has one
role, so nobody can hold two of the three administrator roles, and the three
hold disjoint permission sets (checked by a test)."""

from .choices import Role

BUSINESS_VIEW = {"core.view_area", "core.view_dispatchingunit"}

TEAMS_MODELS = ("cadre", "team", "membership", "household", "pairing", "visit")
TEAMS_VIEW = {f"teams.view_{m}" for m in TEAMS_MODELS}
TEAMS_EDIT = {f"teams.{a}_{m}" for m in TEAMS_MODELS for a in ("add", "change")}
ROSTERS = {"teams.import_roster", "teams.export_roster", "core.view_importjob"}

ATTENDANCE_MODELS = (
    "signin",
    "helplog",
    "leaverequest",
    "attendancebatch",
    "monthlyattendance",
    "onpostcheck",
    "workday",
    "calendaryear",
    "attendancesettings",
)
ATTENDANCE_VIEW = {f"attendance.view_{m}" for m in ATTENDANCE_MODELS}
CADRE_ATTENDANCE = {
    "attendance.add_signin",
    "attendance.view_signin",
    "attendance.add_helplog",
    "attendance.change_helplog",
    "attendance.view_helplog",
    "attendance.add_leaverequest",
    "attendance.view_leaverequest",
    "attendance.view_monthlyattendance",
    "attendance.view_onpostcheck",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.PENDING: frozenset(),
    Role.COUNTY_OFFICE: frozenset(
        BUSINESS_VIEW
        | TEAMS_VIEW
        | TEAMS_EDIT
        | ROSTERS
        | ATTENDANCE_VIEW
        | {
            "attendance.change_attendancesettings",
            "attendance.change_workday",
            "attendance.change_calendaryear",
            "attendance.approve_county",
            "attendance.change_leaverequest",
            "attendance.run_audit",
            "attendance.file_audit",
            "teams.reveal_personal",
            "core.add_area",
            "core.change_area",
            "core.add_dispatchingunit",
            "core.change_dispatchingunit",
        }
    ),
    Role.TOWNSHIP_OFFICE: frozenset(
        BUSINESS_VIEW
        | TEAMS_VIEW
        | TEAMS_EDIT
        | ROSTERS
        | ATTENDANCE_VIEW
        | {
            "core.change_area",
            "attendance.approve_township",
            "attendance.change_leaverequest",
            "attendance.accept_signin",
            "attendance.submit_audit",
        }
    ),
    Role.UNIT: frozenset(
        {"core.view_dispatchingunit"}
        | TEAMS_VIEW
        | {
            "attendance.view_monthlyattendance",
            "attendance.view_onpostcheck",
            "attendance.view_leaverequest",
        }
    ),
    Role.TEAM_LEADER: frozenset(
        {"core.view_area"}
        | TEAMS_VIEW
        | {"teams.add_visit"}
        | CADRE_ATTENDANCE
        | {
            "attendance.approve_village",
            "attendance.change_leaverequest",
            "attendance.view_attendancebatch",
        }
    ),
    Role.CADRE: frozenset(
        {"teams.view_cadre", "teams.view_pairing", "teams.view_visit", "teams.add_visit"}
        | CADRE_ATTENDANCE
    ),
    Role.INSPECTOR: frozenset(BUSINESS_VIEW | TEAMS_VIEW | ATTENDANCE_VIEW),
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
