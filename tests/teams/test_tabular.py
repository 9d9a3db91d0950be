"""core.tabular: reading uploads safely (formats, zip bombs, XML entities,
far-away cells, formulas) and normalising cells."""

from __future__ import annotations

import codecs
import datetime
import io
import struct
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import openpyxl.xml
import pytest
from django.core.exceptions import ImproperlyConfigured

from core import tabular
from core.tabular import CellError, TableError
from tests.teams.test_import_kit import (
    SHEET_CLOSE,
    SHEET_OPEN,
    WORKBOOK,
    inline,
    package,
    sheet_xml,
    xlsx,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rosters"
HEADERS = ["姓名", "身份证号", "签到半径（米）", "备注"]
REQUIRED = ["姓名", "身份证号"]
MB = 1024 * 1024


def read(data: bytes, filename: str = "roster.xlsx", **options) -> tabular.Table:
    arguments = {
        "filename": filename,
        "headers": HEADERS,
        "required": REQUIRED,
        "max_rows": 100,
        "max_bytes": 10 * MB,
    }
    arguments.update(options)
    return tabular.read_table(data, **arguments)


def refused(data: bytes, filename: str = "roster.xlsx", **options) -> str:
    with pytest.raises(TableError) as caught:
        read(data, filename, **options)
    return caught.value.message


SIMPLE = [["姓名", "身份证号"], ["张三", "150523198001010019"]]


# --- defusedxml --------------------------------------------------------------------------


def test_openpyxl_uses_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


def test_reading_refuses_to_run_without_defusedxml(monkeypatch):
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    with pytest.raises(ImproperlyConfigured):
        read(xlsx(SIMPLE))


# --- Formats: the bytes decide, and the name must agree ----------------------------------


def test_reads_xlsx_with_title_rows_and_reports_sheet_row_numbers():
    data = xlsx(
        [["姓名*", "身份证号＊", "备注"], ["张三", "150523198001010019", "x"], ["", "", ""]]
        + [["李四", "150523198001010027", ""]],
        title_rows=[["甲镇驻村工作队花名册"], []],
    )
    table = read(data)
    assert table.format == "xlsx"
    assert table.header_row == 3
    assert [number for number, _ in table.rows] == [4, 6]  # row 5 is blank
    assert table.rows[0][1][:2] == ["张三", "150523198001010019"]
    assert not table.has("签到半径（米）")


def test_merged_cells_give_their_value_to_every_cell():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["开台镇驻村工作队花名册"])
    ws.merge_cells("A1:C1")
    ws.append(["姓名", "身份证号", "备注"])
    ws.append(["张三", "150523198001010019", "同一批"])
    ws.append(["李四", "150523198001010027", None])
    ws.append(["王五", "150523198001010035", None])
    ws.append(["赵六", "150523198001010043", "另起"])
    ws.merge_cells("C3:C5")  # 备注 merged down three rows
    ws.merge_cells("A20:C40")  # an empty merged block below the data
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read(buffer.getvalue(), headers=["姓名", "身份证号", "备注"])
    assert table.header_row == 2
    assert [values for _, values in table.rows] == [
        ["张三", "150523198001010019", "同一批"],
        ["李四", "150523198001010027", "同一批"],
        ["王五", "150523198001010035", "同一批"],
        ["赵六", "150523198001010043", "另起"],
    ]


def test_merged_ranges_are_clipped_and_overlaps_cannot_multiply_work():
    rows = [["a", "", ""], ["", "", ""]]
    tabular._fill_merged(rows, [((0, 0), (1_048_575, 16_383))])  # clipped to the sheet
    assert rows == [["a", "a", "a"], ["a", "a", "a"]]
    rows = [["a", ""], ["", ""]]
    tabular._fill_merged(rows, [((0, 0), (0, 0))] * 4 + [((0, 0), (1, 1))])  # over budget
    assert rows == [["a", ""], ["", ""]]


