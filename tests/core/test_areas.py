"""The administrative tree and units: the database keeps the invariants."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.choices import AreaKind, AreaLevel
from core.models import Area, DispatchingUnit
from tests.factories import make_county, make_township, make_village

pytestmark = pytest.mark.django_db


def _fails(callable_):
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()


def test_village_must_sit_under_a_township():
    make_county()
    _fails(
        lambda: Area.objects.create(
            level=AreaLevel.VILLAGE,
            kind=AreaKind.VILLAGE,
            name="孤村",
            parent=None,
            category="一般村",
            radius_m=1000,
        )
    )


def test_township_county_must_be_its_parent():
    county = make_county()
    other = make_county("别县")
    _fails(
        lambda: Area.objects.create(
            level=AreaLevel.TOWNSHIP, kind=AreaKind.TOWN, name="错镇", parent=county, county=other
        )
    )


def test_village_fields_only_on_villages():
    county = make_county()
    _fails(
        lambda: Area.objects.create(
            level=AreaLevel.TOWNSHIP,
            kind=AreaKind.TOWN,
            name="甲镇",
            parent=county,
            county=county,
            category="示范村",
        )
    )


def test_point_must_be_in_china_and_complete():
    township = make_township(make_county(), "甲镇")
    _fails(lambda: make_village(township, "远村", latitude=Decimal("60.0")))
    _fails(lambda: make_village(township, "半村", latitude=Decimal("40.0"), longitude=None))


def test_names_unique_within_parent_and_codes_unique():
    county = make_county(code="150523")
    township = make_township(county, "甲镇")
    make_village(township, "一村")
    _fails(lambda: make_village(township, "一村"))
    other = make_township(county, "乙镇")
    make_village(other, "一村")  # the same name elsewhere is fine
    _fails(lambda: make_county("另一县", code="150523"))


def test_clean_fills_tree_and_leaves_the_radius_to_the_county():
    county = make_county()
    township = make_township(county, "甲镇")
    village = Area(
        level=AreaLevel.VILLAGE,
        kind=AreaKind.GACHA,
        name="巴彦嘎查",
        parent=township,
        category="重点村",
    )
    village.full_clean()
    village.save()
    assert village.county == county and village.township == township
    assert village.radius_m is None  # the county's default radius (attendance settings)


def test_clean_refuses_kind_of_wrong_level():
    county = make_county()
    township = Area(level=AreaLevel.TOWNSHIP, kind=AreaKind.VILLAGE, name="错镇", parent=county)
    with pytest.raises(ValidationError):
        township.full_clean()


def test_unit_names_unique_per_county():
    county = make_county()
    DispatchingUnit.objects.create(county=county, name="县财政局", kind="经济部门", level="county")
    _fails(
        lambda: DispatchingUnit.objects.create(
            county=county, name="县财政局", kind="经济部门", level="county"
        )
    )
    _fails(
        lambda: DispatchingUnit.objects.create(
            county=county, name="县税务局", kind="财政部门", level="county"
        )
    )
