"""Building blocks for tests: a small two-county world with a user per role."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from core.choices import STAFF_ROLES, AreaKind, AreaLevel, Role, UnitKind, UnitLevel
from core.models import Area, DispatchingUnit, User

PASSWORD = "Test#Passw0rd-2026"


def make_county(name: str = "测试县", code: str = "") -> Area:
    return Area.objects.create(level=AreaLevel.COUNTY, kind=AreaKind.COUNTY, name=name, code=code)


def make_township(county: Area, name: str) -> Area:
    return Area.objects.create(
        level=AreaLevel.TOWNSHIP, kind=AreaKind.TOWN, name=name, parent=county, county=county
    )


def make_village(township: Area, name: str, **extra) -> Area:
    values = {
        "category": "一般村",
        "condition": "贫困村",
        "latitude": Decimal("43.600000"),
        "longitude": Decimal("121.300000"),
        "radius_m": 1000,
    }
    values.update(extra)
    return Area.objects.create(
        level=AreaLevel.VILLAGE,
        kind=AreaKind.VILLAGE,
        name=name,
        parent=township,
        county_id=township.county_id,
        township=township,
        **values,
    )


def make_unit(county: Area, name: str, kind: str = UnitKind.ECONOMIC) -> DispatchingUnit:
    return DispatchingUnit.objects.create(
        county=county, name=name, kind=kind, level=UnitLevel.COUNTY
    )


def make_user(username: str, role: str, password: str = PASSWORD, **scope) -> User:
    user = User(
        username=username,
        full_name=username,
        role=role,
        is_staff=role in STAFF_ROLES,
        **scope,
    )
    user.set_password(password)
    user.password_changed_at = timezone.now()
    user.save()
    return user


@dataclass
class World:
    county: Area
    township: Area
    village: Area
    other_township: Area
    other_village: Area
    other_county: Area
    far_township: Area
    far_village: Area
    unit: DispatchingUnit
    other_unit: DispatchingUnit
    far_unit: DispatchingUnit
    users: dict[str, User] = field(default_factory=dict)


def make_world() -> World:
    county = make_county("测试县", "150001")
    township = make_township(county, "甲镇")
    village = make_village(township, "一村")
    other_township = make_township(county, "乙镇")
    other_village = make_village(other_township, "二村")
    other_county = make_county("邻县", "150002")
    far_township = make_township(other_county, "丙镇")
    far_village = make_village(far_township, "三村")
    unit = make_unit(county, "县财政局")
    other_unit = make_unit(county, "县公安局", UnitKind.POLITICAL_LEGAL)
    far_unit = make_unit(other_county, "邻县财政局")
    world = World(
        county=county,
        township=township,
        village=village,
        other_township=other_township,
        other_village=other_village,
        other_county=other_county,
        far_township=far_township,
        far_village=far_village,
        unit=unit,
        other_unit=other_unit,
        far_unit=far_unit,
    )
    world.users = {
        "county": make_user("county", Role.COUNTY_OFFICE, scope_area=county),
        "township": make_user("township", Role.TOWNSHIP_OFFICE, scope_area=township),
        "other_township": make_user(
            "other_township", Role.TOWNSHIP_OFFICE, scope_area=other_township
        ),
        "far_county": make_user("far_county", Role.COUNTY_OFFICE, scope_area=other_county),
        "unit": make_user("unit", Role.UNIT, scope_unit=unit),
        "leader": make_user("leader", Role.TEAM_LEADER, scope_area=village),
        "cadre": make_user("cadre", Role.CADRE),
        "inspector": make_user("inspector", Role.INSPECTOR, scope_area=township),
        "sysadmin": make_user("sysadmin", Role.SYSTEM_ADMIN),
        "secadmin": make_user("secadmin", Role.SECURITY_ADMIN),
        "auditadmin": make_user("auditadmin", Role.AUDIT_ADMIN),
    }
    return world
