"""The villages roster (村情花名册): key 乡镇 + 村名称."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.choices import AreaLevel, AuditAction
from core.models import Area, AuditLog
from teams.importers import RosterError, RosterInvalid
from tests.teams.test_import_kit import errors_of, roster_file, run, table, village, xlsx

pytestmark = pytest.mark.django_db


def test_county_office_creates_villages_and_missing_townships(world):
    data = roster_file(
        "villages",
        [
            village("甲镇", "新村"),
            village("丁乡", "东村", 村情类别=""),
            village("白音苏木", "巴彦嘎查"),
            village("保安农场", "一分场"),
            village("城关街道", "东关社区"),
            village("新兴镇", "西村"),
        ],
    )
    result = run(world, "villages", data, user="county", apply=True)
    assert result.ok and result.counts == {"new": 6, "changed": 0, "unchanged": 0}
    kinds = dict(
        Area.objects.filter(county=world.county, level=AreaLevel.TOWNSHIP).values_list(
            "name", "kind"
        )
    )
    assert kinds["丁乡"] == "乡" and kinds["白音苏木"] == "苏木" and kinds["保安农场"] == "场"
    assert kinds["城关街道"] == "街道" and kinds["新兴镇"] == "镇" and kinds["甲镇"] == "镇"
    assert [w["message"] for w in result.warnings if w["column"] == "乡镇"][0].startswith(
        "将新建乡镇“丁乡”"
    )
    new = Area.objects.get(name="新村")
    assert new.township == world.township and new.parent == world.township
    assert new.county == world.county and new.kind == "村"
    assert new.category == "一般村" and new.condition == "贫困村" and new.radius_m == 800
    assert new.latitude == Decimal("43.601234") and new.longitude == Decimal("121.301234")
    assert Area.objects.get(name="东村").condition == ""
    assert Area.objects.get(name="巴彦嘎查").kind == "嘎查"
    assert Area.objects.get(name="一分场").kind == "分场"
    assert Area.objects.get(name="东关社区").kind == "社区"


def test_reupload_changes_nothing(world):
    data = roster_file("villages", [village("甲镇", "新村"), village("丁乡", "东村")])
    run(world, "villages", data, user="county", apply=True)
    before = list(Area.objects.order_by("pk").values())
    result = run(world, "villages", data, user="county", apply=True)
    assert result.counts == {"new": 0, "changed": 0, "unchanged": 2}
    assert not result.warnings
    assert list(Area.objects.order_by("pk").values()) == before
    assert AuditLog.objects.filter(action=AuditAction.OBJECT_CREATE).count() == 2


def test_changed_villages_are_updated(world):
    data = roster_file(
        "villages",
        [village("甲镇", "一村", 村分类="示范村", 纬度="", 经度="", **{"签到半径（米）": ""})],
    )
    result = run(world, "villages", data, user="township", apply=True)
    assert result.counts == {"new": 0, "changed": 1, "unchanged": 0}
    world.village.refresh_from_db()
    assert world.village.category == "示范村"
    assert world.village.latitude is None and world.village.longitude is None
    assert world.village.radius_m is None  # blank: the county's default radius


def test_left_out_optional_columns_keep_what_the_portal_has(world):
    rows = [["乡镇", "村名称", "村分类"], ["甲镇", "一村", "重点村"]]
    result = run(world, "villages", xlsx(rows), user="township", apply=True)
    assert result.counts["changed"] == 1
    world.village.refresh_from_db()
    assert world.village.category == "重点村"
    assert world.village.latitude == Decimal("43.600000") and world.village.radius_m == 1000
    assert world.village.condition == "贫困村"


def test_check_writes_nothing(world):
    count = Area.objects.count()
    result = run(
        world, "villages", roster_file("villages", [village("丁乡", "东村")]), user="county"
    )
    assert result.counts["new"] == 1
    assert Area.objects.count() == count
    assert not AuditLog.objects.filter(action=AuditAction.OBJECT_CREATE).exists()


def test_township_office_may_only_upload_its_own_township(world):
    data = roster_file(
        "villages", [village("甲镇", "新村"), village("乙镇", "南村"), village("丁乡", "东村")]
    )
    result = run(world, "villages", data, user="township")
    assert errors_of(result) == [(3, "乡镇"), (4, "乡镇")]
    assert "只能导入本乡镇（甲镇）" in result.errors[0]["message"]
    with pytest.raises(RosterInvalid):
        run(world, "villages", data, user="township", apply=True)
    assert not Area.objects.filter(name__in=["新村", "南村", "东村", "丁乡"]).exists()


def test_township_office_creates_villages_of_its_township_but_never_a_township(world):
    result = run(world, "villages", roster_file("villages", [village("甲镇", "新村")]), apply=True)
    assert result.counts["new"] == 1
    assert Area.objects.get(name="新村").township == world.township
    assert not Area.objects.filter(level=AreaLevel.TOWNSHIP, name="丁乡").exists()


def test_same_village_name_in_two_townships_is_fine(world):
    data = roster_file("villages", [village("甲镇", "前进村"), village("乙镇", "前进村")])
    result = run(world, "villages", data, user="county", apply=True)
    assert result.counts["new"] == 2
    assert Area.objects.filter(name="前进村").count() == 2


def test_duplicate_keys_in_the_file(world):
    data = roster_file(
        "villages", [village("甲镇", "新村"), village("甲镇", "新村", 村分类="示范村")]
    )
    result = run(world, "villages", data, user="county")
    assert errors_of(result) == [(3, "村名称")]
    assert "与第2行重复" in result.errors[0]["message"]


def test_cell_errors(world):
    data = roster_file(
        "villages",
        [
            village("甲镇", "村一", 村分类="好村"),
            village("甲镇", "村二", 纬度=60),
            village("甲镇", "村三", 经度=""),
            village("甲镇", "村四", **{"签到半径（米）": 5}),
            village("甲镇", "", 村情类别="富裕村"),
            village("甲镇", "村六", 纬度="北纬43"),
        ],
    )
    result = run(world, "villages", data, user="county")
    assert errors_of(result) == [
        (2, "村分类"),
        (3, "纬度"),
        (4, "经度"),
        (5, "签到半径（米）"),
        (6, "村名称"),
        (6, "村情类别"),
        (7, "纬度"),
    ]
    messages = [e["message"] for e in result.errors]
    assert "可选：示范村、重点村、一般村" in messages[0]
    assert messages[1] == "应在3到54之间"
    assert messages[2] == "纬度和经度要么都填，要么都不填"
    assert messages[4] == "此项为必填项，不能为空"


def test_only_one_coordinate_column(world):
    rows = [["乡镇", "村名称", "村分类", "纬度"], ["甲镇", "新村", "一般村", 43.5]]
    result = run(world, "villages", xlsx(rows), user="county")
    assert errors_of(result) == [(2, "纬度")]


def test_coordinates_are_rounded_to_six_places(world):
    data = roster_file("villages", [village("甲镇", "新村", 纬度=43.60123456, 经度="121.3")])
    run(world, "villages", data, user="county", apply=True)
    area = Area.objects.get(name="新村")
    assert area.latitude == Decimal("43.601235") and area.longitude == Decimal("121.300000")
    again = run(world, "villages", data, user="county")
    assert again.counts["unchanged"] == 1


def test_headers_with_stars_and_a_title_row(world):
    data = xlsx(
        table("villages", [village("甲镇", "新村")], stars=True), title_rows=[["测试县村情"]]
    )
    result = run(world, "villages", data, user="county")
    assert result.ok and result.counts["new"] == 1


def test_missing_required_header_is_a_whole_file_error(world):
    with pytest.raises(RosterError) as caught:
        run(world, "villages", xlsx([["乡镇", "村名称"], ["甲镇", "新村"]]), user="county")
    assert "村分类" in caught.value.message
