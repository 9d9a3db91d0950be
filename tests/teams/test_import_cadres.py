"""The cadres roster (驻村工作队花名册): key 身份证号; the cadre, their account,
their team membership."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.hashers import is_password_usable

from core import crypto
from core.choices import AuditAction, Role, UnitLevel
from core.models import AuditLog, DispatchingUnit, User
from teams.importers import RosterInvalid
from teams.models import Cadre, Membership, Team
from tests.factories import make_user
from tests.teams import factories as f
from tests.teams.test_import_kit import cadre, errors_of, id_number, mobile, roster_file, run

pytestmark = pytest.mark.django_db


def test_good_path_creates_cadres_accounts_team_and_memberships(world):
    first = cadre(
        姓名="张　伟",
        身份证号=id_number(birth="19820315"),
        驻村身份="第一书记",
        驻村开始日期=datetime.date(2021, 3, 15),
    )
    second = cadre(姓名="李秀英", 身份证号=id_number(birth="19900712"), 派出单位="县水利局")
    result = run(world, "cadres", roster_file("cadres", [first, second]), apply=True)
    assert result.ok and result.counts == {"new": 2, "changed": 0, "unchanged": 0}

    zhang = Cadre.objects.get(name="张伟")
    assert zhang.get_number("id_number") == first["身份证号"]
    assert zhang.id_number_hash == crypto.blind_index("id", first["身份证号"])
    assert zhang.id_number_masked == crypto.mask_id_number(first["身份证号"])
    assert zhang.get_number("phone") == first["手机号"]
    assert zhang.birth_date == datetime.date(1982, 3, 15) and zhang.sex in ("男", "女")
    assert (zhang.name_pinyin, zhang.name_initials) == ("zhangwei", "zw")
    assert zhang.county == world.county and zhang.unit == world.unit
    assert zhang.education == "大学本科" and zhang.rank == "科员" and zhang.agri_major is True
    assert zhang.rural_experience is False and zhang.political_status == "中共党员"

    account = zhang.user
    assert account.username == first["手机号"] and account.role == Role.CADRE
    assert account.full_name == "张伟" and not is_password_usable(account.password)
    assert account.scope_area is None and account.scope_unit is None and not account.is_staff
    assert User.objects.get(username=second["手机号"]).cadre.name == "李秀英"

    team = Team.objects.get(village=world.village)
    assert team.formed_on == datetime.date(2021, 3, 1)  # the earliest start
    roles = dict(Membership.objects.filter(team=team).values_list("cadre__name", "role"))
    assert roles == {"张伟": "第一书记", "李秀英": "工作队员"}
    unit = DispatchingUnit.objects.get(name="县水利局")
    assert unit.county == world.county and unit.level == UnitLevel.COUNTY
    assert unit.kind == "经济部门"

    entry = AuditLog.objects.get(action=AuditAction.OBJECT_CREATE)
    assert entry.actor == world.users["township"] and entry.object_id == str(world.township.pk)
    assert entry.detail == {
        "roster": "cadres",
        "counts": {"new": 2, "changed": 0, "unchanged": 0},
        "rows": 2,
        "file": "cadres.xlsx",
    }
    assert first["身份证号"] not in str(entry.detail)


def test_reupload_is_unchanged_and_writes_nothing_but_the_audit_row(world):
    data = roster_file("cadres", [cadre(), cadre(姓名="孙八")])
    run(world, "cadres", data, apply=True)
    snapshot = (
        list(Cadre.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values("username", "password")),
    )
    result = run(world, "cadres", data, apply=True)
    assert result.counts == {"new": 0, "changed": 0, "unchanged": 2}
    assert snapshot == (
        list(Cadre.objects.order_by("pk").values()),
        list(Membership.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values("username", "password")),
    )
    assert Team.objects.count() == 1


def test_changes_update_in_place(world):
    record = cadre()
    run(world, "cadres", roster_file("cadres", [record]), apply=True)
    new_phone = mobile()
    changed = dict(
        record, 职务="副局长", 驻村身份="工作队长", 手机号=new_phone, 派出单位="县公安局"
    )
    changed["单位类别"] = "政法部门"
    result = run(world, "cadres", roster_file("cadres", [changed]), apply=True)
    assert result.counts == {"new": 0, "changed": 1, "unchanged": 0}
    person = Cadre.objects.get()
    assert person.post == "副局长" and person.unit == world.other_unit
    assert person.get_number("phone") == new_phone and person.phone_masked.endswith(new_phone[-4:])
    assert person.user.username == new_phone  # the account follows the mobile number
    membership = Membership.objects.get()
    assert membership.role == "工作队长" and membership.end_date is None


def test_a_team_that_exists_is_joined(world):
    team = f.make_team(world.village, formed_on=datetime.date(2020, 1, 1))
    run(world, "cadres", roster_file("cadres", [cadre()]), apply=True)
    assert Team.objects.get() == team
    assert Membership.objects.get().team == team


def test_cadre_already_stationed_in_another_village_is_an_error(world):
    elsewhere = f.make_cadre(world.unit, "钱七")
    f.station(elsewhere, f.make_team(world.other_village))
    record = cadre(姓名="钱七", 身份证号=elsewhere.get_number("id_number"))
    result = run(world, "cadres", roster_file("cadres", [record]))
    assert errors_of(result) == [(2, "村名称")]
    assert "乙镇二村" in result.errors[0]["message"] and "调整" in result.errors[0]["message"]


def test_cadre_stationed_in_the_same_village_is_matched(world):
    person = f.make_cadre(world.unit, "钱七", phone="13900001111")
    f.station(person, f.make_team(world.village), start=datetime.date(2021, 3, 1))
    same = cadre(
        姓名="钱七",
        身份证号=person.get_number("id_number"),
        手机号="13900001111",
        职务="",
        职级="",
        所学专业="",
        是否涉农专业="否",
        驻村身份="工作队员",
        驻村开始日期=datetime.date(2021, 3, 1),
    )
    result = run(world, "cadres", roster_file("cadres", [same]), apply=True)
    # the factory's cadre had no account: the import gives one
    assert result.counts == {"new": 0, "changed": 1, "unchanged": 0}
    person.refresh_from_db()
    assert person.user.username == "13900001111"
    again = run(world, "cadres", roster_file("cadres", [same]))
    assert again.counts == {"new": 0, "changed": 0, "unchanged": 1}


def test_village_of_another_township(world):
    result = run(world, "cadres", roster_file("cadres", [cadre("甲镇", "二村")]), user="county")
    assert errors_of(result) == [(2, "村名称")]
    assert "“二村”不是甲镇的村（它属于乙镇）" in result.errors[0]["message"]
    result = run(world, "cadres", roster_file("cadres", [cadre("甲镇", "五村")]), user="county")
    assert "甲镇没有“五村”这个村" in result.errors[0]["message"]
    result = run(world, "cadres", roster_file("cadres", [cadre("丁镇", "一村")]), user="county")
    assert errors_of(result) == [(2, "乡镇")]


def test_township_cannot_import_into_another(world):
    data = roster_file("cadres", [cadre("乙镇", "二村")])
    result = run(world, "cadres", data, user="township")
    assert errors_of(result) == [(2, "乡镇")]
    assert run(world, "cadres", data, user="other_township").ok
    assert run(world, "cadres", data, user="county").ok
    with pytest.raises(RosterInvalid):
        run(world, "cadres", data, user="township", apply=True)
    assert not Cadre.objects.exists()


def test_names_must_match_the_cadre_of_that_id_number(world):
    person = f.make_cadre(world.unit, "钱七")
    record = cadre(姓名="钱八", 身份证号=person.get_number("id_number"))
    result = run(world, "cadres", roster_file("cadres", [record]))
    assert errors_of(result) == [(2, "姓名")]
    assert "钱七" not in result.errors[0]["message"]  # the stored name is not revealed


def test_cadre_of_another_county(world):
    far = f.make_cadre(world.far_unit, "钱七")
    record = cadre(姓名="钱七", 身份证号=far.get_number("id_number"))
    result = run(world, "cadres", roster_file("cadres", [record]))
    assert errors_of(result) == [(2, "身份证号")]
    assert "其他旗县" in result.errors[0]["message"]


def test_phone_conflicts(world):
    make_user("13912345678", Role.COUNTY_OFFICE, scope_area=world.county)
    taken = f.make_cadre(world.unit, "钱七", phone="13900002222")
    shared = mobile()
    data = roster_file(
        "cadres",
        [
            cadre(手机号="13912345678"),
            cadre(手机号="13900002222"),
            cadre(手机号=shared),
            cadre(手机号=shared),
        ],
    )
    result = run(world, "cadres", data)
    assert errors_of(result) == [(2, "手机号"), (3, "手机号"), (5, "手机号")]
    assert "另一个账号" in result.errors[0]["message"]
    assert "另一名干部" in result.errors[1]["message"]
    assert "与第4行的手机号相同" in result.errors[2]["message"]
    assert taken.phone_hash


def test_duplicate_id_numbers_in_the_file(world):
    number = id_number()
    data = roster_file("cadres", [cadre(身份证号=number), cadre(身份证号=number, 姓名="孙八")])
    result = run(world, "cadres", data)
    assert errors_of(result) == [(3, "身份证号")]
    assert "与第2行重复" in result.errors[0]["message"]


def test_bad_id_numbers(world):
    good = id_number()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    data = roster_file(
        "cadres",
        [
            cadre(身份证号=wrong_check),
            cadre(身份证号="150523800101001"),
            cadre(身份证号="15052319801301001X"),
            cadre(身份证号="1505231980010100"),
        ],
    )
    result = run(world, "cadres", data)
    messages = {e["row"]: e["message"] for e in result.errors}
    assert messages == {
        2: "身份证号校验位错误",
        3: "不支持15位旧身份证号，请填写18位身份证号",
        4: "身份证号中的出生日期不存在",
        5: "身份证号应为18位",
    }


def test_unknown_region_code_is_a_warning(world):
    record = cadre(身份证号=id_number(region="999999"))
    result = run(world, "cadres", roster_file("cadres", [record]), apply=True)
    assert result.ok and result.counts["new"] == 1
    assert [(w["row"], w["column"]) for w in result.warnings] == [(2, "身份证号")]
    assert "999999" in result.warnings[0]["message"]


def test_unit_kind_must_agree(world):
    data = roster_file(
        "cadres",
        [
            cadre(派出单位="县财政局", 单位类别="党群部门"),
            cadre(派出单位="县文旅局", 单位类别="党群部门"),
            cadre(派出单位="县文旅局", 单位类别="经济部门"),
        ],
    )
    result = run(world, "cadres", data)
    assert errors_of(result) == [(2, "单位类别"), (4, "单位类别")]
    assert "经济部门" in result.errors[0]["message"]


def test_required_and_choice_cells(world):
    data = roster_file(
        "cadres", [cadre(姓名="", 学历="大专", 驻村身份="队员", 驻村开始日期="2021-02-30")]
    )
    result = run(world, "cadres", data)
    assert errors_of(result) == [(2, "姓名"), (2, "学历"), (2, "驻村身份"), (2, "驻村开始日期")]


def test_one_bad_row_and_nothing_is_written(world):
    users = User.objects.count()
    data = roster_file("cadres", [cadre(), cadre(), cadre(学历="小学")])
    with pytest.raises(RosterInvalid) as caught:
        run(world, "cadres", data, apply=True)
    assert errors_of(caught.value.result) == [(4, "学历")]
    assert caught.value.result.counts == {"new": 2, "changed": 0, "unchanged": 0}
    assert not Cadre.objects.exists() and not Team.objects.exists()
    assert User.objects.count() == users
    assert not DispatchingUnit.objects.filter(name="县水利局").exists()
    assert not AuditLog.objects.filter(action=AuditAction.OBJECT_CREATE).exists()
