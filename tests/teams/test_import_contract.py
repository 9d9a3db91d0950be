"""rosters.md line by line, with files as township offices make them: merged
title cells, headers with stars and spaces in their own order, extra columns,
numbers stored as numbers, every date spelling, full-width characters, styled
blank rows under the data; and the hostile cells (control characters) that
must be refused with a message instead of reaching the database."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.styles import Border, Side

from core import tabular
from core.models import Area
from teams.exports import export_roster
from teams.importers import RosterInvalid, error_workbook
from teams.models import Cadre, Household, Membership
from teams.rosters import ROSTERS
from tests.teams.test_import_kit import (
    cadre,
    errors_of,
    headers,
    household,
    id_number,
    mobile,
    package,
    roster_file,
    run,
    sheet_xml,
    village,
)

pytestmark = pytest.mark.django_db


def office_book(rows: list[list], *, title: str = "", blank_rows: int = 0) -> bytes:
    """A workbook as an office saves it: a title merged across the table above
    the headers, and bordered but empty rows below the data."""
    wb = openpyxl.Workbook()
    ws = wb.active
    width = len(rows[0])
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        ws.append(["填报单位（盖章）：", None, None, "填报日期：2021年3月"])
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = 'yyyy"年"m"月"d"日"'
    thin = Side(style="thin")
    last = ws.max_row
    for number in range(last + 1, last + 1 + blank_rows):
        for column in range(1, width + 1):
            ws.cell(row=number, column=column).border = Border(top=thin, bottom=thin)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(str(v) for v in row) for row in rows).encode(encoding) + b"\r\n"


# --- Reading: title rows, header spellings, order, extra columns, blank rows ----------------


def test_a_cadres_roster_as_a_township_office_saves_it(world):
    """Headers in another order with stars and spaces, 序号 and 备注 columns, a
    merged title, numbers stored as numbers and every date spelling of rosters.md."""
    labels = headers("cadres", stars=True)
    order = list(reversed(range(len(labels))))
    head = ["序号", *[" " + labels[i].replace("姓名", "姓　名") + " " for i in order], "备注"]
    spellings = [
        datetime.date(2021, 3, 1),
        "2021-03-01",
        "2021/3/1",
        "2021.3.1",
        "2021年3月1日",
        44256,  # an Excel date number in a cell formatted as General
    ]
    yes_no = [("是", "否", "否"), ("Y", "N", "n"), (1, 0, 0), ("1", "0", "y"), ("是", "", "否")]
    rows = [head]
    for number, spelling in enumerate(spellings, start=1):
        agri, rural, prior = yes_no[number % len(yes_no)]
        record = cadre(
            手机号=int(mobile()),
            驻村开始日期=spelling,
            是否涉农专业=agri,
            是否有农村工作经历=rural,
            是否参加过脱贫攻坚驻村=prior,
        )
        values = list(record.values())
        rows.append([number, *[values[i] for i in order], "无"])
    data = office_book(rows, title="甲镇驻村工作队花名册", blank_rows=40)
    result = run(world, "cadres", data, apply=True)
    assert result.ok, result.errors
    assert result.counts == {"new": len(spellings), "changed": 0, "unchanged": 0}
    assert set(Membership.objects.values_list("start_date", flat=True)) == {
        datetime.date(2021, 3, 1)
    }
    assert Cadre.objects.filter(agri_major=True).count() == len(spellings)
    assert Cadre.objects.filter(rural_experience=True).count() == 0
    assert Cadre.objects.filter(prior_poverty_service=True).count() == 1  # the "y"
    # the same file again changes nothing
    again = run(world, "cadres", data, apply=True)
    assert again.counts == {"new": 0, "changed": 0, "unchanged": len(spellings)}


def test_township_and_village_merged_down_the_rows(world):
    """Offices merge 乡镇 down all of a township's rows and 村名称 down a
    village's; Excel keeps the value in the first cell of each range only."""
    labels = headers("cadres", stars=True)
    records = [cadre(手机号=mobile()) for _ in range(4)]
    rows = [labels, *[list(r.values()) for r in records]]
    town, village = labels.index("乡镇*"), labels.index("村名称*")
    for row in rows[2:]:
        row[town] = None
    rows[2][village] = None
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    letter = openpyxl.utils.get_column_letter
    ws.merge_cells(f"{letter(town + 1)}2:{letter(town + 1)}5")
    ws.merge_cells(f"{letter(village + 1)}2:{letter(village + 1)}3")
    buffer = io.BytesIO()
    wb.save(buffer)
    result = run(world, "cadres", buffer.getvalue(), apply=True)
    assert result.ok, result.errors
    assert result.counts["new"] == 4
    first_village = records[0]["村名称"]
    assert Membership.objects.filter(team__village__name=first_village).count() == 2 + sum(
        r["村名称"] == first_village for r in records[2:]
    )


