"""Templates and exports: built from the roster definitions, importable back
unchanged, masked unless revealed, escaped, scoped, audited."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest

from core.choices import AuditAction
from core.idcard import parse_id_number
from core.models import AuditLog
from teams.exports import MASKED_NOTE, export_roster, header_label, template_workbook
from teams.models import Cadre, Household
from teams.rosters import CHOICE, ID_NUMBER, MOBILE, PHONE, ROSTERS, YESNO
from tests.factories import make_township, make_village
from tests.teams import factories as f
from tests.teams.test_import_kit import (
    cadre,
    household,
    id_number,
    mobile,
    pairing,
    roster_file,
    run,
    village,
)

pytestmark = pytest.mark.django_db
KINDS = sorted(ROSTERS)


def _book(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))


def _fill(content: bytes, rows: list[list]) -> bytes:
    """What an office does with the template: rows typed under the headers."""
    wb = _book(content)
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_template_headers_dropdowns_and_text_columns(kind):
    roster = ROSTERS[kind]
    wb = _book(template_workbook(kind))
    ws = wb.worksheets[0]
    assert ws.title == roster.title
    assert [c.value for c in ws[1]] == [header_label(c) for c in roster.columns]
    assert [c.value for c in ws[1] if c.value.endswith("*")] == [
        h + "*" for h in roster.required_headers
    ]
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation}
    for index, column in enumerate(roster.columns, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        if column.kind == CHOICE:
            assert lists[f"{letter}2"] == '"' + ",".join(column.choices) + '"'
        elif column.kind == YESNO:
            assert lists[f"{letter}2"] == '"是,否"'
        else:
            assert f"{letter}2" not in lists
        if column.kind in (ID_NUMBER, MOBILE, PHONE):
            assert ws.column_dimensions[letter].number_format == "@"
    assert ws.max_row == 1  # no example under the headers: it could be imported by mistake


@pytest.mark.parametrize("kind", KINDS)
def test_template_example_row_has_valid_id_numbers(kind):
    roster = ROSTERS[kind]
    notes = _book(template_workbook(kind))["填写说明"]
    rows = [[c.value for c in row] for row in notes.iter_rows()]
    labels = [header_label(c) for c in roster.columns]
    example = rows[rows.index(labels) + 1]
    for column, value in zip(roster.columns, example, strict=True):
        if column.kind == ID_NUMBER:
            parse_id_number(value)
        if column.required:
            assert value not in (None, ""), column.header


def _example(kind: str) -> list:
    roster = ROSTERS[kind]
    notes = _book(template_workbook(kind))["填写说明"]
    rows = [[c.value for c in row] for row in notes.iter_rows()]
    return rows[rows.index([header_label(c) for c in roster.columns]) + 1]


def test_filled_templates_import(world):
    """Each template, filled with its own example row, imports cleanly."""
    kaitai = make_township(world.county, "开台镇")
    created = run(
        world,
        "villages",
        _fill(template_workbook("villages"), [_example("villages")]),
        user="county",
        apply=True,
    )
    assert created.ok and created.counts["new"] == 1
    assert kaitai.pk and make_village  # 开台镇 and 前进村 now exist
    for kind in ("cadres", "households", "pairings"):
        example = _example(kind)
        result = run(
            world, kind, _fill(template_workbook(kind), [example]), user="county", apply=True
        )
        assert result.ok, (kind, result.errors)
        assert result.counts["new"] == 1, kind
    assert Cadre.objects.filter(name__in=["张三", "王五"]).count() == 2
    assert Household.objects.get().head_name == "李四"


def test_filled_template_for_the_test_world(world):
    rows = [list(cadre().values()), list(cadre(姓名="孙八").values())]
    result = run(world, "cadres", _fill(template_workbook("cadres"), rows), apply=True)
    assert result.ok and result.counts["new"] == 2


# --- Exports -----------------------------------------------------------------------------------


def _populate(world) -> dict[str, list[dict]]:
    """Every roster imported by the county office, in both townships."""
    villages = [village("甲镇", "新村"), village("乙镇", "南村", 村情类别="", 纬度="", 经度="")]
    cadres = [
        cadre(职务="@某职务", 所学专业="-"),
        cadre(姓名="孙八", 驻村身份="第一书记"),
        cadre("乙镇", "二村", 姓名="周九"),
    ]
    households = [household(), household("乙镇", "二村", 户主姓名="+吴十", 脱贫年度="")]
    pairings = [
        pairing(cadres[0], households[0]),
        pairing(
            {"姓名": "郑十一", "身份证号": id_number(), "手机号": mobile(), "派出单位": "县财政局"},
            households[1],
        ),
    ]
    records = {
        "villages": villages,
        "cadres": cadres,
        "households": households,
        "pairings": pairings,
    }
    for kind in ("villages", "cadres", "households", "pairings"):
        result = run(world, kind, roster_file(kind, records[kind]), user="county", apply=True)
        assert result.ok, result.errors
    # Text that a spreadsheet would run, as the portal may hold it (an upload cannot).
    Cadre.objects.filter(name="孙八").update(post="=SUM(A1)")
    far = f.make_cadre(world.far_unit, "远方")
    f.station(far, f.make_team(world.far_village))
    f.pair(far, f.make_household(world.far_village, "远户"))
    return records


@pytest.mark.parametrize("kind", KINDS)
def test_revealed_export_imports_back_unchanged(world, kind):
    _populate(world)
    content = export_roster(kind, user=world.users["county"], reveal=True)
    result = run(world, kind, content, user="county", apply=True)
    assert result.ok, result.errors
    expected = {"villages": 4, "cadres": 3, "households": 2, "pairings": 2}[kind]
    assert result.counts == {"new": 0, "changed": 0, "unchanged": expected}
    ws = _book(content).worksheets[0]
    assert "完整的身份证号" in ws["A1"].value


def test_export_escapes_formula_like_text(world):
    _populate(world)
    ws = _book(export_roster("cadres", user=world.users["county"], reveal=True)).worksheets[0]
    values = [c.value for row in ws.iter_rows() for c in row]
    assert "'=SUM(A1)" in values and "'-" in values and "'@某职务" in values
    ws = _book(export_roster("households", user=world.users["county"], reveal=False)).worksheets[0]
    assert "'+吴十" in [c.value for row in ws.iter_rows() for c in row]


def test_masked_export_is_for_reading(world):
    records = _populate(world)
    content = export_roster("cadres", user=world.users["county"], reveal=False)
    ws = _book(content).worksheets[0]
    assert ws["A1"].value == MASKED_NOTE
    cells = [c.value for row in ws.iter_rows(min_row=3) for c in row]
    number = records["cadres"][0]["身份证号"]
    assert number not in cells
    assert number[:6] + "********" + number[-4:] in cells
    phone = records["cadres"][0]["手机号"]
    assert phone not in cells and phone[:3] + "****" + phone[-4:] in cells
    result = run(world, "cadres", content, user="county")
    assert not result.ok  # masked numbers cannot be imported


def test_township_export_holds_its_township_only(world):
    _populate(world)
    user = world.users["township"]
    texts = {}
    for kind in KINDS:
        ws = _book(export_roster(kind, user=user, reveal=False)).worksheets[0]
        texts[kind] = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "一村" in texts["villages"] and "新村" in texts["villages"]
    assert "二村" not in texts["villages"] and "南村" not in texts["villages"]
    assert "赵六" in texts["cadres"] and "孙八" in texts["cadres"] and "周九" not in texts["cadres"]
    assert "钱七" in texts["households"] and "吴十" not in texts["households"]
    assert "郑十一" not in texts["pairings"] and "钱七" in texts["pairings"]
    for text in texts.values():
        assert "乙镇" not in text and "远" not in text and "三村" not in text


def test_county_export_never_holds_another_county(world):
    _populate(world)
    for kind in KINDS:
        ws = _book(export_roster(kind, user=world.users["county"], reveal=True)).worksheets[0]
        text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
        assert (
            "远方" not in text and "远户" not in text and "三村" not in text and "丙镇" not in text
        )


def test_each_export_is_audited(world):
    _populate(world)
    export_roster("households", user=world.users["township"], reveal=False)
    entry = AuditLog.objects.filter(action=AuditAction.EXPORT).latest("pk")
    assert entry.actor == world.users["township"]
    assert entry.detail == {
        "roster": "households",
        "rows": 1,
        "columns": [header_label(c) for c in ROSTERS["households"].columns],
        "revealed": False,
    }


def test_export_dates_and_numbers_are_typed(world):
    _populate(world)
    ws = _book(export_roster("cadres", user=world.users["county"], reveal=True)).worksheets[0]
    row = list(ws[3])
    assert isinstance(row[16].value, datetime.datetime)  # a date cell, shown as a date
    assert row[16].number_format in ("yyyy-mm-dd", "YYYY-MM-DD")
    assert row[1].number_format == "@" and isinstance(row[1].value, str)