def test_footer_rows_below_the_data_are_left_out():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号"])
    ws.append(["备注", "150523198001010019"])  # a name that looks like a footer word
    ws.append(["填表人：王五", None])  # in the middle: a record with errors, not a footer
    ws.append(["李四", "150523198001010027"])
    ws.append([None, None])
    ws.append(["合计", 2])
    ws.append(["填表人：张三", "审核人：李四"])
    ws.append(["联系电话 0475-1234567", None])
    ws.append(["填报日期：2026年3月1日"])
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read(buffer.getvalue())
    assert [number for number, _ in table.rows] == [2, 3, 4]
    assert table.footer_rows == [6, 7, 8, 9]


def test_reads_xls_saved_by_libreoffice():
    table = tabular.read_table(
        (FIXTURES / "cadres.xls").read_bytes(),
        filename="cadres.xls",
        headers=["姓名", "身份证号", "驻村开始日期"],
        required=["姓名"],
        max_rows=100,
        max_bytes=10 * MB,
    )
    assert table.format == "xls"
    assert table.header_row == 2
    assert table.rows[0][1][1] == "150523198203150019"
    assert table.rows[0][1][2] == datetime.date(2021, 3, 1)


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030"], ids=["utf8", "utf8-bom", "gb18030"]
)
def test_reads_csv_in_each_encoding(encoding):
    text = "甲镇花名册\r\n姓名,身份证号,备注\r\n张三,150523198001010019,“引号”\r\n"
    table = read(text.encode(encoding), "roster.csv")
    assert table.format == "csv"
    assert table.header_row == 2
    assert table.rows == [(3, ["张三", "150523198001010019", None, "“引号”"])]


def test_reads_tab_separated_csv():
    table = read("姓名\t身份证号\n张三\t150523198001010019\n".encode(), "roster.csv")
    assert table.rows[0][1][:2] == ["张三", "150523198001010019"]


def test_gb18030_fixture_is_not_utf8():
    data = (FIXTURES / "cadres-gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "驻村工作队" in tabular.decode_text(data)


@pytest.mark.parametrize("name", ["roster.xlsx", "roster.xls"])
def test_html_saved_as_excel_is_refused(name):
    html = "<html><head><meta charset='utf-8'></head><body><table><tr><td>姓名</td></tr></table></body></html>"
    assert "网页" in refused(html.encode(), name)


def test_spreadsheet_xml_2003_is_refused():
    data = b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'
    assert "XML" in refused(data, "roster.xls")


def test_file_that_is_not_what_its_name_says():
    xls = (FIXTURES / "cadres.xls").read_bytes()
    message = refused(xls, "roster.xlsx")
    assert "扩展名不符" in message and ".xlsx" in message
    assert "扩展名不符" in refused(xlsx(SIMPLE), "roster.csv")
    assert "扩展名不符" in refused("姓名,身份证号\n".encode(), "roster.xlsx")


def test_unsupported_extension_and_formats():
    assert "只支持" in refused(xlsx(SIMPLE), "roster.txt")
    assert "只支持" in refused(xlsx(SIMPLE), "roster")
    assert "无法识别" in refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "roster.csv")
    assert "UTF-16" in refused(codecs.BOM_UTF16_LE + "姓名".encode("utf-16-le"), "roster.csv")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    assert "Word" in refused(docx.getvalue(), "roster.xlsx")
    ods = io.BytesIO()
    with zipfile.ZipFile(ods, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<document/>")
    assert "ODS" in refused(ods.getvalue(), "roster.xlsx")


def test_broken_files_are_refused_with_a_message():
    assert "损坏" in refused(b"PK\x03\x04" + b"\x00" * 200, "roster.xlsx")
    assert "损坏" in refused(tabular.OLE2_MAGIC + b"\x00" * 600, "roster.xls")
    assert "空" in refused(b"", "roster.csv")


def test_size_limit():
    data = xlsx(SIMPLE)
    message = refused(data, max_bytes=len(data) - 1)
    assert "上限" in message and "MB" in message


# --- Zip bombs: checked from the central directory, before inflating ----------------------


def _raw_zip(files: dict[str, bytes], raw: dict[str, tuple[bytes, int, int]]) -> bytes:
    """A zip written by hand: ``files`` deflated normally, and ``raw`` entries
    given as (deflate stream, CRC, declared size) — what a crafted bomb is."""
    out = io.BytesIO()
    central = b""
    entries = [(n, zlib.compress(c)[2:-4], zlib.crc32(c), len(c)) for n, c in files.items()]
    entries += [(n, payload, crc, size) for n, (payload, crc, size) in raw.items()]
    for name, payload, crc, size in entries:
        offset, encoded = out.tell(), name.encode()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(payload), size, len(encoded), 0
            )
            + encoded
            + payload
        )
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(payload),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(central)
    out.write(
        struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), start, 0
        )
    )
    return out.getvalue()


