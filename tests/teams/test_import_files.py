"""Whole files through the importer: real files saved by LibreOffice, and each
bad input of issue 3 answered with a Chinese message and nothing written."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from core.models import AuditLog
from teams.importers import RosterError, RosterInvalid
from teams.models import Cadre, Membership
from teams.rosters import MAX_BYTES, MAX_ROWS
from tests.teams.test_import_kit import (
    cadre,
    errors_of,
    headers,
    household,
    id_number,
    package,
    roster_file,
    run,
    sheet_xml,
    xlsx,
)

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"


def _imported(world, name: str) -> list[tuple]:
    result = run(world, "cadres", (FIXTURES / name).read_bytes(), apply=True, name=name)
    assert result.ok, result.errors
    assert result.counts == {"new": 3, "changed": 0, "unchanged": 0}
    rows = []
    for person in Cadre.objects.select_related("unit", "user").order_by("name"):
        membership = Membership.objects.get(cadre=person)
        rows.append(
            (
                person.name,
                person.get_number("id_number"),
                person.get_number("phone"),
                person.unit.name,
                person.unit.kind,
                person.post,
                person.rank,
                person.education,
                person.major,
                person.agri_major,
                person.political_status,
                person.rural_experience,
                person.prior_poverty_service,
                person.user.username,
                membership.role,
                membership.start_date,
            )
        )
    return rows


@pytest.mark.parametrize("name", ["cadres.xls", "cadres-gb18030.csv"])
def test_libreoffice_files_import_the_same_as_the_xlsx(world, name):
    expected = _imported(world, "cadres.xlsx")
    assert expected[0][0] == "张伟" and expected[0][-1] == datetime.date(2021, 3, 1)
    assert expected[1][1] == "150523199007120028"
    # the same file again in the other format: every row unchanged...
    result = run(world, "cadres", (FIXTURES / name).read_bytes(), name=name)
    assert result.ok and result.counts == {"new": 0, "changed": 0, "unchanged": 3}
    # ...and into an empty portal, the same records
    Membership.objects.all().delete()
    users = [c.user for c in Cadre.objects.all()]
    Cadre.objects.all().delete()
    for user in users:
        user.delete()
    assert _imported(world, name) == expected


def test_title_rows_full_width_characters_and_every_date_spelling(world):
    spellings = ["2021-03-01", "2021/3/1", "2021.3.1", "2021年3月1日", datetime.date(2021, 3, 1)]
    records = []
    for spelling in spellings:
        number = id_number()
        full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
        records.append(
            cadre(
                姓名="欧阳　娜娜",
                身份证号="\u3000" + full_width + " ",
                手机号="１３９" + f"{len(records):08d}",
                驻村开始日期=spelling,
            )
        )
    data = xlsx(
        [["序号", *headers("cadres", stars=True)]]
        + [[i, *r.values()] for i, r in enumerate(records)],
        title_rows=[["测试县甲镇驻村工作队花名册"], ["填报单位：甲镇驻村办", "", "2021年"]],
    )
    result = run(world, "cadres", data, apply=True)
    assert result.ok, result.errors
    assert result.counts["new"] == len(spellings)
    starts = set(Membership.objects.values_list("start_date", flat=True))
    assert starts == {datetime.date(2021, 3, 1)}
    person = Cadre.objects.order_by("pk").first()
    assert person.name == "欧阳娜娜" and person.get_number("phone") == "13900000000"
    assert person.get_number("id_number") == records[0]["身份证号"].strip().translate(
        str.maketrans("０１２３４５６７８９Ｘ", "0123456789X")
    )


def test_error_rows_are_the_sheet_row_numbers(world):
    data = xlsx(
        [headers("cadres"), [*cadre().values()], [""] * 17, [*cadre(学历="小学").values()]],
        title_rows=[["标题"], []],
    )
    result = run(world, "cadres", data)
    assert errors_of(result) == [(6, "学历")]


def test_id_numbers_stored_as_numbers(world):
    record = cadre()
    record["身份证号"] = int(record["身份证号"][:15] + "000")  # what Excel keeps
    result = run(world, "cadres", roster_file("cadres", [record]))
    assert errors_of(result) == [(2, "身份证号")]
    assert "身份证号列请设置为文本格式" in result.errors[0]["message"]
    shown = roster_file("households", [household(户主身份证号="1.50523E+17")])
    result = run(world, "households", shown)
    assert "身份证号列请设置为文本格式" in result.errors[0]["message"]


def test_formulas_in_cells(world):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers("households"))
    ws.append([*household(家庭人口="=2+2").values()])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = run(world, "households", buffer.getvalue())
    assert errors_of(result) == [(2, "家庭人口")]
    assert "单元格含公式" in result.errors[0]["message"]
    csv = "\n".join(
        [
            ",".join(headers("households")),
            '甲镇,一村,=HYPERLINK("http://x"),150523196505050016,4,脱贫户,,',
        ]
    )
    result = run(world, "households", csv.encode(), name="households.csv")
    assert (2, "户主姓名") in errors_of(result)


def test_more_than_max_rows(world):
    lines = [",".join(headers("households"))]
    lines += ["甲镇,一村,钱七,x,4,脱贫户,,"] * (MAX_ROWS + 1)
    with pytest.raises(RosterError) as caught:
        run(world, "households", "\n".join(lines).encode(), name="households.csv")
    assert f"{MAX_ROWS}行" in caught.value.message


def test_files_over_the_size_limit(world):
    data = b"x" * (MAX_BYTES + 1)
    with pytest.raises(RosterError) as caught:
        run(world, "households", data, name="households.csv")
    assert "10MB" in caught.value.message


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"<html><body><table><tr><td>x</td></tr></table></body></html>", "h.xlsx", "网页"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "h.pdf", "只支持"),
        ("乡镇,村名称\n".encode(), "h.xlsx", "扩展名不符"),
    ],
    ids=["html-as-xlsx", "pdf", "csv-as-xlsx"],
)
def test_wrong_formats(world, data, name, words):
    with pytest.raises(RosterError) as caught:
        run(world, "households", data, name=name)
    assert words in caught.value.message


def test_zip_bomb_through_the_importer(world):
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package({}))) as source,
        zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (16 * 1024 * 1024) + b"/>")
    data = buffer.getvalue()
    assert len(data) < 100_000  # 16 MB of spaces in ~16 KB
    with pytest.raises(RosterError) as caught:
        run(world, "households", data)
    assert "压缩炸弹" in caught.value.message


def test_entity_bomb_through_the_importer(world):
    prolog = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    sheet = sheet_xml([headers("households"), ["甲镇", "一村", "&b;"]], prolog=prolog)
    with pytest.raises(RosterError) as caught:
        run(world, "households", package({"xl/worksheets/sheet1.xml": sheet}))
    assert "不安全的XML" in caught.value.message


def test_missing_headers(world):
    with pytest.raises(RosterError) as caught:
        run(world, "cadres", xlsx([["姓名", "身份证号", "手机号"], ["张三", "x", "y"]]))
    message = caught.value.message
    assert "缺少必填列" in message
    for name in ("派出单位", "单位类别", "学历", "政治面貌", "乡镇", "村名称", "驻村身份"):
        assert name in message


def test_a_refused_file_writes_nothing(world):
    with pytest.raises(RosterInvalid):
        run(world, "cadres", roster_file("cadres", [cadre(), cadre(手机号="12")]), apply=True)
    assert not Cadre.objects.exists() and not AuditLog.objects.filter(action="create").exists()


def test_headers_without_rows(world):
    with pytest.raises(RosterError) as caught:
        run(world, "villages", xlsx([headers("villages"), [""] * 7]), user="county")
    assert caught.value.message == "表头（第1行）下面没有数据。"
