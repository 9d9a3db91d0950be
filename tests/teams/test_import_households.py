"""The households roster (帮扶户花名册): key 户主身份证号."""

from __future__ import annotations

import pytest
from django.utils import timezone

from core import crypto
from teams.models import Household
from tests.teams import factories as f
from tests.teams.test_import_kit import errors_of, household, id_number, roster_file, run

pytestmark = pytest.mark.django_db


def test_good_path_and_reupload(world):
    first = household(联系电话="0475-1234567")
    second = household(户主姓名="周　九", 户类型="监测户", 脱贫年度="", 家庭人口="6")
    data = roster_file("households", [first, second])
    result = run(world, "households", data, apply=True)
    assert result.ok and result.counts == {"new": 2, "changed": 0, "unchanged": 0}
    head = Household.objects.get(head_name="钱七")
    assert head.village == world.village and head.size == 4 and head.type == "脱贫户"
    assert head.year_out_of_poverty == 2019
    assert head.get_number("head_id_number") == first["户主身份证号"]
    assert head.head_id_number_hash == crypto.blind_index("id", first["户主身份证号"])
    assert head.get_number("phone") == "0475-1234567"
    other = Household.objects.get(head_name="周九")
    assert other.year_out_of_poverty is None and other.size == 6
    again = run(world, "households", data, apply=True)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 2}


def test_changes(world):
    record = household()
    run(world, "households", roster_file("households", [record]), apply=True)
    changed = dict(record, 家庭人口=5, 户类型="未脱贫户", 联系电话="", 村名称="一村")
    result = run(world, "households", roster_file("households", [changed]), apply=True)
    assert result.counts == {"new": 0, "changed": 1, "unchanged": 0}
    head = Household.objects.get()
    assert head.size == 5 and head.type == "未脱贫户" and head.phone_hash == ""


def test_household_moves_within_the_township(world):
    from tests.factories import make_village

    other = make_village(world.township, "四村")
    record = household()
    run(world, "households", roster_file("households", [record]), apply=True)
    moved = dict(record, 村名称="四村")
    assert (
        run(world, "households", roster_file("households", [moved]), apply=True).counts["changed"]
        == 1
    )
    assert Household.objects.get().village == other


def test_household_of_another_township_or_county(world):
    theirs = f.make_household(world.other_village, "钱七")
    far = f.make_household(world.far_village, "孙八")
    data = roster_file(
        "households",
        [
            household(户主姓名="钱七", 户主身份证号=theirs.get_number("head_id_number")),
            household(户主姓名="孙八", 户主身份证号=far.get_number("head_id_number")),
        ],
    )
    result = run(world, "households", data)
    assert errors_of(result) == [(2, "户主身份证号"), (3, "户主身份证号")]
    assert "其他乡镇" in result.errors[0]["message"]
    assert "其他旗县" in result.errors[1]["message"]


def test_a_village_of_another_township(world):
    result = run(world, "households", roster_file("households", [household("甲镇", "二村")]))
    assert errors_of(result) == [(2, "村名称")]
    result = run(world, "households", roster_file("households", [household("乙镇", "二村")]))
    assert errors_of(result) == [(2, "乡镇")]


def test_name_must_match(world):
    known = f.make_household(world.village, "钱七")
    record = household(户主姓名="钱八", 户主身份证号=known.get_number("head_id_number"))
    result = run(world, "households", roster_file("households", [record]))
    assert errors_of(result) == [(2, "户主姓名")]


def test_year_out_of_poverty_and_size(world):
    this_year = timezone.localdate().year
    data = roster_file(
        "households",
        [
            household(脱贫年度=this_year + 1),
            household(脱贫年度=2013),
            household(脱贫年度=this_year),
            household(家庭人口=0),
            household(家庭人口=31),
            household(家庭人口=2.5),
            household(户类型="贫困户"),
            household(户主身份证号=""),
        ],
    )
    result = run(world, "households", data)
    assert errors_of(result) == [
        (2, "脱贫年度"),
        (3, "脱贫年度"),
        (5, "家庭人口"),
        (6, "家庭人口"),
        (7, "家庭人口"),
        (8, "户类型"),
        (9, "户主身份证号"),
    ]
    assert f"不能晚于今年（{this_year}年）" in result.errors[0]["message"]
    assert result.errors[1]["message"] == "不能小于2014"


def test_duplicate_heads(world):
    number = id_number(birth="19650505")
    data = roster_file(
        "households", [household(户主身份证号=number), household(户主身份证号=number)]
    )
    assert errors_of(run(world, "households", data)) == [(3, "户主身份证号")]