def _minimal_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package({}))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_zip_bomb_is_refused_before_inflating():
    # 64 MB of zeros in a sheet, streamed through zlib: the upload is ~64 KB.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk, parts, crc = b"\x00" * MB, [], 0
    for _ in range(64):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    bomb = _raw_zip(_minimal_parts(), {"xl/worksheets/sheet1.xml": (b"".join(parts), crc, 64 * MB)})
    assert len(bomb) < 200 * 1024
    assert "压缩炸弹" in refused(bomb)


def _patch_sizes(data: bytes, name: bytes, *, size: int, crc: int | None = None) -> bytes:
    """Change the declared uncompressed size (and CRC) of one entry, in its local
    header and in the central directory."""
    data = bytearray(data)
    for signature, name_at, size_at, crc_at, length_at in (
        (b"PK\x03\x04", 30, 22, 14, 26),
        (b"PK\x01\x02", 46, 24, 16, 28),
    ):
        at = data.find(signature)
        while at != -1:
            length = struct.unpack_from("<H", data, at + length_at)[0]
            if bytes(data[at + name_at : at + name_at + length]) == name:
                struct.pack_into("<I", data, at + size_at, size)
                if crc is not None:
                    struct.pack_into("<I", data, at + crc_at, crc)
            at = data.find(signature, at + 4)
    return bytes(data)


def test_declared_size_over_the_total_limit_is_refused():
    data = package({"xl/worksheets/sheet1.xml": sheet_xml(SIMPLE)})
    data = _patch_sizes(data, b"xl/worksheets/sheet1.xml", size=0xFFFFFFF0)
    assert "压缩炸弹" in refused(data)


def test_entry_larger_than_declared_is_not_read_past_its_declared_size():
    sheet = sheet_xml(SIMPLE) + b" " * (2 * MB)
    short = 200
    data = package({"xl/worksheets/sheet1.xml": sheet})
    data = _patch_sizes(
        data, b"xl/worksheets/sheet1.xml", size=short, crc=zlib.crc32(sheet[:short])
    )
    assert "损坏" in refused(data)  # the first 200 bytes are not a whole sheet


def test_too_many_entries_and_duplicate_names_are_refused():
    many = package({f"xl/media/image{i}.png": b"x" for i in range(1001)})
    assert "部件" in refused(many)
    duplicate = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(duplicate, "w") as archive:
        for name, content in _minimal_parts().items():
            archive.writestr(name, content)
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml(SIMPLE))
    assert "重名" in refused(duplicate.getvalue())


# --- XML entities ---------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
EXTERNAL = b'<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
# a comment first (its "<!" is harmless), then a bare entity declaration
AFTER_A_COMMENT = b'<!-- saved by WPS --><!ENTITY lol "lol">'


@pytest.mark.parametrize(
    "prolog",
    [BILLION_LAUGHS, EXTERNAL, AFTER_A_COMMENT],
    ids=["billion-laughs", "xxe", "after-a-comment"],
)
def test_entity_declarations_in_the_sheet_are_refused(prolog):
    sheet = sheet_xml([["姓名", "身份证号"], ["&lol9;", "150523198001010019"]], prolog=prolog)
    assert "不安全的XML" in refused(package({"xl/worksheets/sheet1.xml": sheet}))


