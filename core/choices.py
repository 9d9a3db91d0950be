"""Choices of the core app. Stored values are stable codes; labels are translated."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")


class AreaKind(models.TextChoices):
    """What the area is called locally; the level decides what it is."""

    COUNTY = "县", "县"
    BANNER = "旗", "旗"
    DISTRICT = "区", "区"
    CITY = "市", "市"
    TOWN = "镇", "镇"
    TOWNSHIP = "乡", "乡"
    SUMU = "苏木", "苏木"
    FARM = "场", "场"
    STREET = "街道", "街道"
    VILLAGE = "村", "村"
    GACHA = "嘎查", "嘎查"
    GACHA_VILLAGE = "嘎查村", "嘎查村"
    BRANCH_FARM = "分场", "分场"
    COMMUNITY = "社区", "社区"


KINDS_BY_LEVEL = {
    AreaLevel.COUNTY: {AreaKind.COUNTY, AreaKind.BANNER, AreaKind.DISTRICT, AreaKind.CITY},
    AreaLevel.TOWNSHIP: {
        AreaKind.TOWN,
        AreaKind.TOWNSHIP,
        AreaKind.SUMU,
        AreaKind.FARM,
        AreaKind.STREET,
    },
    AreaLevel.VILLAGE: {
        AreaKind.VILLAGE,
        AreaKind.GACHA,
        AreaKind.GACHA_VILLAGE,
        AreaKind.BRANCH_FARM,
        AreaKind.COMMUNITY,
    },
}


class VillageCategory(models.TextChoices):
    DEMONSTRATION = "示范村", "示范村"
    KEY = "重点村", "重点村"
    GENERAL = "一般村", "一般村"


class VillageCondition(models.TextChoices):
    POOR = "贫困村", "贫困村"
    WEAK = "软弱涣散村", "软弱涣散村"
    DISORDERLY = "治安混乱村", "治安混乱村"
    GENERAL = "一般村", "一般村"


class UnitKind(models.TextChoices):
    ECONOMIC = "经济部门", "经济部门"
    PARTY_MASS = "党群部门", "党群部门"
    POLITICAL_LEGAL = "政法部门", "政法部门"
    OTHER = "其他", "其他"


class UnitLevel(models.TextChoices):
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")


class Role(models.TextChoices):
    PENDING = "pending", _("No role yet")
    COUNTY_OFFICE = "county_office", _("County office")
    TOWNSHIP_OFFICE = "township_office", _("Township office")
    UNIT = "unit", _("Dispatching unit")
    TEAM_LEADER = "team_leader", _("Team leader")
    CADRE = "cadre", _("Cadre")
    INSPECTOR = "inspector", _("Inspector")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


ADMIN_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)
# Roles that use the admin console (leave approval, areas, users, audit).
STAFF_ROLES = {
    Role.COUNTY_OFFICE,
    Role.TOWNSHIP_OFFICE,
    Role.TEAM_LEADER,
    *ADMIN_ROLES,
}

# Which kind of scope each role carries.
AREA_SCOPED_ROLES = {
    Role.COUNTY_OFFICE: {AreaLevel.COUNTY},
    Role.TOWNSHIP_OFFICE: {AreaLevel.TOWNSHIP},
    Role.TEAM_LEADER: {AreaLevel.VILLAGE},
    Role.INSPECTOR: {AreaLevel.COUNTY, AreaLevel.TOWNSHIP},
}
UNIT_SCOPED_ROLES = {Role.UNIT}
SELF_SCOPED_ROLES = {Role.CADRE}


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Log in")
    LOGIN_FAILED = "login_failed", _("Failed log in")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGOUT = "logout", _("Log out")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    PASSWORD_CHANGE = "password_change", _("Password change")
    UNLOCK = "unlock", _("Unlock")
    USER_CREATE = "user_create", _("User created")
    USER_CHANGE = "user_change", _("User changed")
    ROLE_CHANGE = "role_change", _("Role changed")
    OBJECT_CREATE = "create", _("Created")
    OBJECT_CHANGE = "change", _("Changed")
    OBJECT_DELETE = "delete", _("Deleted")
    EXPORT = "export", _("Export")
    REVEAL = "reveal", _("Reveal personal numbers")
    PERMISSION_DENIED = "denied", _("Permission denied")
