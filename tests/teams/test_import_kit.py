"""Builders shared by the roster tests: workbooks made with openpyxl, records
with valid ID numbers, and short-cuts to check and apply as a given user."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from stdnum.cn import ric

from teams.rosters import ROSTERS
from tests.teams import factories

# One counter with tests.teams.factories: both make ID numbers of the same
# region and birth dates, so separate counters collide after enough tests.
_serial = factories._serial


def id_number(birth: str = "19800101", region: str = "150523", serial: int | None = None) -> str:
    """A valid 18-character ID number (check digit computed)."""
    seq = next(_serial) if serial is None else serial
    body = f"{region}{birth}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def mobile(n: int | None = None) -> str:
    return f"139{(next(_serial) if n is None else n):08d}"


def headers(kind: str, *, stars: bool = False) -> list[str]:
    return [c.header + ("*" if stars and c.required else "") for c in ROSTERS[kind].columns]


def xlsx(
    rows: Sequence[Sequence[Any]],
    *,
    title_rows: Sequence[Sequence[Any]] = (),
    text_columns: Iterable[int] = (),
    sheet: str = "花名册",
) -> bytes:
    """A workbook whose first sheet holds title_rows, then rows; cells in
    text_columns (0-based) are formatted as text, dates as yyyy-mm-dd."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in [*title_rows, *rows]:
        ws.append(list(row))
    text_columns = set(text_columns)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            elif cell.column - 1 in text_columns and isinstance(cell.value, str):
                cell.number_format = "@"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def table(kind: str, records: Sequence[dict[str, Any]], *, stars: bool = False) -> list[list]:
    """Header row plus one row per record (keys are the roster headers)."""
    names = headers(kind)
    return [headers(kind, stars=stars)] + [[r.get(h, "") for h in names] for r in records]


def roster_file(kind: str, records: Sequence[dict[str, Any]], **options) -> bytes:
    return xlsx(table(kind, records), **options)


def village(township: str = "甲镇", name: str = "新村", **extra) -> dict[str, Any]:
    record = {
        "乡镇": township,
        "村名称": name,
        "村分类": "一般村",
        "村情类别": "贫困村",
        "纬度": 43.601234,
        "经度": 121.301234,
        "签到半径（米）": 800,
    }
    record.update(extra)
    return record


def cadre(township: str = "甲镇", village_name: str = "一村", **extra) -> dict[str, Any]:
    record = {
        "姓名": "赵六",
        "身份证号": id_number(),
        "手机号": mobile(),
        "派出单位": "县财政局",
        "单位类别": "经济部门",
        "职务": "科员",
        "职级": "科员",
        "学历": "大学本科",
        "所学专业": "农学",
        "是否涉农专业": "是",
        "政治面貌": "中共党员",
        "是否有农村工作经历": "否",
        "是否参加过脱贫攻坚驻村": "否",
        "乡镇": township,
        "村名称": village_name,
        "驻村身份": "工作队员",
        "驻村开始日期": datetime.date(2021, 3, 1),
    }
    record.update(extra)
    return record


def household(township: str = "甲镇", village_name: str = "一村", **extra) -> dict[str, Any]:
    record = {
        "乡镇": township,
        "村名称": village_name,
        "户主姓名": "钱七",
        "户主身份证号": id_number(birth="19650505"),
        "家庭人口": 4,
        "户类型": "脱贫户",
        "脱贫年度": 2019,
        "联系电话": mobile(),
    }
    record.update(extra)
    return record


def pairing(cadre_record: dict, household_record: dict, **extra) -> dict[str, Any]:
    record = {
        "帮扶干部姓名": cadre_record["姓名"],
        "帮扶干部身份证号": cadre_record["身份证号"],
        "帮扶干部手机号": cadre_record.get("手机号", ""),
        "派出单位": cadre_record.get("派出单位", ""),
        "户主姓名": household_record["户主姓名"],
        "户主身份证号": household_record["户主身份证号"],
        "结对开始日期": datetime.date(2021, 4, 1),
    }
    record.update(extra)
    return record


def run(
    world, kind: str, data: bytes, *, user: str = "township", apply: bool = False, name: str = ""
):
    """check_roster or apply_roster as one of the world's users."""
    from teams.importers import apply_roster, check_roster

    actor = world.users[user]
    township = actor.scope_area if actor.scope_area and actor.scope_area.is_township else None
    county = world.county if actor.scope_area.county_pk == world.county.pk else world.other_county
    function = apply_roster if apply else check_roster
    return function(
        kind=kind,
        data=data,
        filename=name or f"{kind}.xlsx",
        actor=actor,
        county=county,
        township=township,
    )


def errors_of(result) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in result.errors]


def test_kit_id_numbers_are_valid():
    from core.idcard import parse_id_number

    for _ in range(50):
        parse_id_number(id_number())


# --- Hand-made packages, for the traps ------------------------------------------------

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    b"</Types>"
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    b"</Relationships>"
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b"</Relationships>"
)
SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"


def inline(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def sheet_xml(rows: Sequence[Sequence[Any]], *, prolog: bytes = b"") -> bytes:
    """A sheet of inline strings; ``prolog`` goes before the root (a DOCTYPE)."""
    from core.tabular import column_letter

    body = b""
    for r, row in enumerate(rows, start=1):
        cells = b"".join(
            inline(f"{column_letter(c)}{r}", str(v)) for c, v in enumerate(row) if v != ""
        )
        body += f'<row r="{r}">'.encode() + cells + b"</row>"
    head = SHEET_OPEN
    if prolog:
        head = head.replace(b"<worksheet", prolog + b"<worksheet", 1)
    return head + body + SHEET_CLOSE


def package(parts: dict[str, bytes], *, compression: int | None = None) -> bytes:
    """An .xlsx zip of the given parts on top of a minimal valid package."""
    import zipfile

    files = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK,
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
    }
    files.update(parts)
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compression is None else compression
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