def test_entity_declarations_in_shared_strings_and_workbook_are_refused():
    strings = (
        b'<?xml version="1.0"?>'
        + BILLION_LAUGHS.replace(b"lolz", b"sst")
        + b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol9;</t></si></sst>'
    )
    data = package({"xl/worksheets/sheet1.xml": sheet_xml(SIMPLE), "xl/sharedStrings.xml": strings})
    assert "不安全的XML" in refused(data)
    workbook = WORKBOOK.replace(b"?>", b"?>" + BILLION_LAUGHS.replace(b"lolz", b"workbook"), 1)
    data = package({"xl/worksheets/sheet1.xml": sheet_xml(SIMPLE), "xl/workbook.xml": workbook})
    assert "不安全的XML" in refused(data)


def test_a_comment_alone_is_not_refused():
    sheet = sheet_xml(SIMPLE, prolog=b"<!-- saved by WPS -->")
    assert _grid(package({"xl/worksheets/sheet1.xml": sheet}), "a.xlsx")[0][0] == SIMPLE[0][0]


def test_utf16_xml_parts_are_refused():
    sheet = sheet_xml(SIMPLE).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = package({"xl/worksheets/sheet1.xml": codecs.BOM_UTF16_LE + sheet.encode("utf-16-le")})
    assert "编码" in refused(data)


# --- Far-away cells: the reader would allocate the whole used range -------------------------


def _far(ref: str) -> bytes:
    rows = {1: inline("A1", "姓名") + inline("B1", "身份证号")}
    number = int("".join(c for c in ref if c.isdigit()))
    rows[number] = rows.get(number, b"") + inline(ref, "远处")
    body = b"".join(
        f'<row r="{r}">'.encode() + cells + b"</row>" for r, cells in sorted(rows.items())
    )
    return package({"xl/worksheets/sheet1.xml": tabular_sheet(body)})


def tabular_sheet(body: bytes) -> bytes:
    return SHEET_OPEN + body + SHEET_CLOSE


def test_value_in_the_last_cell_of_the_sheet_is_refused_without_crashing():
    # Read in-process, calamine would ask for 17 billion cells and abort Python.
    message = refused(_far("XFD1048576"))
    assert "超出了可以处理的范围" in message or "上限" in message


def test_huge_declared_count_of_shared_strings_is_refused_without_crashing():
    # calamine reserves room for uniqueCount strings up front: 48 GB here.
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        b' count="2000000000" uniqueCount="2000000000"><si><t>\xe5\xa7\x93\xe5\x90\x8d</t></si></sst>'
    )
    body = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    data = package(
        {"xl/worksheets/sheet1.xml": tabular_sheet(body), "xl/sharedStrings.xml": strings}
    )
    assert "超出了可以处理的范围" in refused(data)


def test_too_many_used_columns_or_rows_are_refused():
    assert "列" in refused(_far("ZZ1"))
    assert "行" in refused(_far("A50000"), max_rows=100)


def test_far_cell_xls_is_refused():
    message = refused((FIXTURES / "far-cell.xls").read_bytes(), "far-cell.xls")
    assert "列" in message or "范围" in message


def test_declared_dimension_is_not_trusted():
    body = b'<row r="1">' + inline("A1", "姓名") + inline("B1", "身份证号") + b"</row>"
    body += b'<row r="2">' + inline("A2", "张三") + inline("B2", "150523198001010019") + b"</row>"
    sheet = tabular_sheet(body).replace(
        b"<sheetData>", b'<dimension ref="A1:XFD1048576"/><sheetData>'
    )
    table = read(package({"xl/worksheets/sheet1.xml": sheet}))
    assert table.rows == [(2, ["张三", "150523198001010019", None, None])]


# --- Headers and rows -----------------------------------------------------------------------


def test_header_matching_trims_spaces_stars_and_brackets():
    table = read(xlsx([["  姓　名 * ", "身份证号＊", "签到半径(米)"], ["张三", "1", 500]]))
    assert table.columns == {"姓名": 0, "身份证号": 1, "签到半径（米）": 2}


def test_missing_required_headers_are_named():
    message = refused(xlsx([["姓名", "备注"], ["张三", ""]]))
    assert "缺少必填列" in message and "身份证号" in message and "第1行" in message
    assert "没有找到表头" in refused(xlsx([["a", "b"], ["c", "d"]]))
    assert "空" in refused(xlsx([]))