def test_a_signed_footer_below_the_data_is_not_a_record(world):
    labels = headers("cadres", stars=True)
    rows = [labels, *[list(cadre(手机号=mobile()).values()) for _ in range(2)]]
    rows += [["合计：2人"], ["填表人：张三", None, "审核人：李四"], ["填报日期：2026年3月1日"]]
    result = run(world, "cadres", office_book(rows), apply=True)
    assert result.ok, result.errors
    assert result.counts["new"] == 2
    assert [w["row"] for w in result.warnings if "表尾" in w["message"]] == [4, 5, 6]


def test_households_and_villages_with_numbers_stored_as_numbers(world):
    rows = [headers("households", stars=True)]
    rows.append(list(household(家庭人口=4.0, 脱贫年度=2019.0, 联系电话=13900001234.0).values()))
    rows.append(
        list(household(家庭人口="４", 脱贫年度="２０１９", 联系电话="0475-1234567").values())
    )
    result = run(world, "households", office_book(rows, title="帮扶户花名册"), apply=True)
    assert result.ok, result.errors
    assert sorted(Household.objects.values_list("size", "year_out_of_poverty")) == [
        (4, 2019),
        (4, 2019),
    ]
    rows = [headers("villages", stars=True)]
    rows.append(list(village(纬度=43.6, 经度=121, **{"签到半径（米）": 800.0}).values()))
    result = run(world, "villages", office_book(rows, blank_rows=5), apply=True)
    assert result.ok, result.errors
    new = Area.objects.get(name="新村")
    assert new.latitude == Decimal("43.6") and new.longitude == 121 and new.radius_m == 800


def test_a_gbk_csv_with_a_title_row_and_starred_headers(world):
    record = cadre(驻村开始日期="2021年3月1日")
    rows = [["甲镇驻村工作队花名册"], headers("cadres", stars=True)]
    rows.append([record[h] for h in headers("cadres")])
    result = run(world, "cadres", csv_bytes(rows, "gbk"), apply=True, name="花名册.csv")
    assert result.ok, result.errors
    assert Cadre.objects.get().name == record["姓名"]


def test_a_star_before_the_header_is_a_required_marker_too():
    """Offices put the * on either side: "*姓名" is 姓名."""
    assert tabular.normalize_header("*姓名") == "姓名"
    assert tabular.normalize_header("＊ 身份证号 ＊") == "身份证号"


def test_headers_with_a_leading_star(world):
    labels = [("*" if c.required else "") + c.header for c in ROSTERS["cadres"].columns]
    data = office_book([labels, list(cadre().values())])
    result = run(world, "cadres", data)
    assert result.ok, result.errors


# --- Normalising: full-width characters, invisible characters, Excel dates ------------------


@pytest.mark.parametrize(
    "spelling", ["2021－03－01", "2021／3／1", "2021．3．1", "２０２１．３．１", "2021。3。1"]
)
def test_dates_typed_with_full_width_punctuation(world, spelling):
    result = run(world, "cadres", roster_file("cadres", [cadre(驻村开始日期=spelling)]))
    assert result.ok, result.errors


def test_numbers_typed_in_full_width(world):
    data = roster_file(
        "villages",
        [village(纬度="４３．６０１２３４", 经度="１２１．３", **{"签到半径（米）": "１，０００"})],
    )
    result = run(world, "villages", data, user="county", apply=True)
    assert result.ok, result.errors
    new = Area.objects.get(name="新村")
    assert new.latitude == Decimal("43.601234") and new.longitude == Decimal("121.3")
    assert new.radius_m == 1000


def test_an_excel_date_with_a_time_in_a_general_cell():
    assert tabular.to_date(44256.5) == datetime.date(2021, 3, 1)
    assert tabular.to_date(44256.99) == datetime.date(2021, 3, 1)
    with pytest.raises(tabular.CellError):
        tabular.to_date(12.5)


def test_invisible_characters_around_values_are_trimmed(world):
    """Zero-width spaces and BOMs come with text copied from web pages and chats."""
    assert tabular.text("\u200b示范村\ufeff ") == "示范村"
    assert tabular.text("\ufeff 2021-03-01") == "2021-03-01"
    record = cadre(学历="大学本科\u200b", 乡镇="\ufeff甲镇", 驻村开始日期="2021-03-01\u200b")
    result = run(world, "cadres", roster_file("cadres", [record]), apply=True)
    assert result.ok, result.errors
    assert Cadre.objects.get().education == "大学本科"


