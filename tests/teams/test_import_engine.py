"""The engine around the rosters: authorisation, set-based look-ups (no query
per row), all or nothing, the scope re-check, audit, progress, the error
workbook, and the fast helpers that must equal the ones they stand in for."""

from __future__ import annotations

import io
import random

import openpyxl
import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from stdnum.cn import ric

from core import crypto
from core.choices import AuditAction
from core.idcard import IdNumberError, parse_id_number
from core.models import Area, AuditLog
from teams import importers
from teams.importers import (
    RosterError,
    RosterInvalid,
    apply_roster,
    check_roster,
    error_workbook,
    parse_id,
    pinyin_keys_many,
)
from teams.models import Cadre
from teams.names import pinyin_keys
from tests.teams import factories as f
from tests.teams.test_import_kit import (
    cadre,
    errors_of,
    household,
    id_number,
    mobile,
    pairing,
    roster_file,
    run,
    village,
)

pytestmark = pytest.mark.django_db


# --- Who may import what ---------------------------------------------------------------


def test_users_without_the_permission_are_refused(world):
    data = roster_file("villages", [village()])
    for key in ("unit", "leader", "cadre", "inspector", "sysadmin"):
        actor = world.users[key]
        with pytest.raises(RosterError) as caught:
            check_roster(
                kind="villages", data=data, filename="v.xlsx", actor=actor, county=world.county
            )
        assert "权限" in caught.value.message


def test_offices_import_for_their_own_area_only(world):
    data = roster_file("villages", [village()])
    township = world.users["township"]
    for county, where in (
        (world.county, None),  # a township office as the county office
        (world.county, world.other_township),
        (world.other_county, world.far_township),
    ):
        with pytest.raises(RosterError):
            check_roster(
                kind="villages",
                data=data,
                filename="v.xlsx",
                actor=township,
                county=county,
                township=where,
            )
    with pytest.raises(RosterError):
        check_roster(
            kind="villages",
            data=data,
            filename="v.xlsx",
            actor=world.users["far_county"],
            county=world.county,
        )
    with pytest.raises(RosterError) as caught:
        check_roster(
            kind="villages",
            data=data,
            filename="v.xlsx",
            actor=None,
            county=world.county,
            township=world.far_township,
        )
    assert "不是测试县的乡镇" in caught.value.message
    with pytest.raises(RosterError):
        check_roster(
            kind="villages", data=data, filename="v.xlsx", actor=None, county=world.township
        )
    with pytest.raises(RosterError):
        check_roster(kind="people", data=data, filename="v.xlsx", actor=None, county=world.county)


# --- Set-based: the queries do not grow with the rows -------------------------------------


def _queries(world, kind: str, records: list[dict], **options) -> int:
    with CaptureQueriesContext(connection) as captured:
        run(world, kind, roster_file(kind, records), **options)
    return len(captured.captured_queries)


@pytest.mark.parametrize("apply", [False, True], ids=["check", "apply"])
def test_cadre_queries_do_not_grow_with_rows(world, apply):
    from tests.factories import make_village

    make_village(world.township, "四村")  # each run forms a new team
    few = _queries(world, "cadres", [cadre() for _ in range(3)], apply=apply)
    # 30 rows: SQLite batches bulk inserts by its 999-parameter limit (~39 cadres)
    many = _queries(world, "cadres", [cadre("甲镇", "四村") for _ in range(30)], apply=apply)
    assert many == few
    assert few <= 30


def test_other_rosters_queries_do_not_grow_with_rows(world):
    for kind, make in (
        ("villages", lambda i: village(name=f"村{i}")),
        ("households", lambda i: household()),
    ):
        few = _queries(world, kind, [make(i) for i in range(3)], user="county", apply=True)
        many = _queries(world, kind, [make(i + 100) for i in range(50)], user="county", apply=True)
        assert many == few, kind
    homes = [f.make_household(world.village, f"户{i}") for i in range(40)]

    def rows(start, end):
        return [
            pairing(
                {
                    "姓名": f"干部{i}",
                    "身份证号": id_number(),
                    "手机号": mobile(),
                    "派出单位": "县财政局",
                },
                {
                    "户主姓名": homes[i].head_name,
                    "户主身份证号": homes[i].get_number("head_id_number"),
                },
            )
            for i in range(start, end)
        ]

    few = _queries(world, "pairings", rows(0, 3), apply=True)
    many = _queries(world, "pairings", rows(3, 40), apply=True)
    assert many == few


