"""The pairings roster (结对帮扶花名册): key 帮扶干部身份证号 + 户主身份证号."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.hashers import is_password_usable

from core.choices import Role, UnitKind
from core.models import DispatchingUnit, User
from teams.importers import RosterInvalid
from teams.models import Cadre, Membership, Pairing
from tests.teams import factories as f
from tests.teams.test_import_kit import errors_of, id_number, mobile, pairing, roster_file, run

pytestmark = pytest.mark.django_db


def _people(world):
    person = f.make_cadre(world.unit, "王五", phone="13700001234")
    home = f.make_household(world.village, "李四")
    return (
        person,
        home,
        {"姓名": "王五", "身份证号": person.get_number("id_number"), "手机号": "13700001234"},
        {"户主姓名": "李四", "户主身份证号": home.get_number("head_id_number")},
    )


def test_known_cadre_and_household(world):
    person, home, who, whom = _people(world)
    data = roster_file("pairings", [pairing(dict(who, 派出单位="县财政局"), whom)])
    result = run(world, "pairings", data, apply=True)
    assert result.ok and result.counts == {"new": 1, "changed": 0, "unchanged": 0}
    assert not result.warnings
    made = Pairing.objects.get()
    assert made.cadre == person and made.household == home
    assert made.start_date == datetime.date(2021, 4, 1) and made.end_date is None
    again = run(world, "pairings", data, apply=True)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 1}
    moved = roster_file(
        "pairings", [pairing(who, whom, 结对开始日期="2021年5月1日", 帮扶干部手机号="")]
    )
    assert run(world, "pairings", moved, apply=True).counts["changed"] == 1
    assert Pairing.objects.get().start_date == datetime.date(2021, 5, 1)


def test_unknown_cadre_is_created_not_stationed(world):
    _, home, _, whom = _people(world)
    second = f.make_household(world.village, "赵六")
    new = {"姓名": "吴十", "身份证号": id_number(), "手机号": mobile(), "派出单位": "县农业局"}
    data = roster_file(
        "pairings",
        [
            pairing(new, whom),
            pairing(new, {"户主姓名": "赵六", "户主身份证号": second.get_number("head_id_number")}),
        ],
    )
    result = run(world, "pairings", data, apply=True)
    assert result.counts == {"new": 2, "changed": 0, "unchanged": 0}
    assert [(w["row"], w["column"]) for w in result.warnings] == [(2, "派出单位")]
    created = Cadre.objects.get(name="吴十")
    assert created.get_number("id_number") == new["身份证号"]
    assert created.unit.name == "县农业局" and created.unit.kind == UnitKind.OTHER
    assert created.education == "" and created.political_status == ""
    assert not Membership.objects.filter(cadre=created).exists()
    assert created.user.username == new["手机号"] and created.user.role == Role.CADRE
    assert not is_password_usable(created.user.password)
    assert Pairing.objects.filter(cadre=created).count() == 2
    assert DispatchingUnit.objects.filter(name="县农业局").count() == 1


def test_new_cadre_needs_phone_and_unit(world):
    _, _, _, whom = _people(world)
    new = {"姓名": "吴十", "身份证号": id_number(), "手机号": "", "派出单位": ""}
    result = run(world, "pairings", roster_file("pairings", [pairing(new, whom)]))
    assert errors_of(result) == [(2, "帮扶干部手机号"), (2, "派出单位")]
    assert "新增干部时必须填写" in result.errors[0]["message"]


def test_household_must_be_known_and_ours(world):
    _, _, who, _ = _people(world)
    theirs = f.make_household(world.other_village, "孙八")
    unknown = {"户主姓名": "周九", "户主身份证号": id_number(birth="19600101")}
    other = {"户主姓名": "孙八", "户主身份证号": theirs.get_number("head_id_number")}
    data = roster_file("pairings", [pairing(who, unknown), pairing(who, other)])
    result = run(world, "pairings", data)
    assert errors_of(result) == [(2, "户主身份证号"), (3, "户主身份证号")]
    # the same words for "unknown" and "not yours": nothing leaks about other townships
    assert result.errors[0]["message"] == result.errors[1]["message"]
    assert run(world, "pairings", roster_file("pairings", [pairing(who, other)]), user="county").ok


def test_household_with_another_current_cadre(world):
    person, home, who, whom = _people(world)
    helper = f.make_cadre(world.unit, "郑十一")
    f.pair(helper, home)
    result = run(world, "pairings", roster_file("pairings", [pairing(who, whom)]))
    assert errors_of(result) == [(2, "帮扶干部身份证号")]
    assert "郑十一" in result.errors[0]["message"]
    ended = Pairing.objects.get()
    ended.end_date = datetime.date(2021, 3, 31)
    ended.save()
    assert run(world, "pairings", roster_file("pairings", [pairing(who, whom)])).ok


def test_one_household_twice_in_the_file(world):
    person, home, who, whom = _people(world)
    other = f.make_cadre(world.unit, "郑十一")
    second = {"姓名": "郑十一", "身份证号": other.get_number("id_number")}
    data = roster_file("pairings", [pairing(who, whom), pairing(second, whom)])
    result = run(world, "pairings", data)
    assert errors_of(result) == [(3, "户主身份证号")]
    assert "第2行" in result.errors[0]["message"]
    same = roster_file("pairings", [pairing(who, whom), pairing(who, whom)])
    assert errors_of(run(world, "pairings", same)) == [(3, "户主身份证号")]


def test_names_must_match(world):
    _, _, who, whom = _people(world)
    other = f.make_household(world.village, "赵六")
    data = roster_file(
        "pairings",
        [
            pairing(dict(who, 姓名="王六"), whom),
            pairing(who, {"户主姓名": "赵七", "户主身份证号": other.get_number("head_id_number")}),
        ],
    )
    result = run(world, "pairings", data)
    assert errors_of(result) == [(2, "帮扶干部姓名"), (3, "户主姓名")]


def test_known_cadre_with_other_phone_or_unit_is_a_warning(world):
    _, _, who, whom = _people(world)
    data = roster_file(
        "pairings", [pairing(dict(who, 手机号="13700009999", 派出单位="县公安局"), whom)]
    )
    result = run(world, "pairings", data, apply=True)
    assert result.ok
    assert [w["column"] for w in result.warnings] == ["帮扶干部手机号", "派出单位"]
    assert Cadre.objects.get(name="王五").get_number("phone") == "13700001234"


def test_new_cadre_rows_must_agree(world):
    _, home, _, whom = _people(world)
    second = f.make_household(world.village, "赵六")
    new = {"姓名": "吴十", "身份证号": id_number(), "手机号": mobile(), "派出单位": "县农业局"}
    data = roster_file(
        "pairings",
        [
            pairing(new, whom),
            pairing(
                dict(new, 手机号=mobile()),
                {"户主姓名": "赵六", "户主身份证号": second.get_number("head_id_number")},
            ),
        ],
    )
    result = run(world, "pairings", data)
    assert errors_of(result) == [(3, "帮扶干部手机号")]


def test_phone_of_a_new_cadre_already_an_account(world):
    _, _, _, whom = _people(world)
    User.objects.create(username="13711112222", role=Role.CADRE)
    new = {"姓名": "吴十", "身份证号": id_number(), "手机号": "13711112222", "派出单位": "县财政局"}
    result = run(world, "pairings", roster_file("pairings", [pairing(new, whom)]))
    assert errors_of(result) == [(2, "帮扶干部手机号")]
    with pytest.raises(RosterInvalid):
        run(world, "pairings", roster_file("pairings", [pairing(new, whom)]), apply=True)
    assert not Cadre.objects.filter(name="吴十").exists()
