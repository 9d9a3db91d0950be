"""Roster workbooks, all built from ``teams.rosters``: the downloadable
templates, the exports (which import back unchanged) and the error copy of an
uploaded file."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from stdnum.cn import ric

from core import audit, tabular
from core.choices import AreaLevel, AuditAction
from core.excel import safe_cell
from core.models import Area, User

from .models import Household, Membership, Pairing
from .rosters import (
    CHOICE,
    DATE,
    DECIMAL,
    ID_NUMBER,
    INTEGER,
    MAX_ROWS,
    MOBILE,
    PHONE,
    ROSTERS,
    YESNO,
    Column,
    Roster,
)

TEXT_NUMBER_KINDS = (ID_NUMBER, MOBILE, PHONE)
DATE_FORMAT = "yyyy-mm-dd"
AUTHOR = "驻村工作队管理平台"
KIND_LABELS = {
    "text": "文本",
    CHOICE: "从下拉列表选择",
    DECIMAL: "数字",
    INTEGER: "整数",
    DATE: "日期，如2021-03-01",
    YESNO: "是/否",
    ID_NUMBER: "18位身份证号（文本格式）",
    MOBILE: "11位手机号（文本格式）",
    PHONE: "电话号码（文本格式）",
}
MASKED_NOTE = (
    "说明：本表中的身份证号和手机号已隐藏部分数字，仅供查看，不能用于导入。"
    "需要导入时，请使用有完整号码权限的账号导出。"
)
REVEALED_NOTE = (
    "说明：本表含完整的身份证号和手机号，属于个人信息，请妥善保管，用完及时删除。"
    "本表可直接修改后重新导入。"
)
_HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")
_ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")


def header_label(column: Column) -> str:
    """The header as written in templates and exports: required ones end with *
    (the importer strips it)."""
    return column.header + ("*" if column.required else "")


def _workbook_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- Templates -----------------------------------------------------------------------


def valid_id_example(example: str) -> str:
    """The column's example ID number with a correct check digit."""
    body = example[:17]
    return body + ric.calc_check_digit(body + "0")


def example_value(column: Column) -> Any:
    raw = column.example
    if not raw:
        return ""
    if column.kind == ID_NUMBER:
        return valid_id_example(raw)
    if column.kind == DATE:
        return tabular.to_date(raw)
    if column.kind == INTEGER:
        return int(raw)
    if column.kind == DECIMAL:
        return float(raw)
    return raw


def _validation_list(column: Column) -> str | None:
    values = (
        column.choices if column.kind == CHOICE else ("是", "否") if column.kind == YESNO else ()
    )
    if not values:
        return None
    return '"' + ",".join(values) + '"'