def test_duplicate_header_is_refused():
    assert "出现了两次" in refused(xlsx([["姓名", "身份证号", "姓名*"], ["a", "b", "c"]]))


def test_unknown_columns_are_ignored_and_order_is_free():
    table = read(
        xlsx([["序号", "身份证号", "其他", "姓名"], [1, "150523198001010019", "x", "张三"]])
    )
    assert table.rows == [(2, ["张三", "150523198001010019", None, None])]


def test_row_limit():
    rows = [["姓名", "身份证号"]] + [["张三", str(i)] for i in range(6)]
    assert "上限" in refused(xlsx(rows), max_rows=5)
    assert len(read(xlsx(rows), max_rows=6).rows) == 6
    csv_rows = "姓名,身份证号\n" + "张三,1\n" * 6
    assert "上限" in refused(csv_rows.encode(), "roster.csv", max_rows=5)


# --- Formulas ----------------------------------------------------------------------------------


def test_formula_cells_are_reported_by_row_and_header():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(['=CONCAT("标","题")'])  # a formula in a title row is fine
    ws.append(["姓名", "身份证号", "其他"])  # 其他 is not a roster column
    ws.append(["张三", '="150523198001010019"', "=1+1"])
    ws.append(["李四", "150523198001010027", ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    table = read(buffer.getvalue())
    assert table.errors == [{"row": 3, "column": "身份证号", "message": tabular.FORMULA_MESSAGE}]
    assert "单元格含公式" in tabular.FORMULA_MESSAGE


def test_formula_cells_of_an_xls_file_are_reported():
    # Saved by LibreOffice (README.md): formulas in C3:C5 (shared), D3:D4 (array),
    # E5 and the title row; the cells' cached values are what calamine returns.
    data = (FIXTURES / "formulas.xls").read_bytes()
    headers = ["姓名", "年龄", "年龄加一", "年龄乘二", "备注"]
    table = read(data, "formulas.xls", headers=headers, required=["姓名"])
    assert table.errors == [
        {"row": row, "column": column, "message": tabular.FORMULA_MESSAGE}
        for row, column in [
            (3, "年龄加一"),
            (3, "年龄乘二"),
            (4, "年龄加一"),
            (4, "年龄乘二"),
            (5, "年龄加一"),
            (5, "备注"),
        ]
    ]


def test_formula_with_prefixed_namespace_is_found():
    sheet = (
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>\xe5\xa7\x93\xe5\x90\x8d</x:t></x:is></x:c>'
        b'<x:c r="B1" t="inlineStr"><x:is><x:t>\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81\xe5\x8f\xb7</x:t></x:is></x:c></x:row>'
        b'<x:row r="2"><x:c r="A2"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row>'
        b"</x:sheetData></x:worksheet>"
    )
    table = read(package({"xl/worksheets/sheet1.xml": sheet}))
    assert [(e["row"], e["column"]) for e in table.errors] == [(2, "姓名")]


def test_csv_cells_starting_with_equals_are_formulas():
    table = read('姓名,身份证号\n=HYPERLINK("x"),1\n'.encode(), "roster.csv")
    assert [(e["row"], e["column"]) for e in table.errors] == [(2, "姓名")]


# --- Normalising cells -----------------------------------------------------------------------


def test_text_trims_and_makes_full_width_digits_and_letters_half_width():
    assert tabular.text("\u3000 ＡＢｃ１２３ \xa0") == "ABc123"
    assert tabular.text(12.0) == "12"
    assert tabular.text(12.5) == "12.5"
    assert tabular.text(None) == ""
    assert tabular.text(datetime.date(2021, 3, 1)) == "2021-03-01"
    assert tabular.text("'=1+1") == "=1+1"  # the export's escape comes off


def test_names_lose_alignment_spaces():
    assert tabular.name_text("张　三") == "张三"
    assert tabular.name_text(" 欧阳 娜娜 ") == "欧阳娜娜"
    assert tabular.name_text("Li Ming") == "Li Ming"


@pytest.mark.parametrize(
    "value",
    [
        datetime.date(2021, 3, 1),
        datetime.datetime(2021, 3, 1, 0, 0),  # noqa: DTZ001 - what calamine returns
        "2021-03-01",
        "2021-3-1",
        "2021/3/1",
        "2021.3.1",
        "2021年3月1日",
        "2021 年 3 月 1 日",
        "２０２１年３月１日",
        "20210301",
        20210301,
        44256.0,  # an Excel day number shown as a number
        "2021-03-01 00:00:00",
    ],
)
def test_date_spellings(value):
    assert tabular.to_date(value) == datetime.date(2021, 3, 1)


@pytest.mark.parametrize(
    "value", ["2021-02-30", "明天", "3/1/2021", "2021-13-01", 12.5, "1850-01-01"]
)
def test_bad_dates(value):
    with pytest.raises(CellError):
        tabular.to_date(value)


def test_yes_no():
    for value in ("是", "Y", "y", "1", 1, 1.0, True, "TRUE", "yes"):
        assert tabular.to_bool(value) is True, value
    for value in ("否", "N", "n", "0", 0, 0.0, False, "FALSE", "no"):
        assert tabular.to_bool(value) is False, value
    assert tabular.to_bool("") is None
    with pytest.raises(CellError):
        tabular.to_bool("可能")
    with pytest.raises(CellError):
        tabular.to_bool(2)


def test_numbers():
    assert tabular.to_int("12") == 12
    assert tabular.to_int(12.0) == 12
    assert tabular.to_int("1,234") == 1234
    assert tabular.to_int("１２") == 12
    assert tabular.to_int("") is None
    for bad in ("12.5", 12.5, "abc", True):
        with pytest.raises(CellError):
            tabular.to_int(bad)
    assert tabular.to_decimal("43.601234") == Decimal("43.601234")
    assert tabular.to_decimal(43.6) == Decimal("43.6")
    with pytest.raises(CellError):
        tabular.to_decimal("北纬43度")


def test_id_numbers_stored_as_numbers_are_refused():
    for value in (150523198001010019.0, 150523198001010019, "1.50523E+17", "1.50523198001e17"):
        with pytest.raises(CellError) as caught:
            tabular.id_text(value)
        assert tabular.TEXT_FORMAT_HINT in caught.value.message
    assert tabular.id_text(" １５０５２３１９８００１０１００１ｘ ") == "15052319800101001X"
    assert tabular.id_text("150523 19800101 001x") == "15052319800101001X"


def test_phone_numbers():
    assert tabular.mobile_text(13800001234.0) == "13800001234"
    assert tabular.mobile_text("138 0000 1234") == "13800001234"
    assert tabular.mobile_text("138-0000-1234") == "13800001234"
    assert tabular.mobile_text("+86 13800001234") == "13800001234"
    assert tabular.mobile_text("") == ""
    for bad in ("12345", "23800001234", "1380000123"):
        with pytest.raises(CellError):
            tabular.mobile_text(bad)
    assert tabular.phone_text("0475-1234567") == "0475-1234567"
    assert tabular.phone_text("13800001234") == "13800001234"
    with pytest.raises(CellError):
        tabular.phone_text("电话")


def test_choices():
    assert tabular.choice(" 示范村 ", ("示范村", "一般村")) == "示范村"
    with pytest.raises(CellError) as caught:
        tabular.choice("好村", ("示范村", "一般村"))
    assert "可选：示范村、一般村" in caught.value.message


def test_column_letters():
    assert [tabular.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_a_title_row_repeating_a_header_is_not_the_header():
    table = read(xlsx([["姓名", "姓名"], ["姓名", "身份证号"], ["张三", "1"]]))
    assert table.header_row == 2 and table.rows == [(3, ["张三", "1", None, None])]


# --- A large sheet read by two children ---------------------------------------------------


def _grid(data: bytes, filename: str = "roster.xlsx") -> list[list]:
    return tabular.read_grid(data, filename=filename, max_bytes=10 * MB, max_rows=1000).rows


@pytest.fixture
def readers(monkeypatch) -> list:
    """Every sheet is split when it can be (SPLIT_FROM 0); the children's functions, listed."""
    from core import forked

    started = []
    real = forked.start

    def spy(fn, *args, **kwargs):
        started.append(fn)
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(tabular.forked, "start", spy)
    monkeypatch.setattr(tabular, "SPLIT_FROM", 0)
    return started


def _whole(data: bytes, monkeypatch, filename: str = "roster.xlsx") -> list[list]:
    with monkeypatch.context() as m:
        m.setattr(tabular, "SPLIT_FROM", 1 << 40)
        return _grid(data, filename)


def _workbook_with_shapes() -> bytes:
    """Shared strings, a title row, dates and numbers, a merged township
    column across the middle, blank rows at the middle, the second half
    starting further right and running wider."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["开台旗驻村干部花名册"])
    ws.append(["乡镇", "姓名", "身份证号", "开始日期", "人数"])
    for i in range(60):
        ws.append(
            [
                "甲镇" if i == 0 else None,
                f"干部{i}",
                f"15052319800101{i:04d}",
                datetime.date(2021, 3, 1),
                i,
            ]
        )
    ws.merge_cells("A3:A62")
    for _ in range(5):
        ws.append([])
    for i in range(60):
        ws.append([None, None, f"后{i}", None, i, "备注" if i % 7 == 0 else None])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("shape", ["shapes", "roster", "libreoffice"])
def test_two_readers_read_what_one_reads(readers, monkeypatch, shape):
    data = {
        "shapes": _workbook_with_shapes,
        "roster": lambda: xlsx(
            [["姓名", "身份证号"]] + [[f"张{i}", f"1505231980{i:08d}"] for i in range(300)]
        ),
        "libreoffice": lambda: (FIXTURES / "cadres.xlsx").read_bytes(),
    }[shape]()
    split = _grid(data)
    assert readers.count(tabular._calamine_part) == 2
    assert split == _whole(data, monkeypatch)


def test_the_merged_value_reaches_across_the_cut(readers):
    rows = _grid(_workbook_with_shapes())
    assert [row[0] for row in rows[2:62]] == ["甲镇"] * 60
    assert rows[70][2:5] == ["后3", "", 3]


def test_a_sheet_whose_rows_carry_no_numbers_is_read_whole(readers, monkeypatch):
    body = b"".join(
        b"<row>" + inline("A1", f"行{i}").replace(b' r="A1"', b"") + b"</row>" for i in range(50)
    )
    data = package({"xl/worksheets/sheet1.xml": SHEET_OPEN + body + SHEET_CLOSE})
    rows = _grid(data)
    assert tabular._calamine_part not in readers
    assert [row[0] for row in rows] == [f"行{i}" for i in range(50)]


def test_rows_out_of_order_are_read_whole_after_all(readers, monkeypatch):
    order = [*range(30, 60), *range(1, 30)]
    body = b"".join(
        f'<row r="{r}">'.encode() + inline(f"A{r}", f"行{r}") + b"</row>" for r in order
    )
    data = package({"xl/worksheets/sheet1.xml": SHEET_OPEN + body + SHEET_CLOSE})
    rows = _grid(data)
    assert readers.count(tabular._calamine_part) == 2 and tabular._calamine_grid in readers
    assert rows == _whole(data, monkeypatch)
    assert [row[0] for row in rows] == [f"行{r}" for r in range(1, 60)]


def test_a_far_cell_in_the_second_half_is_refused_as_before(readers, monkeypatch):
    body = b"".join(
        f'<row r="{r}">'.encode() + inline(f"A{r}", "x") + b"</row>" for r in range(1, 40)
    )
    body += b'<row r="1048576">' + inline("XFD1048576", "x") + b"</row>"
    data = package({"xl/worksheets/sheet1.xml": SHEET_OPEN + body + SHEET_CLOSE})
    with pytest.raises(TableError) as split:
        _grid(data)
    assert readers.count(tabular._calamine_part) == 2
    with pytest.raises(TableError) as whole:
        _whole(data, monkeypatch)
    assert split.value.message == whole.value.message