def test_line_breaks_inside_a_cell_are_spaces(world):
    """Alt+Enter in a cell is a wrap, not part of the value."""
    assert tabular.text("县财政局\n农业股") == "县财政局 农业股"
    assert tabular.name_text("张\r\n三") == "张三"
    record = cadre(姓名="欧阳\n娜娜", 职务="党组成员\n副局长")
    result = run(world, "cadres", roster_file("cadres", [record]), apply=True)
    assert result.ok, result.errors
    person = Cadre.objects.get()
    assert person.name == "欧阳娜娜" and person.post == "党组成员 副局长"


# --- Hostile cells ---------------------------------------------------------------------------


def _sheet_of_text(kind: str, records: list[dict]) -> bytes:
    """An .xlsx of inline strings, so that cells can carry the ``_xHHHH_``
    escapes that spreadsheet readers turn into control characters."""
    names = headers(kind)
    rows = [names] + [[str(r[h]) for h in names] for r in records]
    return package({"xl/worksheets/sheet1.xml": sheet_xml(rows)})


def test_control_characters_in_an_xlsx_are_errors_and_nothing_is_written(world):
    records = [
        cadre(驻村开始日期="2021-03-01"),
        cadre(姓名="张_x0000_三", 驻村开始日期="2021-03-01"),
        cadre(所学专业="农学_x001B_[31m", 驻村开始日期="2021-03-01"),
    ]
    data = _sheet_of_text("cadres", records)
    with pytest.raises(RosterInvalid) as caught:
        run(world, "cadres", data, apply=True)
    assert errors_of(caught.value.result) == [(3, "姓名"), (4, "所学专业")]
    assert "控制字符" in caught.value.result.errors[0]["message"]
    assert not Cadre.objects.exists()


def test_control_characters_in_a_csv_are_errors(world):
    names = headers("cadres")
    rows = [names] + [[cadre()[h] for h in names] for _ in range(80)]
    bad = cadre(派出单位="县财政局\x00")  # past the bytes sniffed for NUL
    rows.append([bad[h] for h in names])
    data = csv_bytes(rows)
    assert b"\x00" not in data[:4096]
    result = run(world, "cadres", data, name="c.csv")
    assert errors_of(result) == [(82, "派出单位")]


def test_error_workbook_of_a_file_with_control_characters(world):
    names = headers("cadres")
    bad = cadre(姓名="张\x1b三", 驻村开始日期="2021-03-01")
    rows = [names, [bad[h] for h in names], ["备注\x07", *[""] * (len(names) - 1)]]
    data = csv_bytes(rows)
    result = run(world, "cadres", data, name="c.csv")
    assert (2, "姓名") in errors_of(result)
    content = error_workbook(kind="cadres", data=data, filename="c.csv", errors=result.errors)
    ws = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert ws["A2"].value == "张\ufffd三" and ws["A2"].comment is not None


# --- Round trips: every roster, every column, empty optional cells ---------------------------


def test_round_trip_with_empty_optional_cells(world):
    """Blank optional cells (text, choice, yes/no, year, phone, coordinates)
    export as blanks or their defaults and import back unchanged."""
    records = {
        "villages": [
            village("甲镇", "空村", 村情类别="", 纬度="", 经度="", **{"签到半径（米）": ""})
        ],
        "cadres": [
            cadre(
                姓名="钱空",
                职务="",
                职级="",
                所学专业="",
                是否涉农专业="",
                是否有农村工作经历="",
                是否参加过脱贫攻坚驻村="",
                驻村开始日期="2021年3月1日",
            )
        ],
        "households": [household(户主姓名="孙空", 脱贫年度="", 联系电话="")],
    }
    records["pairings"] = [
        {
            "帮扶干部姓名": "李新",
            "帮扶干部身份证号": id_number(),
            "帮扶干部手机号": mobile(),
            "派出单位": "县新单位",
            "户主姓名": "孙空",
            "户主身份证号": records["households"][0]["户主身份证号"],
            "结对开始日期": "2021/4/1",
        }
    ]
    for kind, rows in records.items():
        result = run(world, kind, roster_file(kind, rows), user="county", apply=True)
        assert result.ok, (kind, result.errors)
    before = {
        "cadres": list(Cadre.objects.order_by("pk").values()),
        "households": list(Household.objects.order_by("pk").values()),
        "villages": list(Area.objects.order_by("pk").values()),
    }
    for kind in ("villages", "cadres", "households", "pairings"):
        content = export_roster(kind, user=world.users["county"], reveal=True)
        result = run(world, kind, content, user="county", apply=True)
        assert result.ok, (kind, result.errors)
        assert result.counts["new"] == result.counts["changed"] == 0, kind
    assert list(Cadre.objects.order_by("pk").values()) == before["cadres"]
    assert list(Household.objects.order_by("pk").values()) == before["households"]
    assert list(Area.objects.order_by("pk").values()) == before["villages"]
    empty = Household.objects.get(head_name="孙空")
    assert empty.year_out_of_poverty is None and empty.phone_masked == ""