# --- All or nothing ---------------------------------------------------------------------------


def test_a_database_conflict_rolls_everything_back(world, monkeypatch):
    """The database refuses a row while it is written (here a check
    constraint, as a conflicting concurrent change would): nothing stays."""
    real = importers._CadresImport.prepare_cadres

    def spoiled(self, rows):
        real(self, rows)
        rows[-1].values["sex"] = "?"

    monkeypatch.setattr(importers._CadresImport, "prepare_cadres", spoiled)
    with pytest.raises(RosterError) as caught:
        run(world, "cadres", roster_file("cadres", [cadre(派出单位="县新单位")]), apply=True)
    assert "没有写入任何内容" in caught.value.message
    assert not Cadre.objects.exists()
    from core.models import DispatchingUnit, User

    assert not DispatchingUnit.objects.filter(name="县新单位").exists()
    assert not User.objects.filter(role="cadre").exclude(username="cadre").exists()


def test_a_personal_number_is_never_written_unencrypted(world, monkeypatch):
    """Encryption is done chunk by chunk just before writing; a number that
    missed it is refused by the database driver, and the import fails whole."""
    monkeypatch.setattr(importers._CadresImport, "prepare_cadres", lambda self, rows: None)
    with pytest.raises(TypeError, match="unencrypted"):
        run(world, "cadres", roster_file("cadres", [cadre()]), apply=True)
    assert not Cadre.objects.exists()


def test_rows_outside_the_importers_scope_roll_the_import_back(world, monkeypatch):
    real = importers._VillagesImport.write

    def also_touches_far(self):
        real(self)
        self.touched[Area].add(world.far_village.pk)

    monkeypatch.setattr(importers._VillagesImport, "write", also_touches_far)
    with pytest.raises(RosterError) as caught:
        run(world, "villages", roster_file("villages", [village("甲镇", "新村")]), apply=True)
    assert "管辖范围" in caught.value.message
    assert not Area.objects.filter(name="新村").exists()
    assert not AuditLog.objects.filter(action=AuditAction.OBJECT_CREATE).exists()