def template_workbook(kind: str) -> bytes:
    """Headers (required ones with *), dropdowns for choice and yes/no columns,
    ID and phone columns formatted as text, and an instructions sheet with one
    example row. The example sits on the instructions sheet, not under the
    headers, so that it can never be imported by accident."""
    roster = ROSTERS[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = roster.title[:31]
    last_row = MAX_ROWS + 1
    for index, column in enumerate(roster.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=header_label(column))
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if column.note:
            cell.comment = Comment(column.note, AUTHOR)
        dimension = ws.column_dimensions[letter]
        dimension.width = max(12, len(column.header) * 2 + 4, 22 if column.kind == ID_NUMBER else 0)
        if column.kind in TEXT_NUMBER_KINDS:
            dimension.number_format = "@"
        elif column.kind == DATE:
            dimension.number_format = DATE_FORMAT
        options = _validation_list(column)
        if options:
            validation = DataValidation(
                type="list",
                formula1=options,
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="请从下拉列表中选择",
                error=f"{column.header}只能填写：" + "、".join(column.choices or ("是", "否")),
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"
    _instructions_sheet(wb, roster)
    return _workbook_bytes(wb)


def _instructions_sheet(wb: Workbook, roster: Roster) -> None:
    ws = wb.create_sheet("填写说明")
    ws.append([f"{roster.title}填写说明"])
    ws["A1"].font = Font(bold=True, size=14)
    lines = [
        "1. 请在第一个工作表中从第2行起逐行填写，不要改动表头；标*的列必须填写。",
        "2. 身份证号、手机号列已设置为文本格式：请直接输入或“选择性粘贴—数值”，"
        "不要粘贴为数字（数字会丢失身份证号的后几位）。",
        f"3. 日期可以写成{tabular.DATE_SPELLINGS}；“是否”列填“是”或“否”。",
        "4. 不要使用公式；同一条记录只能出现一次；每个文件最多"
        f"{MAX_ROWS}行。整个文件要么全部导入，要么全部不导入。",
        *roster.notes,
    ]
    for line in lines:
        ws.append([line])
    ws.append([])
    ws.append(["列名", "必填", "类型", "可选值或说明"])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for column in roster.columns:
        ws.append(
            [
                column.header,
                "是" if column.required else "",
                KIND_LABELS.get(column.kind, "文本"),
                "、".join(column.choices) if column.choices else column.note,
            ]
        )
    ws.append([])
    ws.append(["示例（仅供参考，请勿把这一行复制到花名册中导入）："])
    ws.append([header_label(c) for c in roster.columns])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    ws.append([example_value(c) for c in roster.columns])
    example_row = ws.max_row
    for index, column in enumerate(roster.columns, start=1):
        cell = ws.cell(row=example_row, column=index)
        if column.kind in TEXT_NUMBER_KINDS:
            cell.number_format = "@"
        elif column.kind == DATE:
            cell.number_format = DATE_FORMAT
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 26
    ws.column_dimensions["D"].width = 60


# --- Exports ----------------------------------------------------------------------------


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _villages(user: User, reveal: bool) -> Iterable[list[Any]]:
    villages = (
        Area.objects.visible_to(user)
        .filter(level=AreaLevel.VILLAGE)
        .select_related("township")
        .order_by("township__code", "township__name", "code", "name", "pk")
    )
    for village in villages.iterator(chunk_size=2000):
        yield [
            village.township.name if village.township else "",
            village.name,
            village.category,
            village.condition,
            float(village.latitude) if village.latitude is not None else None,
            float(village.longitude) if village.longitude is not None else None,
            village.radius_m,
        ]


def _numbers(obj, name: str, reveal: bool) -> str:
    return obj.get_number(name) if reveal else getattr(obj, f"{name}_masked")


def _cadres(user: User, reveal: bool) -> Iterable[list[Any]]:
    memberships = (
        Membership.objects.visible_to(user)
        .current()
        .select_related("cadre__unit", "team__village__township")
        .order_by("team__village__township__name", "team__village__name", "cadre__name_pinyin")
    )
    for membership in memberships.iterator(chunk_size=2000):
        cadre, village = membership.cadre, membership.team.village
        yield [
            cadre.name,
            _numbers(cadre, "id_number", reveal),
            _numbers(cadre, "phone", reveal),
            cadre.unit.name,
            cadre.unit.kind,
            cadre.post,
            cadre.rank,
            cadre.education,
            cadre.major,
            _yes_no(cadre.agri_major),
            cadre.political_status,
            _yes_no(cadre.rural_experience),
            _yes_no(cadre.prior_poverty_service),
            village.township.name if village.township else "",
            village.name,
            membership.role,
            membership.start_date,
        ]


def _households(user: User, reveal: bool) -> Iterable[list[Any]]:
    households = (
        Household.objects.visible_to(user)
        .select_related("village__township")
        .order_by("village__township__name", "village__name", "head_name", "pk")
    )
    for household in households.iterator(chunk_size=2000):
        village = household.village
        yield [
            village.township.name if village.township else "",
            village.name,
            household.head_name,
            _numbers(household, "head_id_number", reveal),
            household.size,
            household.type,
            household.year_out_of_poverty,
            _numbers(household, "phone", reveal),
        ]


def _pairings(user: User, reveal: bool) -> Iterable[list[Any]]:
    pairings: QuerySet = (
        Pairing.objects.visible_to(user)
        .current()
        .select_related("cadre__unit", "household")
        .order_by("cadre__name_pinyin", "cadre__pk", "household__head_name", "pk")
    )
    for pairing in pairings.iterator(chunk_size=2000):
        cadre, household = pairing.cadre, pairing.household
        yield [
            cadre.name,
            _numbers(cadre, "id_number", reveal),
            _numbers(cadre, "phone", reveal),
            cadre.unit.name,
            household.head_name,
            _numbers(household, "head_id_number", reveal),
            pairing.start_date,
        ]


_EXPORT_ROWS = {
    "villages": _villages,
    "cadres": _cadres,
    "households": _households,
    "pairings": _pairings,
}


def export_roster(kind: str, *, user: User, reveal: bool, request=None) -> bytes:
    """The rows ``user`` may see, in the roster's own format: a revealed export
    imports back unchanged. Masked exports are for reading only (a note on top
    says so). Each export is an audit row."""
    roster = ROSTERS[kind]
    reveal = bool(reveal)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(roster.title[:31])
    for index, column in enumerate(roster.columns, start=1):
        width = max(12, len(column.header) * 2 + 4, 22 if column.kind == ID_NUMBER else 0)
        ws.column_dimensions[get_column_letter(index)].width = width
    note = WriteOnlyCell(ws, value=REVEALED_NOTE if reveal else MASKED_NOTE)
    note.font = Font(bold=True, color="C00000")
    ws.append([note])
    headers = [header_label(c) for c in roster.columns]
    header_cells = []
    for label in headers:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        header_cells.append(cell)
    ws.append(header_cells)
    text_columns = {i for i, c in enumerate(roster.columns) if c.kind in TEXT_NUMBER_KINDS}
    count = 0
    for values in _EXPORT_ROWS[kind](user, reveal):
        row = []
        for index, value in enumerate(values):
            value = safe_cell(value)
            if index in text_columns and value:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "@"
                row.append(cell)
            else:
                row.append(value)
        ws.append(row)
        count += 1
    with transaction.atomic():
        audit.record(
            action=AuditAction.EXPORT,
            actor=user,
            request=request,
            detail={"roster": kind, "rows": count, "columns": headers, "revealed": reveal},
        )
    return _workbook_bytes(wb)


def export_filename(kind: str, *, reveal: bool) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    suffix = "" if reveal else "_脱敏"
    return f"{ROSTERS[kind].title}_{stamp}{suffix}.xlsx"


# --- The error copy of an uploaded file -------------------------------------------------


def build_error_workbook(roster: Roster, table: tabular.Table, errors: Sequence[dict]) -> bytes:
    """The uploaded sheet again, bad cells filled red with a comment each, a last
    column 错误说明 per row, and a second sheet listing every error."""
    grid = table.grid.rows
    header_index = table.header_row - 1
    by_cell: dict[tuple[int, int], list[str]] = defaultdict(list)
    by_row: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        row, column, message = (
            int(error.get("row") or 0),
            error.get("column") or "",
            error["message"],
        )
        by_row[row].append(f"{column}：{message}" if column else message)
        col = table.columns.get(column)
        if row and col is not None:
            by_cell[(row, col)].append(message)
    width = max((len(r) for r in grid), default=0)
    text_columns = {
        table.columns[c.header]
        for c in roster.columns
        if c.kind in TEXT_NUMBER_KINDS and c.header in table.columns
    }
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("标注错误的原表")
    ws.column_dimensions[get_column_letter(width + 1)].width = 60
    for index, source in enumerate(grid):
        number = index + 1
        cells: list[Any] = []
        for col in range(width):
            value = source[col] if col < len(source) else None
            value = _uploaded_cell(value) if value != "" else None
            messages = by_cell.get((number, col))
            if messages or (col in text_columns and isinstance(value, str)):
                cell = WriteOnlyCell(ws, value=value)
                if col in text_columns and isinstance(value, str):
                    cell.number_format = "@"
                if messages:
                    cell.fill = _ERROR_FILL
                    cell.comment = Comment("\n".join(messages), AUTHOR)
                cells.append(cell)
            else:
                cells.append(value)
        if index == header_index:
            title = WriteOnlyCell(ws, value="错误说明")
            title.font = Font(bold=True, color="C00000")
            cells.append(title)
        elif by_row.get(number):
            note = WriteOnlyCell(ws, value=_uploaded_cell("；".join(by_row[number])))
            note.font = Font(color="C00000")
            cells.append(note)
        ws.append(cells)
    listing = wb.create_sheet("错误清单")
    listing.append(["行号", "列", "问题"])
    for error in sorted(errors, key=lambda e: (int(e.get("row") or 0), e.get("column") or "")):
        listing.append(
            [error.get("row") or "", error.get("column") or "", _uploaded_cell(error["message"])]
        )
    return _workbook_bytes(wb)


def _uploaded_cell(value: Any) -> Any:
    """A value of the uploaded file written back: escaped like every export, and
    the control characters a sheet cannot hold (NUL, escape codes: errors of
    the upload) shown as U+FFFD, so the copy can always be built."""
    if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return safe_cell(value)
