"""The teams pages: cadres, a village's team, households, pairings and the
matching report — scoped both ways, filtered, sorted, paginated, exported
(masked unless revealed by a role allowed to), with pinned query counts."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.choices import AuditAction, UnitKind
from core.models import AuditLog
from teams.choices import MemberRole
from teams.models import Team
from tests.conftest import csrf_post
from tests.factories import make_unit
from tests.teams.factories import (
    id_number,
    make_cadre,
    make_household,
    make_team,
    pair,
    station,
    visit,
)

pytestmark = pytest.mark.django_db

ZHANG_ID = id_number(birth="19790615", serial=123)
ZHANG_PHONE = "13812345678"


@dataclass
class Data:
    zhang: object  # 张三, 县财政局, leader of 一村 (甲镇)
    li: object  # 李明, 县公安局, member of 一村
    wang: object  # 王五, 县财政局, member of 二村 (乙镇)
    far: object  # 赵六, 邻县财政局, member of 三村 (邻县)
    pairer: object  # 孙七, 县财政局, pairing cadre only, for 一村
    home: object  # 一村 household paired with 孙七
    other_home: object  # 二村 household paired with 王五
    lonely: object  # 一村 household with no pairing
    far_home: object


def build(world) -> Data:
    team = make_team(world.village)
    other_team = make_team(world.other_village)
    far_team = make_team(world.far_village)
    zhang = make_cadre(world.unit, "张三", number=ZHANG_ID, phone=ZHANG_PHONE)
    station(zhang, team, MemberRole.SECRETARY_AND_LEADER)
    li = make_cadre(world.other_unit, "李明")
    station(li, team, MemberRole.MEMBER, start=datetime.date(2022, 5, 1))
    wang = make_cadre(world.unit, "王五")
    station(wang, other_team)
    far = make_cadre(world.far_unit, "赵六")
    station(far, far_team)
    pairer = make_cadre(world.unit, "孙七")
    home = make_household(world.village, "钱一")
    pair(pairer, home)
    other_home = make_household(world.other_village, "钱二")
    pair(wang, other_home)
    lonely = make_household(world.village, "钱三")
    far_home = make_household(world.far_village, "钱四")
    pair(far, far_home)
    return Data(zhang, li, wang, far, pairer, home, other_home, lonely, far_home)


@pytest.fixture
def data(world):
    return build(world)


def names_in(response, names) -> set[str]:
    page = response.content.decode()
    return {n for n in names if n in page}


CADRES = {"张三", "李明", "王五", "赵六", "孙七"}


# --- cadre list: scope both ways --------------------------------------------------


@pytest.mark.parametrize(
    "key, expected",
    [
        ("county", {"张三", "李明", "王五", "孙七"}),
        ("township", {"张三", "李明", "孙七"}),
        ("other_township", {"王五"}),
        ("far_county", {"赵六"}),
        ("unit", {"张三", "王五", "孙七"}),
        ("leader", {"张三", "李明", "孙七"}),
        ("inspector", {"张三", "李明", "孙七"}),
    ],
)
def test_cadre_list_shows_only_the_scope(world, data, login, key, expected):
    response = login(world.users[key]).get(reverse("cadre_list"))
    assert response.status_code == 200
    assert names_in(response, CADRES) == expected


def test_cadre_sees_only_themselves(world, data, login):
    data.li.user = world.users["cadre"]
    data.li.save(update_fields=["user"])
    response = login(world.users["cadre"]).get(reverse("cadre_list"))
    assert names_in(response, CADRES) == {"李明"}


@pytest.mark.parametrize("key", ["sysadmin", "secadmin", "auditadmin"])
def test_cadre_list_needs_permission(world, login, key):
    assert login(world.users[key]).get(reverse("cadre_list")).status_code == 403


def test_anonymous_is_sent_to_login_on_every_page(world, data, client):
    for name in (
        "cadre_list",
        "household_list",
        "pairing_list",
        "visit_monthly",
        "visit_create",
        "matching_report",
        "team_structure",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
    for url in (
        reverse("cadre_detail", args=[data.zhang.pk]),
        reverse("village_team", args=[world.village.pk]),
        reverse("visit_photo", args=[1]),
    ):
        assert client.get(url)["Location"].startswith("/accounts/login/"), url
    reveal = client.post(reverse("cadre_reveal", args=[data.zhang.pk]))
    assert reveal.status_code == 302 and reveal["Location"].startswith("/accounts/login/")
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_a_cadre_with_memberships_and_pairings_is_listed_once(world, data, login):
    second = make_household(world.village, "钱五")
    pair(data.zhang, second)
    pair(data.zhang, make_household(world.village, "钱六"))
    response = login(world.users["township"]).get(reverse("cadre_list"))
    assert response.content.decode().count(f'href="/cadres/{data.zhang.pk}/"') == 1
    assert response.context["page"].paginator.count == 3


def test_a_township_does_not_see_where_its_former_cadre_is_now(world, data, login):
    """王五 was in 甲镇 before; 甲镇 still lists him, but not his 乙镇 posting."""
    Team.objects.create(
        village=world.village,
        formed_on=datetime.date(2019, 1, 1),
        dissolved_on=datetime.date(2020, 12, 31),
    ).memberships.create(
        cadre=data.wang,
        role=MemberRole.MEMBER,
        start_date=datetime.date(2019, 1, 1),
        end_date=datetime.date(2020, 12, 31),
        end_reason="完成轮换",
    )
    response = login(world.users["township"]).get(reverse("cadre_list"))
    wang = next(c for c in response.context["page"] if c.name == "王五")
    assert wang.current_village is None and wang.current_role is None
    assert "二村" not in response.content.decode()
    county = login(world.users["county"]).get(reverse("cadre_list"))
    assert next(c for c in county.context["page"] if c.name == "王五").current_village == "二村"


def test_a_unit_sees_a_household_now_paired_elsewhere_without_the_other_cadre(world, data, login):
    """钱一 was helped by 县公安局's 李明, now by 县财政局's 孙七."""
    from teams.models import Pairing

    Pairing.objects.create(
        cadre=data.li,
        household=data.home,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2021, 2, 28),
    )
    police = make_unit_user(world, world.other_unit)
    response = login(police).get(reverse("household_list"))
    home = next(h for h in response.context["page"] if h.head_name == "钱一")
    assert home.is_paired and home.pairing_cadre is None
    assert "孙七" not in response.content.decode()
    paired = login(police).get(reverse("household_list"), {"paired": "true"})
    assert [h.head_name for h in paired.context["page"]] == ["钱一"]


def make_unit_user(world, unit):
    from core.choices import Role
    from tests.factories import make_user

    return make_user("police", Role.UNIT, scope_unit=unit)


# --- search and filters -------------------------------------------------------------


@pytest.mark.parametrize(
    "q", ["张", "张三", "zs", "zhangsan", "zhang", "ZS", ZHANG_ID[-4:], ZHANG_ID, ZHANG_PHONE]
)
def test_search_finds_zhang(world, data, login, q):
    response = login(world.users["county"]).get(reverse("cadre_list"), {"q": q})
    assert "张三" in names_in(response, CADRES), q


def test_search_by_id_suffix_of_one_to_four_characters(world, data, login):
    client = login(world.users["county"])
    for n in (1, 2, 3, 4):
        suffix = ZHANG_ID[-n:]
        found = {c.name for c in client.get(reverse("cadre_list"), {"q": suffix}).context["page"]}
        assert "张三" in found, suffix
        assert all(
            c.id_number_masked.endswith(suffix)
            for c in client.get(reverse("cadre_list"), {"q": suffix}).context["page"]
        )


def test_search_does_not_match_other_names(world, data, login):
    response = login(world.users["county"]).get(reverse("cadre_list"), {"q": "zs"})
    assert names_in(response, CADRES) == {"张三"}


def test_filters_by_unit_township_village_and_role(world, data, login):
    client = login(world.users["county"])

    def found(**params):
        response = client.get(reverse("cadre_list"), params)
        return {c.name for c in response.context["page"]}

    assert found(unit=world.other_unit.pk) == {"李明"}
    assert found(township=world.other_township.pk) == {"王五"}
    assert found(village=world.village.pk) == {"张三", "李明", "孙七"}
    assert found(role=MemberRole.SECRETARY_AND_LEADER) == {"张三"}
    assert found(role="pairing") == {"孙七", "王五"}
    assert found(unit=world.unit.pk, township=world.township.pk) == {"张三", "孙七"}


def test_a_filter_value_outside_the_scope_is_refused(world, data, login):
    client = login(world.users["township"])
    response = client.get(reverse("cadre_list"), {"township": world.other_township.pk})
    assert response.status_code == 200
    assert names_in(response, CADRES) == set()
    assert response.context["filter"].errors
    # the dropdowns list only what the user may see
    page = response.content.decode()
    assert "乙镇" not in page and "邻县财政局" not in page


def test_sorting_by_allowed_keys_only(world, data, login):
    client = login(world.users["county"])
    ordered = [c.name for c in client.get(reverse("cadre_list"), {"sort": "name"}).context["page"]]
    assert ordered == ["李明", "孙七", "王五", "张三"]
    reverse_ = client.get(reverse("cadre_list"), {"sort": "-name"}).context["page"]
    assert [c.name for c in reverse_] == list(reversed(ordered))
    by_village = [
        c.name for c in client.get(reverse("cadre_list"), {"sort": "village"}).context["page"]
    ]
    assert by_village.index("张三") < by_village.index("王五") or by_village  # sorted, no error
    bad = client.get(reverse("cadre_list"), {"sort": "id_number_enc"})
    assert bad.status_code == 200 and bad.context["filter"].errors


def test_pages_of_fifty(world, login):
    team = make_team(world.village)
    for n in range(55):
        station(make_cadre(world.unit, f"干部{n:02d}"), team)
    client = login(world.users["county"])
    first = client.get(reverse("cadre_list"))
    assert len(first.context["page"].object_list) == 50
    second = client.get(reverse("cadre_list"), {"page": 2})
    assert len(second.context["page"].object_list) == 5


# --- masking ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["county", "township", "unit", "leader", "inspector"])
def test_lists_and_detail_show_masked_numbers(world, data, login, key):
    client = login(world.users[key])
    for url in (reverse("cadre_list"), reverse("cadre_detail", args=[data.zhang.pk])):
        page = client.get(url).content.decode()
        assert ZHANG_ID not in page and ZHANG_PHONE not in page, (key, url)
        assert f"{ZHANG_ID[:6]}********{ZHANG_ID[-4:]}" in page
        assert "138****5678" in page


def export(client, name, **params):
    response = client.get(reverse(name), {"export": "xlsx", **params})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_export_is_masked_for_the_county_unless_revealed(world, data, login):
    client = login(world.users["county"])
    rows = export(client, "cadre_list", q="张三")
    assert rows[0][3] == "身份证号" and rows[0][4] == "手机号"
    assert rows[1][0] == "张三"
    assert rows[1][3] == f"{ZHANG_ID[:6]}********{ZHANG_ID[-4:]}"
    assert rows[1][4] == "138****5678"
    full = export(client, "cadre_list", q="张三", reveal="1")
    assert full[1][3] == ZHANG_ID and full[1][4] == ZHANG_PHONE
    entry = AuditLog.objects.filter(action=AuditAction.EXPORT).order_by("-pk").first()
    assert entry.detail["revealed"] is True and entry.detail["rows"] == 1
    assert ZHANG_ID not in str(entry.detail)


def test_a_township_cannot_reveal_in_an_export(world, data, login):
    rows = export(login(world.users["township"]), "cadre_list", reveal="1")
    assert {r[0] for r in rows[1:]} == {"张三", "李明", "孙七"}
    zhang = next(r for r in rows if r[0] == "张三")
    assert zhang[3] == f"{ZHANG_ID[:6]}********{ZHANG_ID[-4:]}" and zhang[4] == "138****5678"
    entry = AuditLog.objects.filter(action=AuditAction.EXPORT).get()
    assert entry.detail["revealed"] is False


@pytest.mark.parametrize("key", ["unit", "leader", "inspector", "cadre"])
def test_export_needs_the_export_permission(world, data, login, key):
    response = login(world.users[key]).get(reverse("cadre_list"), {"export": "xlsx"})
    assert response.status_code == 403
    assert not AuditLog.objects.filter(action=AuditAction.EXPORT).exists()
    assert AuditLog.objects.filter(action=AuditAction.PERMISSION_DENIED, success=False).exists()


def test_export_follows_the_filters_and_is_audited(world, data, login):
    client = login(world.users["county"])
    rows = export(client, "cadre_list", unit=world.unit.pk, sort="name")
    assert [r[0] for r in rows[1:]] == ["孙七", "王五", "张三"]
    entry = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert entry.username == "county" and entry.success
    assert entry.detail["what"] == "cadres"
    assert entry.detail["rows"] == 3
    assert entry.detail["filters"]["unit"] == "县财政局"
    assert entry.detail["columns"][:5] == ["姓名", "性别", "出生日期", "身份证号", "手机号"]


def test_export_scope_for_a_township(world, data, login):
    rows = export(login(world.users["other_township"]), "cadre_list")
    assert [r[0] for r in rows[1:]] == ["王五"]


def test_export_escapes_formula_cells(world, login):
    unit = make_unit(world.county, '=HYPERLINK("http://x")', UnitKind.OTHER)
    station(make_cadre(unit, "+李"), make_team(world.village))
    rows = export(login(world.users["county"]), "cadre_list")
    assert rows[1][0] == "'+李"
    assert rows[1][5].startswith("'=")


# --- cadre detail and reveal ----------------------------------------------------------


def test_cadre_detail_shows_the_whole_record_in_time_order(world, data, login):
    old = Team.objects.create(
        village=world.other_village,
        formed_on=datetime.date(2019, 1, 1),
        dissolved_on=datetime.date(2020, 12, 31),
    )
    station(
        data.zhang,
        old,
        start=datetime.date(2019, 3, 1),
        end_date=datetime.date(2020, 12, 31),
        end_reason="调整",
        end_decision="县委组织部〔2020〕12号",
    )
    pair(data.zhang, make_household(world.village, "钱八"), start=datetime.date(2021, 6, 1))
    visit(data.zhang, data.home, datetime.date(2021, 7, 2), "了解务工情况")
    response = login(world.users["county"]).get(reverse("cadre_detail", args=[data.zhang.pk]))
    kinds = [(e.date, e.kind) for e in response.context["events"]]
    assert kinds == [
        (datetime.date(2019, 3, 1), "membership_start"),
        (datetime.date(2020, 12, 31), "membership_end"),
        (datetime.date(2021, 3, 1), "membership_start"),
        (datetime.date(2021, 6, 1), "pairing_start"),
        (datetime.date(2021, 7, 2), "visit"),
    ]
    page = response.content.decode()
    assert "县委组织部〔2020〕12号" in page and "调整" in page and "了解务工情况" in page


def test_a_township_sees_only_its_part_of_the_record(world, data, login):
    old = Team.objects.create(
        village=world.other_village,
        formed_on=datetime.date(2019, 1, 1),
        dissolved_on=datetime.date(2020, 12, 31),
    )
    station(
        data.zhang,
        old,
        start=datetime.date(2019, 3, 1),
        end_date=datetime.date(2020, 12, 31),
        end_reason="完成轮换",
    )
    events = (
        login(world.users["township"])
        .get(reverse("cadre_detail", args=[data.zhang.pk]))
        .context["events"]
    )
    assert [e.kind for e in events] == ["membership_start"]


def test_reveal_by_the_county_office_is_audited(world, data, login):
    client = login(world.users["county"])
    url = reverse("cadre_reveal", args=[data.zhang.pk])
    response = csrf_post(client, url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert ZHANG_ID in body and ZHANG_PHONE in body
    assert "<html" not in body  # an htmx fragment
    assert "no-store" in response["Cache-Control"]
    entry = AuditLog.objects.get(action="reveal")
    assert entry.username == "county" and entry.object_id == str(data.zhang.pk)
    assert entry.success and ZHANG_ID not in str(entry.detail)
    # without htmx: the whole page, with the numbers
    page = csrf_post(client, url).content.decode()
    assert "<html" in page and ZHANG_ID in page
    assert AuditLog.objects.filter(action="reveal").count() == 2


@pytest.mark.parametrize("key", ["township", "unit", "leader", "inspector", "cadre"])
def test_reveal_needs_the_permission(world, data, login, key):
    response = csrf_post(login(world.users[key]), reverse("cadre_reveal", args=[data.zhang.pk]))
    assert response.status_code == 403
    assert ZHANG_ID not in response.content.decode()
    assert not AuditLog.objects.filter(action="reveal").exists()
    assert AuditLog.objects.filter(action=AuditAction.PERMISSION_DENIED, success=False).exists()


def test_reveal_outside_the_scope_is_not_found(world, data, login):
    client = login(world.users["far_county"])
    assert csrf_post(client, reverse("cadre_reveal", args=[data.zhang.pk])).status_code == 404
    assert csrf_post(client, reverse("cadre_reveal", args=[987654])).status_code == 404
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_reveal_is_post_only_and_needs_csrf(world, data, login):
    client = login(world.users["county"])
    url = reverse("cadre_reveal", args=[data.zhang.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    assert not AuditLog.objects.filter(action="reveal").exists()


def test_reveal_button_only_for_the_reveal_role(world, data, login):
    url = reverse("cadre_detail", args=[data.zhang.pk])
    assert 'data-testid="reveal"' in login(world.users["county"]).get(url).content.decode()
    assert 'data-testid="reveal"' not in login(world.users["township"]).get(url).content.decode()


# --- a village's team -----------------------------------------------------------------


def test_village_team_page(world, data, login):
    former = make_cadre(world.unit, "周九")
    station(
        former,
        data.zhang.memberships.get().team,
        start=datetime.date(2021, 3, 1),
        end_date=datetime.date(2022, 3, 1),
        end_reason="召回",
        end_decision="召回决定2022-1",
    )
    response = login(world.users["leader"]).get(reverse("village_team", args=[world.village.pk]))
    assert response.status_code == 200
    assert [m.cadre.name for m in response.context["current"]] == ["张三", "李明"]
    assert [m.cadre.name for m in response.context["past"]] == ["周九"]
    page = response.content.decode()
    assert "召回决定2022-1" in page and "县公安局" in page
    assert {h.head_name for h in response.context["households"]} == {"钱一", "钱三"}
    assert "孙七" in page and "钱二" not in page


# --- households and pairings ------------------------------------------------------------

HOMES = {"钱一", "钱二", "钱三", "钱四"}


@pytest.mark.parametrize(
    "key, expected",
    [
        ("county", {"钱一", "钱二", "钱三"}),
        ("township", {"钱一", "钱三"}),
        ("other_township", {"钱二"}),
        ("far_county", {"钱四"}),
        ("unit", {"钱一", "钱二"}),
        ("leader", {"钱一", "钱三"}),
    ],
)
def test_household_list_scope(world, data, login, key, expected):
    response = login(world.users[key]).get(reverse("household_list"))
    assert response.status_code == 200
    assert names_in(response, HOMES) == expected


def test_household_list_needs_permission(world, login):
    assert login(world.users["cadre"]).get(reverse("household_list")).status_code == 403


def test_household_filters(world, data, login):
    client = login(world.users["county"])

    def found(**params):
        return {h.head_name for h in client.get(reverse("household_list"), params).context["page"]}

    assert found(paired="true") == {"钱一", "钱二"}
    assert found(paired="false") == {"钱三"}
    assert found(township=world.other_township.pk) == {"钱二"}
    assert found(village=world.village.pk) == {"钱一", "钱三"}
    assert found(type="脱贫户") == {"钱一", "钱二", "钱三"}
    assert found(type="监测户") == set()
    assert found(q="钱三") == {"钱三"}


def test_household_export_masks_and_reveals_by_role(world, data, login):
    number = data.home.get_number("head_id_number")
    county = login(world.users["county"])
    masked = export(county, "household_list", q="钱一")
    assert masked[1][3] == data.home.head_id_number_masked != number
    assert export(county, "household_list", q="钱一", reveal="1")[1][3] == number
    township = export(login(world.users["township"]), "household_list", reveal="1")
    assert {r[2] for r in township[1:]} == {"钱一", "钱三"}
    assert number not in {r[3] for r in township}


def test_pairing_list_current_and_all(world, data, login):
    ended = make_household(world.village, "钱九")
    old = pair(data.li, ended, start=datetime.date(2021, 1, 1))
    old.end_date = datetime.date(2021, 12, 31)
    old.save()
    client = login(world.users["township"])
    current = {p.household.head_name for p in client.get(reverse("pairing_list")).context["page"]}
    assert current == {"钱一"}
    everything = client.get(reverse("pairing_list"), {"status": "all"}).context["page"]
    assert {p.household.head_name for p in everything} == {"钱一", "钱九"}
    other = login(world.users["other_township"]).get(reverse("pairing_list"), {"status": "all"})
    assert {p.household.head_name for p in other.context["page"]} == {"钱二"}


def test_a_cadre_sees_their_own_pairings(world, data, login):
    data.pairer.user = world.users["cadre"]
    data.pairer.save(update_fields=["user"])
    response = login(world.users["cadre"]).get(reverse("pairing_list"))
    assert {p.household.head_name for p in response.context["page"]} == {"钱一"}


def test_pairing_export(world, data, login):
    rows = export(login(world.users["county"]), "pairing_list", sort="household")
    assert [r[3] for r in rows[1:]] == ["钱一", "钱二"]
    assert rows[1][0] == "孙七"


# --- the matching report -------------------------------------------------------------------


def matching_world(world):
    """一村 (贫困村) has an economic member: matched. 二村 (软弱涣散村) has only a
    political-legal member: not matched. 三村 (一般村): no match needed. 四村
    (治安混乱村) has a party-mass member whose membership ended and an economic
    current member: not matched."""
    economic, legal = world.unit, world.other_unit
    party = make_unit(world.county, "县委宣传部", UnitKind.PARTY_MASS)
    world.other_village.condition = "软弱涣散村"
    world.other_village.save()
    from tests.factories import make_village

    general = make_village(world.township, "三村", condition="一般村")
    blank = make_village(world.township, "五村", condition="")
    disorderly = make_village(world.other_township, "四村", condition="治安混乱村")
    station(make_cadre(economic, "甲"), make_team(world.village))
    station(make_cadre(legal, "乙"), make_team(world.other_village))
    station(make_cadre(legal, "丙"), make_team(general))
    station(make_cadre(legal, "丁"), make_team(blank))
    team4 = make_team(disorderly)
    station(
        make_cadre(legal, "戊"),
        team4,
        end_date=datetime.date(2022, 1, 1),
        end_reason="召回",
    )
    station(make_cadre(party, "己"), team4)
    station(make_cadre(economic, "庚"), team4)
    return party


def test_matching_report(world, login):
    matching_world(world)
    response = login(world.users["county"]).get(reverse("matching_report"))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary == {"checked": 3, "matched": 1}
    rows = {t.village.name: t for t in response.context["teams"]}
    assert set(rows) == {"二村", "四村"}
    assert rows["二村"].needed_kind == "党群部门" and rows["二村"].kinds == ["政法部门"]
    assert rows["四村"].needed_kind == "政法部门"
    assert rows["四村"].kinds == ["党群部门", "经济部门"]
    assert 'data-testid="definition"' in response.content.decode()


def test_matching_report_scope(world, login):
    matching_world(world)
    township = login(world.users["township"]).get(reverse("matching_report"))
    assert township.context["summary"] == {"checked": 1, "matched": 1}
    assert list(township.context["teams"]) == []
    other = login(world.users["other_township"]).get(reverse("matching_report"))
    assert {t.village.name for t in other.context["teams"]} == {"二村", "四村"}
    assert login(world.users["far_county"]).get(reverse("matching_report")).context["summary"] == {
        "checked": 0,
        "matched": 0,
    }
    assert login(world.users["cadre"]).get(reverse("matching_report")).status_code == 403


def test_matching_report_export(world, login):
    matching_world(world)
    rows = export(login(world.users["county"]), "matching_report")
    assert rows[0] == ["乡镇", "村名称", "村情类别", "应派单位类别", "现有单位类别", "现任队员数"]
    assert {r[1] for r in rows[1:]} == {"二村", "四村"}


# --- query counts: the same at two data sizes ------------------------------------------------


def grow(world, n: int):
    """n more stationed cadres, households and pairings in 一村 and 二村."""
    teams = {
        v: Team.objects.filter(village=v, dissolved_on=None).first() or make_team(v)
        for v in (world.village, world.other_village)
    }
    for i in range(n):
        village = world.village if i % 2 else world.other_village
        cadre = make_cadre(world.unit if i % 3 else world.other_unit, f"干部{i:03d}")
        station(cadre, teams[village])
        home = make_household(village, f"户主{i:03d}")
        pair(cadre, home)
        visit(cadre, home, timezone.localdate().replace(day=1))


# (page, query, queries measured: session, user, scope area, the page's own
# reads, the filter dropdowns, the audit row of an export, the session save)
LIST_PAGES = [
    ("cadre_list", {}, 11),
    ("cadre_list", {"q": "gb", "sort": "-village", "township": "T"}, 12),
    ("cadre_list", {"export": "xlsx"}, 10),
    ("household_list", {}, 10),
    ("household_list", {"paired": "true", "sort": "cadre"}, 10),
    ("household_list", {"export": "xlsx"}, 10),
    ("pairing_list", {"status": "all"}, 11),
    ("pairing_list", {"export": "xlsx"}, 10),
    ("visit_monthly", {}, 14),
    ("visit_monthly", {"export": "xlsx"}, 11),
    ("matching_report", {}, 8),
    ("matching_report", {"export": "xlsx"}, 11),
    ("team_structure", {}, 10),
    ("team_structure", {"export": "xlsx"}, 13),
    ("village_team", None, 11),
]


def _count_queries(world, client, name, params, django_assert_max_num_queries, limit):
    if params is None:
        url, params = reverse(name, args=[world.village.pk]), {}
    else:
        url = reverse(name)
        params = {k: (world.township.pk if v == "T" else v) for k, v in params.items()}
    with django_assert_max_num_queries(limit) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name, params, limit", LIST_PAGES, ids=lambda v: str(v))
def test_list_pages_run_a_fixed_number_of_queries(
    world, login, django_assert_max_num_queries, name, params, limit
):
    client = login(world.users["county"])
    grow(world, 3)
    small = _count_queries(world, client, name, params, django_assert_max_num_queries, limit)
    grow(world, 60)
    large = _count_queries(world, client, name, params, django_assert_max_num_queries, limit)
    assert small == large, (name, small, large)