@pytest.mark.postgres
def test_personal_number_hashes_are_compared_byte_by_byte_on_postgresql(world):
    """The keyed hashes' columns use the "C" collation: their unique indexes
    compare bytes, not text by the database's locale; finding by hash and
    refusing a duplicate work as before."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, a.attname, co.collname FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_collation co ON co.oid = a.attcollation"
            " WHERE c.relname IN ('teams_cadre', 'teams_household')"
            " AND a.attname LIKE '%%\\_hash' AND a.attnum > 0"
        )
        collations = {(table, column): name for table, column, name in cursor.fetchall()}
    assert collations == {
        ("teams_cadre", "id_number_hash"): "C",
        ("teams_cadre", "phone_hash"): "C",
        ("teams_household", "head_id_number_hash"): "C",
        ("teams_household", "phone_hash"): "C",
    }
    record = cadre()
    run(world, "cadres", roster_file("cadres", [record]), apply=True)
    digest = crypto.blind_index("id", record["身份证号"])
    twin = Cadre.objects.get(id_number_hash=digest)
    assert twin.name == record["姓名"]
    twin.pk, twin.user, twin.phone_hash = None, None, ""
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()  # the same hash twice: refused by the unique index


def test_value_lists_find_exactly_the_values_given(world):
    """``_in`` sends text as one string cut on PostgreSQL; a value holding the
    separator (or an empty one) goes as an array instead: found all the same."""
    from core.models import DispatchingUnit
    from tests.factories import make_unit

    odd = ["单位\x1f甲", "单位,乙", "单位'丙"]
    for name in odd:
        make_unit(world.county, name)
    units = DispatchingUnit.objects

    def found(values):
        return set(units.filter(name__in=importers._in(values)).values_list("name", flat=True))

    assert found(odd) == set(odd)
    assert found([*odd, ""]) == set(odd)
    assert found([world.unit.name, "单位,乙", "没有这个单位"]) == {world.unit.name, "单位,乙"}
    assert found([world.unit.name, world.unit.name]) == {world.unit.name}
    ids = [world.unit.pk, world.other_unit.pk]
    assert set(units.filter(pk__in=importers._in(ids)).values_list("pk", flat=True)) == set(ids)
    assert list(units.filter(name__in=importers._in([]))) == []


def test_invalid_apply_carries_every_error(world):
    data = roster_file("households", [household(家庭人口=0), household(户类型="x"), household()])
    with pytest.raises(RosterInvalid) as caught:
        run(world, "households", data, apply=True)
    assert errors_of(caught.value.result) == [(2, "家庭人口"), (3, "户类型")]
    assert not caught.value.result.ok


# --- Audit ---------------------------------------------------------------------------------------


def test_command_imports_are_audited_as_manage_py_and_file_names_lose_id_numbers(world):
    number = id_number()
    apply_roster(
        kind="villages",
        data=roster_file("villages", [village("甲镇", "新村")]),
        filename=f"张三{number}.xlsx",
        actor=None,
        county=world.county,
    )
    entry = AuditLog.objects.get(action=AuditAction.OBJECT_CREATE)
    assert entry.actor is None and entry.username == "manage.py"
    assert entry.object_id == str(world.county.pk)
    assert number not in entry.detail["file"]
    assert entry.detail["file"] == f"张三{crypto.mask_id_number(number)}.xlsx"


# --- Progress ---------------------------------------------------------------------------------------


def test_progress_is_reported(world):
    calls = []
    records = [village("甲镇", f"村{i}") for i in range(1203)]
    check_roster(
        kind="villages",
        data=roster_file("villages", records),
        filename="v.xlsx",
        actor=world.users["county"],
        county=world.county,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 1203), (500, 1203), (1000, 1203), (1203, 1203)]


# --- The error workbook -------------------------------------------------------------------------------


def test_error_workbook_marks_the_bad_cells(world):
    data = roster_file(
        "households",
        [household(), household(家庭人口=0, 户主姓名="@钱七"), household(户主姓名="=1+1")],
    )
    result = run(world, "households", data)
    content = error_workbook(kind="households", data=data, filename="h.xlsx", errors=result.errors)
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sheet = wb.worksheets[0]
    assert sheet["I1"].value == "错误说明"
    bad = sheet["E3"]
    assert bad.value == 0 and bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert "应在1到30之间" in bad.comment.text
    assert sheet["C3"].value == "'@钱七"  # the upload's formula-like text is escaped
    assert "单元格含公式" in sheet["C4"].comment.text
    assert "家庭人口：应在1到30之间" in sheet["I3"].value
    assert sheet["I2"].value is None and sheet["D2"].number_format == "@"
    listing = wb["错误清单"]
    assert [c.value for c in listing[2]] == [3, "家庭人口", "应在1到30之间"]


def test_error_workbook_of_an_unreadable_file(world):
    with pytest.raises(RosterError):
        error_workbook(kind="households", data=b"<html></html>", filename="h.xlsx", errors=[])


# --- Fast helpers equal what they stand in for ---------------------------------------------------------


def test_pinyin_keys_many_equals_pinyin_keys():
    rng = random.Random(3)
    surnames = "王李张刘陈杨曾单区解仇朴查乐尉迟欧阳万俟长孙"
    given = "伟芳娜秀英行长重乐朝阳银行都会和平"
    names = [
        "".join(rng.choice(surnames) + rng.choice(given) + rng.choice(given)) for _ in range(500)
    ]
    names += ["曾国藩", "单雄信", "区洋行", "阿卜杜·热合曼", "Li Ming", "王2", ""]
    assert pinyin_keys_many(names) == [pinyin_keys(n) for n in names]


def test_parse_id_equals_parse_id_number():
    rng = random.Random(5)
    today = timezone.localdate()
    numbers = []
    for _ in range(2000):
        body = f"{rng.choice(['150523', '430426', '999999'])}{rng.randint(1900, 2030)}"
        body += f"{rng.randint(0, 13):02d}{rng.randint(0, 32):02d}{rng.randint(0, 999):03d}"
        numbers.append(body + rng.choice([ric.calc_check_digit(body + "0"), "0", "X"]))
    numbers += ["150523800101001", "15052319800101001", "1505231980010100a9", "X" * 18]
    for number in numbers:
        try:
            expected = parse_id_number(number)
        except IdNumberError as exc:
            with pytest.raises(IdNumberError) as caught:
                parse_id(number, today)
            assert str(caught.value) == str(exc)
        else:
            assert parse_id(number, today) == expected


# --- The head start: encryption and pinyin in a forked child -------------------------------

NAMES = ["曾国藩", "单雄信", "欧阳修", "张三", "李四", "王五", "赵六", "乐正", "解缙", "区洋"]


def _many_cadres() -> list[dict]:
    return [cadre(姓名=NAMES[i % len(NAMES)]) for i in range(24)]


def _assert_stored_as_given(records: list[dict]) -> None:
    stored = {c.get_number("id_number"): c for c in Cadre.objects.all()}
    assert len(stored) == len(records)
    for record in records:
        found = stored[record["身份证号"]]
        assert found.get_number("phone") == record["手机号"]
        assert found.user.username == record["手机号"]  # linked to its own account
        assert found.memberships.get().team.village.name == record["村名称"]
        assert (found.name_pinyin, found.name_initials) == pinyin_keys(record["姓名"])
    tokens = list(Cadre.objects.values_list("id_number_enc", flat=True))
    tokens += list(Cadre.objects.values_list("phone_enc", flat=True))
    assert all(t.startswith(crypto.PREFIX) for t in tokens) and len(set(tokens)) == len(tokens)


def _spy_on_forks(monkeypatch) -> list:
    from core import forked

    started = []
    real_start = forked.start

    def spy(fn, *args, **kwargs):
        started.append(fn)
        return real_start(fn, *args, **kwargs)

    monkeypatch.setattr(importers, "HEAD_START_FROM", 10)
    monkeypatch.setattr(importers.forked, "start", spy)
    return started


def test_a_large_import_encrypts_and_spells_in_a_forked_child(world, monkeypatch):
    started = _spy_on_forks(monkeypatch)
    records = _many_cadres()
    result = run(world, "cadres", roster_file("cadres", records), apply=True)
    assert result.counts["new"] == len(records)
    assert importers._seal_and_spell in started
    _assert_stored_as_given(records)


def test_a_failed_head_start_is_made_up_when_writing(world, monkeypatch):
    def crash(numbers, names):
        raise MemoryError  # the child exits without a result

    monkeypatch.setattr(importers, "HEAD_START_FROM", 10)
    monkeypatch.setattr(importers, "_seal_and_spell", crash)
    records = _many_cadres()
    run(world, "cadres", roster_file("cadres", records), apply=True)
    _assert_stored_as_given(records)


def test_no_head_start_when_checking_or_when_nothing_is_new(world, monkeypatch):
    started = _spy_on_forks(monkeypatch)
    records = _many_cadres()
    data = roster_file("cadres", records)
    run(world, "cadres", data)
    assert importers._seal_and_spell not in started
    run(world, "cadres", data, apply=True)
    started.clear()
    assert run(world, "cadres", data, apply=True).counts["unchanged"] == len(records)
    assert importers._seal_and_spell not in started
    assert started  # the reader's own fork: the spy sees forks
