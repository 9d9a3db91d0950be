"""Reading uploaded spreadsheets (.xlsx, .xls, .csv) safely, and normalising cells.

The file's bytes decide its format, never its name, and the name must agree
with them. Before a spreadsheet reader sees an upload:

* its size is bounded;
* an .xlsx (a zip) is checked from its central directory before anything is
  inflated: entry count, duplicate names, encryption, compression method,
  declared sizes and compression ratios. The parts the reader needs are then
  inflated with reads bounded by the declared sizes, checked for DTDs and
  entity declarations (billion laughs), scanned for formulas, and packed
  again, uncompressed, into the zip the reader gets, so that it reads exactly
  the bytes that were checked;
* python-calamine reads the first sheet in a forked child process with an
  address-space and CPU limit. Calamine turns the sparse cells into one dense
  range: a 5 KB file with one value in A1 and another in XFD1048576 asks for
  gigabytes and aborts the process. The child reports the used range; a range
  beyond the row and column limits is refused before anything else happens.

The sheet's declared dimension is never used. Calamine returns the cached
values of formula cells, so formulas are found separately (xlsx: ``<f>``
elements of the sheet; xls: FORMULA, ARRAY and SHRFMLA records, ``core.xls``;
csv: cells starting with ``=``) and reported as errors.

This module imports nothing from the apps: the rosters pass their headers in.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import faulthandler
import io
import operator
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import openpyxl.xml
import python_calamine
from defusedxml import ElementTree as SafeET
from django.core.exceptions import ImproperlyConfigured

from core import forked, xls

XLSX = "xlsx"
XLS = "xls"
CSV = "csv"
FORMAT_NAMES = {
    XLSX: "Excel工作簿（.xlsx）",
    XLS: "Excel 97-2003工作簿（.xls）",
    CSV: "CSV文本（.csv）",
}
EXTENSIONS = {".xlsx": XLSX, ".xls": XLS, ".csv": CSV}

MAX_COLUMNS = 128  # used columns of the sheet
ROW_SLACK = 1000  # title, header and blank rows allowed beyond the data-row limit
MAX_ZIP_ENTRIES = 1000
MAX_UNCOMPRESSED = 128 * 1024 * 1024  # all entries together, as declared
MAX_RATIO = 100  # declared uncompressed / compressed size of one entry ...
RATIO_FLOOR = 1024 * 1024  # ... checked for entries larger than this
READER_MEMORY = 1024 * 1024 * 1024  # address space the sandboxed reader may add
READER_CPU_SECONDS = 60
HEADER_SEARCH_ROWS = 50

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

TEXT_FORMAT_HINT = "身份证号列请设置为文本格式"
FORMULA_MESSAGE = "单元格含公式，请改为直接填写内容（复制后“选择性粘贴—数值”）"


class TableError(Exception):
    """The whole file cannot be used; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CellError(ValueError):
    """One cell's value is unusable; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ensure_defused() -> None:
    """openpyxl only guards against XML entity bombs when defusedxml is active;
    ``OPENPYXL_DEFUSEDXML=False`` in the environment switches that off."""
    if not openpyxl.xml.DEFUSEDXML:
        raise ImproperlyConfigured(
            "openpyxl is not using defusedxml: install defusedxml and unset OPENPYXL_DEFUSEDXML."
        )


# --- The grid: every used cell of the first sheet --------------------------------


@dataclass
class Grid:
    format: str
    rows: list[list[Any]]  # rows[i][j] is the cell in spreadsheet row i + 1, column j + 1
    formulas: set[tuple[int, int]] = field(default_factory=set)  # (row index, column index)


def sniff(data: bytes) -> str:
    """The real format of the bytes: "xlsx", "xls", "csv", or a TableError."""
    if data.startswith(ZIP_MAGICS):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise TableError("文件已损坏，无法作为Excel工作簿打开。") from exc
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names:
            return XLSX
        if "mimetype" in names and "content.xml" in names:
            raise TableError("不支持ODS格式，请在WPS或Excel中另存为.xlsx后再上传。")
        if "word/document.xml" in names:
            raise TableError("这是一个Word文档，不是Excel表格。")
        raise TableError("文件是一个压缩包，但不是Excel工作簿（.xlsx）。")
    if data.startswith(OLE2_MAGIC):
        if _ENCRYPTED_PACKAGE in data[:65536] or _ENCRYPTED_PACKAGE in data[-65536:]:
            raise TableError("文件设置了打开密码，请取消密码后再上传。")
        return XLS
    head = data[:4096]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableError("CSV文件请保存为UTF-8或GB18030（GBK）编码，不支持UTF-16（Unicode文本）。")
    if b"\x00" in head:
        raise TableError("无法识别的文件格式：只支持.xlsx、.xls和.csv文件。")
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n").lower()
    if text.startswith(("<!doctype html", "<html", "<table", "<head", "<meta", "<body")):
        raise TableError(
            "文件内容是网页（HTML），不是Excel表格。请在Excel或WPS中打开它，"
            "“另存为”Excel工作簿（.xlsx）后再上传。"
        )
    if text.startswith("<"):
        raise TableError(
            "文件内容是XML，不是Excel工作簿。请在Excel或WPS中打开它，"
            "“另存为”Excel工作簿（.xlsx）后再上传。"
        )
    return CSV


def read_grid(data: bytes, *, filename: str, max_bytes: int, max_rows: int) -> Grid:
    """Every cell of the first sheet, after all the checks of the module docstring."""
    ensure_defused()
    if len(data) > max_bytes:
        raise TableError(
            f"文件大小为{len(data) / 1024 / 1024:.1f}MB，超过{max_bytes // 1024 // 1024}MB的上限。"
            "请删除无关的工作表、图片和空白行后再上传，或分成几个文件。"
        )
    if not data:
        raise TableError("文件是空的。")
    suffix = posixpath.splitext((filename or "").strip().lower())[1]
    expected = EXTENSIONS.get(suffix)
    if expected is None:
        raise TableError("只支持.xlsx、.xls和.csv文件。")
    actual = sniff(data)
    if actual != expected:
        raise TableError(
            f"文件名是{suffix}，但内容是{FORMAT_NAMES[actual]}，文件内容与扩展名不符。"
            "请在Excel或WPS中打开后“另存为”正确的格式再上传。"
        )
    row_limit = max_rows + ROW_SLACK
    if actual == CSV:
        return Grid(CSV, _read_csv(data, row_limit=row_limit))
    if actual == XLSX:
        book = _prepare_xlsx(data)
        return Grid(XLSX, _read_xlsx(book, row_limit=row_limit), book.formulas)
    rows, formulas = _read_sandboxed(data, row_limit=row_limit, reader=_xls_grid)
    return Grid(XLS, rows, formulas)


# --- xlsx: zip checks, XML checks, formulas ---------------------------------------


@dataclass
class _Workbook:
    """The parts of a checked .xlsx that the reader needs, its first sheet apart."""

    parts: dict[str, bytes]
    sheet_name: str
    sheet: bytes
    formulas: set[tuple[int, int]]

    def payload(self, sheet: bytes) -> bytes:
        """The parts packed again (stored: they are inflated already) with ``sheet``."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as packed:
            for name, content in self.parts.items():
                packed.writestr(name, sheet if name == self.sheet_name else content)
        return out.getvalue()


def _prepare_xlsx(data: bytes) -> _Workbook:
    """Check the zip and its XML; keep the parts the reader needs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TableError("文件已损坏，无法作为Excel工作簿打开。") from exc
    _check_zip_directory(infos)
    by_name = {info.filename: info for info in infos}

    def read(name: str) -> bytes:
        info = by_name.get(name)
        if info is None:
            raise TableError("文件不完整：缺少Excel工作簿的必要部分，请重新保存后上传。")
        try:
            content = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            raise TableError("文件已损坏，无法作为Excel工作簿打开。") from exc
        if len(content) != info.file_size:
            raise TableError("文件已损坏：压缩包中的大小与声明的不一致。")
        _check_xml_part(name, content)
        return content

    workbook_rels = read("xl/_rels/workbook.xml.rels")
    workbook = read("xl/workbook.xml")
    sheet_name = _first_sheet_path(workbook, workbook_rels)
    parts = {
        "[Content_Types].xml": read("[Content_Types].xml"),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": workbook_rels,
    }
    if "_rels/.rels" in by_name:
        parts["_rels/.rels"] = read("_rels/.rels")
    for optional in ("xl/styles.xml", "xl/sharedStrings.xml"):
        if optional in by_name:
            parts[optional] = read(optional)
    sheet = read(sheet_name)
    parts[sheet_name] = sheet
    # Calamine lists every sheet of the workbook: the others get an empty sheet.
    for target in _sheet_paths(workbook_rels):
        if target != sheet_name and target in by_name:
            parts[target] = (
                b'<?xml version="1.0" encoding="UTF-8"?>'
                b'<worksheet xmlns="' + _SPREADSHEET_NS.encode() + b'"><sheetData/></worksheet>'
            )
    return _Workbook(parts, sheet_name, sheet, _formula_cells(sheet))


def _check_zip_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise TableError(f"文件结构异常：压缩包内有{len(infos)}个部件，超过上限，已拒绝。")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise TableError("文件结构异常：压缩包内有重名的部件，已拒绝。")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise TableError("文件设置了密码，请取消密码后再上传。")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TableError("文件使用了不支持的压缩方式，请在Excel或WPS中重新保存后上传。")
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise TableError("文件解压后异常巨大（疑似“压缩炸弹”），已拒绝。")
    if total > MAX_UNCOMPRESSED:
        raise TableError(
            f"文件解压后有{total // 1024 // 1024}MB，超过{MAX_UNCOMPRESSED // 1024 // 1024}MB的上限"
            "（疑似“压缩炸弹”），已拒绝。"
        )


_UNSAFE_XML = (b"<!DOCTYPE", b"<!ENTITY")


def _check_xml_part(name: str, content: bytes) -> None:
    if not (name.endswith(".xml") or name.endswith(".rels")):
        return
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(content) > 1 and content[1:2] == b"\x00"
    ):
        raise TableError("文件使用了不支持的XML编码，请在Excel或WPS中重新保存后上传。")
    # One pass over the bytes: every "<!" (none, in what Excel and WPS write)
    # is looked at, not each marker searched for on its own.
    at = content.find(b"<!")
    while at != -1:
        if content.startswith(_UNSAFE_XML, at):
            raise TableError("文件含有不安全的XML内容（文档类型或实体声明），已拒绝。")
        at = content.find(b"<!", at + 2)


def _parse_small_xml(content: bytes):
    try:
        return SafeET.fromstring(content)
    except Exception as exc:  # defusedxml and expat raise several kinds
        raise TableError("文件已损坏：工作簿结构无法读取。") from exc


def _sheet_paths(rels: bytes) -> list[str]:
    root = _parse_small_xml(rels)
    paths = []
    for rel in root.iter(f"{{{_REL_NS}}}Relationship"):
        if rel.get("Type", "").endswith("/worksheet"):
            paths.append(_resolve_target(rel.get("Target", "")))
    return paths


def _resolve_target(target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join("xl", target))


def _first_sheet_path(workbook: bytes, rels: bytes) -> str:
    root = _parse_small_xml(workbook)
    sheet = next(root.iter(f"{{{_SPREADSHEET_NS}}}sheet"), None)
    if sheet is None:
        raise TableError("工作簿中没有工作表。")
    rel_id = sheet.get(f"{{{_DOC_REL_NS}}}id")
    for rel in _parse_small_xml(rels).iter(f"{{{_REL_NS}}}Relationship"):
        if rel.get("Id") == rel_id:
            return _resolve_target(rel.get("Target", ""))
    raise TableError("文件已损坏：找不到第一个工作表。")


_ROOT_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def _formula_cells(sheet: bytes) -> set[tuple[int, int]]:
    """Positions (row, column; from 0) of cells with a formula (an ``<f>`` element).

    The common case, no formula, costs one byte search; only a sheet with
    formulas is parsed (defusedxml, streaming) to find where they are."""
    match = _ROOT_PREFIX.search(sheet, 0, 4096)
    prefix = match.group(1) + b":" if match and match.group(1) else b""
    if not _has_formula_element(sheet, b"<" + prefix + b"f"):
        return set()
    found: set[tuple[int, int]] = set()
    ns = f"{{{_SPREADSHEET_NS}}}"
    row = col = -1
    try:
        for event, elem in SafeET.iterparse(io.BytesIO(sheet), events=("start", "end")):
            tag = elem.tag
            if event == "start":
                if tag == ns + "row":
                    ref = elem.get("r")
                    row = int(ref) - 1 if ref and ref.isdigit() else row + 1
                    col = -1
                elif tag == ns + "c":
                    ref = _CELL_REF.fullmatch(elem.get("r") or "")
                    if ref:
                        row, col = int(ref.group(2)) - 1, _column_index(ref.group(1))
                    else:
                        col += 1
                elif tag == ns + "f":
                    found.add((row, col))
            elif tag == ns + "row":
                elem.clear()
    except Exception as exc:  # defusedxml and expat raise several kinds
        raise TableError("文件已损坏：工作表内容无法读取。") from exc
    return found


_AFTER_NAME = frozenset(b">/ \t\n\r")


def _has_formula_element(sheet: bytes, opening: bytes) -> bool:
    """Whether ``opening`` (``<f`` or ``<x:f``) starts an element named ``f``:
    one pass over the bytes, stopping only where another element's name starts
    with f (``<filters``, ``<firstHeader``: a handful per sheet)."""
    at = sheet.find(opening)
    while at != -1:
        end = at + len(opening)
        if end < len(sheet) and sheet[end] in _AFTER_NAME:
            return True
        at = sheet.find(opening, end)
    return False


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def column_letter(index: int) -> str:
    """0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- The sandboxed reader ---------------------------------------------------------


_BROKEN = "文件已损坏或不是有效的Excel文件，无法读取。请在Excel或WPS中打开后重新保存再上传。"
_TOO_BIG = (
    "文件的内容超出了可以处理的范围（例如在很远的行或列里有内容），已拒绝。"
    "请只保留花名册所在的区域后再上传。"
)


def _calamine_grid(payload: bytes, row_limit: int) -> list[list[Any]]:
    sheet = _first_sheet(payload, row_limit)
    if sheet is None:
        return []
    rows = sheet.to_python(skip_empty_area=False)
    _fill_merged(rows, _merged_ranges(sheet))
    return rows


def _first_sheet(payload: bytes, row_limit: int) -> Any:
    """The workbook's first sheet, read; None when it is empty. Its extent is
    checked (columns, rows) before any cell becomes a Python object."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(payload))
        if not workbook.sheet_names:
            raise TableError("工作簿中没有工作表。")
        sheet = workbook.get_sheet_by_index(0)
    except python_calamine.PasswordError as exc:
        raise TableError("文件设置了密码，请取消密码后再上传。") from exc
    except TableError:
        raise
    except Exception as exc:  # calamine's errors: Calamine, Zip, Xml, ...
        raise TableError(_BROKEN) from exc
    end = sheet.end
    if end is None:
        return None
    rows, columns = end[0] + 1, end[1] + 1
    if columns > MAX_COLUMNS:
        raise TableError(
            f"第一个工作表用到了{columns}列（到{column_letter(columns - 1)}列），超过{MAX_COLUMNS}列的上限。"
            "请删除右侧多余的列后再上传。"
        )
    if rows > row_limit:
        raise TableError(
            f"第一个工作表用到了{rows}行，超过了上限（数据不能超过{row_limit - ROW_SLACK}行）。"
            "请分成几个文件上传，并删除表格下方多余的内容。"
        )
    return sheet


def _merged_ranges(sheet: Any) -> list:
    try:
        return sheet.merged_cell_ranges or []
    except Exception:  # noqa: BLE001 - a format without merged cells, or unreadable ones
        return []


# --- Two readers for a large sheet ------------------------------------------------------

SPLIT_FROM = 1024 * 1024  # bytes of sheet XML from which two readers share the sheet


def _read_xlsx(book: _Workbook, *, row_limit: int) -> list[list[Any]]:
    """The first sheet's cells. A large sheet is cut in two between rows and
    each half read by its own sandboxed child, on the two cores at once;
    the halves are joined here as one reader would have read the whole."""
    halves = _split_sheet(book.sheet) if len(book.sheet) >= SPLIT_FROM else None
    if halves is not None:
        options = {"setup": _sandbox_child, "expected": (TableError,), "shared": True}
        # Each child packs its own half (a copy and a checksum of it), at once.
        top = forked.start(_calamine_part, book, halves[0], row_limit, **options)
        bottom = forked.start(_calamine_part, book, halves[1], row_limit, **options)
        try:
            rows = _join_parts(top.result(), bottom.result())
        except forked.ChildFailed as exc:
            raise TableError(_TOO_BIG) from exc
        finally:
            top.discard()
            bottom.discard()
        if rows is not None:
            return rows
    return _read_sandboxed(book.payload(book.sheet), row_limit=row_limit)


_SHEET_DATA, _SHEET_DATA_END, _NUMBERED_ROW = b"<sheetData>", b"</sheetData>", b'<row r="'


def _split_sheet(sheet: bytes) -> tuple[bytes, bytes] | None:
    """The sheet as two sheets, the rows before a cut near the middle and the
    rows after it, each with the rest of the sheet (its columns, merged
    cells). None when that is not safe: rows that take their number from
    their place rather than carrying it, a namespace prefix, no rows."""
    start = sheet.find(_SHEET_DATA)
    end = sheet.rfind(_SHEET_DATA_END)
    if start < 0 or end < start:
        return None
    body = start + len(_SHEET_DATA)
    rows = sheet.count(b"<row", body, end)  # inside sheetData only row, c, v, f, is, t, r...
    if rows < 2 or sheet.count(_NUMBERED_ROW, body, end) != rows:
        return None
    cut = sheet.find(_NUMBERED_ROW, (body + end) // 2, end)
    if cut <= body:
        return None
    return sheet[:cut] + sheet[end:], sheet[:body] + sheet[cut:]


Part = tuple[tuple[int, int], tuple[int, int], list[list[Any]], list]


def _calamine_part(book: _Workbook, half: bytes, row_limit: int) -> Part | None:
    """The cells of ``book`` with ``half`` (of its sheet) as its first sheet, from
    its first used cell on: (start, end, rows, merged).

    Equal texts become one object (a column's choices, units, townships repeat
    down the rows): sent once (``forked.start(shared=True)``), the parent
    rebuilds a third of the objects it would otherwise."""
    sheet = _first_sheet(book.payload(half), row_limit)
    if sheet is None:
        return None
    interned = {}.setdefault
    rows = [
        [interned(cell, cell) if cell.__class__ is str else cell for cell in row]
        for row in sheet.to_python(skip_empty_area=True)
    ]
    return sheet.start, sheet.end, rows, _merged_ranges(sheet)


def _join_parts(top: Part | None, bottom: Part | None) -> list[list[Any]] | None:
    """The halves as the whole sheet read at once: rows and columns from A1 to
    the last used cell, blank cells "". None when the halves overlap (rows out
    of order): then the sheet is read whole."""
    parts = [p for p in (top, bottom) if p is not None]
    if not parts:
        return []
    if len(parts) == 2 and parts[1][0][0] <= parts[0][1][0]:
        return None
    width = max(end[1] for _, end, _, _ in parts) + 1
    rows: list[list[Any]] = []
    for (first_row, first_col), _, part_rows, _ in parts:
        rows += [[""] * width for _ in range(first_row - len(rows))]
        if first_col == 0:
            rows += part_rows  # widened below where the other half is wider
        else:
            rows += [[""] * first_col + row for row in part_rows]
    for row in rows:
        if len(row) < width:
            row += [""] * (width - len(row))
    _fill_merged(rows, parts[0][3])
    return rows


def _fill_merged(rows: list[list[Any]], ranges: Sequence) -> None:
    """Each merged range's value in every cell of it: offices merge 乡镇 (or
    村名称) down the rows of one township, and Excel keeps the value in the
    first cell only. Ranges are clipped to the sheet; ranges covering more
    cells together than the sheet has (overlapping on purpose) are left as
    read."""
    if not rows or not ranges:
        return
    height, width = len(rows), len(rows[0])
    budget = height * width
    for (top, left), (bottom, right) in ranges:
        bottom, right = min(bottom, height - 1), min(right, width - 1)
        if top > bottom or left > right:
            continue
        budget -= (bottom - top + 1) * (right - left + 1)
        if budget < 0:
            return
        value = rows[top][left]
        if value is None or value == "":
            continue
        for row in rows[top : bottom + 1]:
            for col in range(left, right + 1):
                if row[col] is None or row[col] == "":
                    row[col] = value


def _read_sandboxed(
    payload: bytes, *, row_limit: int, reader: Callable[[bytes, int], Any] | None = None
) -> Any:
    """Read in a forked child limited in memory and CPU time; a crash there
    (calamine aborts when an allocation fails, e.g. for a far cell or a huge
    declared count of shared strings) refuses the file instead of taking the
    worker down."""
    pending = forked.start(
        reader or _calamine_grid, payload, row_limit, setup=_sandbox_child, expected=(TableError,)
    )
    try:
        return pending.result()
    except forked.ChildFailed as exc:
        raise TableError(_TOO_BIG) from exc


def _xls_grid(data: bytes, row_limit: int) -> tuple[list[list[Any]], set[tuple[int, int]]]:
    """An .xls file's cells and its formula cells (calamine gives only their
    cached values); both in the sandbox, the second from olefile."""
    rows = _calamine_grid(data, row_limit)
    return rows, xls.formula_cells(data)


def _sandbox_child() -> None:
    _quiet_child()
    _limit_child()


def _quiet_child() -> None:
    """An allocation failure aborts the child with a message and, under pytest,
    a fault-handler dump: its exit status says enough."""
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _limit_child() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (READER_CPU_SECONDS, READER_CPU_SECONDS))
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # no /proc: no address-space limit (development machines only)
    limit = current + READER_MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# --- csv ----------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 with or without BOM, else GB18030 (what Excel on Chinese Windows saves)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TableError("CSV文件的编码无法识别，请保存为UTF-8或GB18030编码。") from exc
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("CSV文件的编码无法识别，请保存为UTF-8或GB18030编码。")


def _read_csv(data: bytes, *, row_limit: int) -> list[list[Any]]:
    text = decode_text(data)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    rows: list[list[Any]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            if len(rows) >= row_limit:
                if any(cell.strip() for cell in record):
                    raise TableError(
                        f"文件超过了{row_limit}行（数据不能超过{row_limit - ROW_SLACK}行），"
                        "请分成几个文件上传。"
                    )
                continue
            rows.append(record[:MAX_COLUMNS] if len(record) > MAX_COLUMNS else record)
    except csv.Error as exc:
        raise TableError(f"CSV文件格式错误：{exc}") from exc
    return rows


# --- The table: header row found, rows aligned to the roster's headers -----------


@dataclass
class Table:
    format: str
    header_row: int  # spreadsheet row number of the header (from 1)
    columns: dict[str, int]  # header -> column index (from 0) in the sheet
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, values in `headers` order)
    errors: list[dict]  # cell errors found while reading (formulas)
    grid: Grid
    footer_rows: list[int] = field(default_factory=list)  # 填表人, 合计...: left out

    def has(self, header: str) -> bool:
        return header in self.columns


_HEADER_TRANS = str.maketrans({"(": "（", ")": "）", "＊": "*"})
_SPACES = re.compile(r"\s+")


def normalize_header(value: Any) -> str:
    """Header text as matched: no spaces (also full-width ones, and inside the
    text: "姓　名"), round brackets as full-width ones, no ``*`` marking the
    column required (offices put it after the header or before it)."""
    text = _SPACES.sub("", str(value) if value is not None else "").translate(_HEADER_TRANS)
    return text.strip("*")


def read_table(
    data: bytes,
    *,
    filename: str,
    headers: Sequence[str],
    required: Sequence[str],
    max_rows: int,
    max_bytes: int,
) -> Table:
    grid = read_grid(data, filename=filename, max_bytes=max_bytes, max_rows=max_rows)
    wanted = {normalize_header(h): h for h in headers}
    header_index, columns = _find_header(grid.rows, wanted, required)
    order = [columns.get(h) for h in headers]
    present = [(pos, index) for pos, index in enumerate(order) if index is not None]
    width = len(headers)
    positions = [pos for pos, _ in present]
    everything = positions == list(range(width))  # every header present
    take = operator.itemgetter(*[col for _, col in present])
    reach = max(col for _, col in present) + 1
    rows: list[tuple[int, list[Any]]] = []
    for index in range(header_index + 1, len(grid.rows)):
        source = grid.rows[index]
        if len(source) < reach:  # csv rows may be short
            source = [*source, *([None] * (reach - len(source)))]
        picked = take(source)
        if len(present) == 1:
            picked = (picked,)
        if everything:
            values = list(picked)
        else:
            values = [None] * width
            for pos, value in zip(positions, picked, strict=True):
                values[pos] = value
        for value in picked:  # blank unless some cell has something
            if value is not None and value != "" and not _is_blank(value):
                break
        else:
            continue
        if len(rows) >= max_rows:
            raise TableError(
                f"数据超过{max_rows}行的上限（第{index + 1}行起），请分成几个文件上传。"
            )
        rows.append((index + 1, values))
    footers = []
    while rows and _is_footer(rows[-1][1]):
        footers.append(rows.pop()[0])
    errors = _formula_errors(grid, header_index, columns)
    return Table(
        format=grid.format,
        header_row=header_index + 1,
        columns=columns,
        rows=rows,
        errors=errors,
        grid=grid,
        footer_rows=sorted(footers),
    )


# Below the data, offices sign the sheet: "填表人：张三　审核人：李四", "联系电话：…",
# "填报日期：…", a note, or a totals row.
_FOOTER = re.compile(
    r"^(?:填表人|填报人|制表人|制表|审核人|审核|审批人|负责人|单位负责人|联系人|联系电话"
    r"|填表日期|填报日期|报送日期|注|备注|说明)(?:\s*[:：]|\s+\S|$)"
)
_TOTALS = re.compile(r"^(?:合\s*计|总\s*计|小\s*计)\s*[:：]?")


def _is_footer(values: list[Any]) -> bool:
    """A row below the data that signs or sums the sheet (every filled cell a
    footer's text, or a totals row): not a record."""
    cells = [v for v in values if v is not None and v != "" and not _is_blank(v)]
    if not cells or not isinstance(cells[0], str):
        return False
    if _TOTALS.match(cells[0].strip()):
        return True
    return all(isinstance(c, str) and _FOOTER.match(c.strip()) for c in cells)


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _find_header(
    rows: list[list[Any]], wanted: dict[str, str], required: Sequence[str]
) -> tuple[int, dict[str, int]]:
    if not rows:
        raise TableError("第一个工作表是空的。")
    best: tuple[int, dict[str, int]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        twice: tuple[str, int, int] | None = None
        for col, cell in enumerate(row):
            if cell is None or cell == "":
                continue
            header = wanted.get(normalize_header(cell))
            if header is None:
                continue
            if header in columns:
                twice = twice or (header, columns[header], col)
                continue
            columns[header] = col
        if all(h in columns for h in required):
            if twice is not None:
                header, first, second = twice
                raise TableError(
                    f"第{index + 1}行的表头“{header}”出现了两次"
                    f"（{column_letter(first)}列和{column_letter(second)}列），请只保留一列。"
                )
            return index, columns
        if columns and (best is None or len(columns) > len(best[1])):
            best = (index, columns)
    if best is None:
        raise TableError(
            "没有找到表头。第一个工作表中应有一行表头，包含这些必填列："
            + "、".join(required)
            + "。"
        )
    missing = [h for h in required if h not in best[1]]
    raise TableError(
        f"表头（第{best[0] + 1}行）缺少必填列：" + "、".join(missing) + "。请使用下载的模板。"
    )


def _formula_errors(grid: Grid, header_index: int, columns: dict[str, int]) -> list[dict]:
    by_column = {col: header for header, col in columns.items()}
    errors = []
    if grid.format == CSV:
        for index in range(header_index + 1, len(grid.rows)):
            row = grid.rows[index]
            for col, header in by_column.items():
                if col < len(row) and isinstance(row[col], str) and row[col].startswith("="):
                    errors.append({"row": index + 1, "column": header, "message": FORMULA_MESSAGE})
        return errors
    for row_index, col in sorted(grid.formulas):
        if row_index > header_index and col in by_column:
            errors.append(
                {"row": row_index + 1, "column": by_column[col], "message": FORMULA_MESSAGE}
            )
    return errors


# --- Normalising cells ---------------------------------------------------------------

_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width spaces and joiners, BOM
_HALF = str.maketrans(
    {
        **{chr(0xFF10 + i): chr(0x30 + i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        **dict.fromkeys(_INVISIBLE),
    }
)
# In numbers and dates only: the full-width (and ideographic) stop, slash, minus, plus, colon.
_NUMBER_PUNCTUATION = str.maketrans("．。／－＋：", "../-+:")
_LINE_BREAKS = re.compile(r"[\t\n\r\v\f\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_MESSAGE = "含有不可见的控制字符，请删除这个单元格的内容后重新输入"
_ESCAPED_FORMULA = ("'=", "'+", "'-", "'@")


def halfwidth(text: str) -> str:
    """Full-width digits and letters made half-width (Ａ１ -> A1)."""
    return text if text.isascii() else text.translate(_HALF)


def _unprintable(text: str) -> str:
    """Line breaks and tabs inside a cell (Alt+Enter) become one space; any
    other control character (NUL, escape codes) makes the cell an error: the
    database cannot hold NUL, and escape codes forge log lines."""
    text = _LINE_BREAKS.sub(" ", text).strip()
    if _CONTROL.search(text):
        raise CellError(CONTROL_MESSAGE)
    return text


def text(value: Any) -> str:
    """A cell as trimmed text; numbers without a spurious ".0"; an apostrophe that
    escaped a formula-like text on export is dropped; zero-width characters
    removed; a control character is a CellError."""
    if value is None:
        return ""
    if value.__class__ is str:
        result = value.strip()
    elif isinstance(value, bool):
        result = "是" if value else "否"
    elif isinstance(value, float):
        result = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime.datetime):
        result = value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    elif isinstance(value, datetime.date):
        result = value.isoformat()
    else:
        result = str(value).strip()
    if not result.isascii():
        result = result.translate(_HALF).strip()
    if not result.isprintable():  # also full-width spaces inside: then a closer look
        result = _unprintable(result)
    if result[:1] == "'" and result.startswith(_ESCAPED_FORMULA):
        result = result[1:]
    return result


_CJK_SPACED = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff\s·•]+$")


def name_text(value: Any) -> str:
    """A person's name: spaces that align short names ("张　三") are removed
    when the name is all Chinese characters."""
    result = text(value)
    spaced = " " in result or "\u3000" in result or "\xa0" in result
    if spaced and _CJK_SPACED.match(result):
        result = _SPACES.sub("", result)
    return result


def _number_text(value: Any) -> str:
    raw = text(value)
    if not raw.isascii():
        raw = raw.translate(_NUMBER_PUNCTUATION).replace("，", "")
    return raw.replace(",", "")


def to_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应填写整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError("应填写整数")
    raw = _number_text(value)
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation as exc:
        raise CellError(f"“{raw}”不是整数") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise CellError(f"“{raw}”不是整数")
    return int(number)


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应填写数字")
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        raw = _number_text(value)
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise CellError(f"“{raw}”不是数字") from exc
    if not number.is_finite():
        raise CellError("应填写数字")
    return number


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_TIME_TAIL = re.compile(r"[ T]0{1,2}:00(?::00(?:\.0+)?)?$")
DATE_SPELLINGS = "2021-03-01、2021/3/1、2021.3.1或2021年3月1日"
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_SERIAL_RANGE = (18264, 73415)  # 1950-01-01 .. 2100-12-31 as Excel day numbers


def to_date(value: Any) -> datetime.date | None:
    """Excel date cells and the spellings of rosters.md (also 20210301)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            return _date_from_text(str(int(value)))
        if _SERIAL_RANGE[0] <= value < _SERIAL_RANGE[1] + 1:  # a fraction is the time of day
            return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
        raise CellError(f"日期格式不正确，请填写如{DATE_SPELLINGS}")
    raw = text(value)
    if not raw.isascii():
        raw = raw.translate(_NUMBER_PUNCTUATION)
    raw = _DATE_TIME_TAIL.sub("", raw)
    if not raw:
        return None
    return _date_from_text(raw)


def _date_from_text(raw: str) -> datetime.date:
    match = _DATE_TEXT.match(raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif len(raw) == 8 and raw.isdigit():
        year, month, day = int(raw[:4]), int(raw[4:6]), int(raw[6:])
    else:
        raise CellError(f"日期“{raw}”格式不正确，请填写如{DATE_SPELLINGS}")
    try:
        result = datetime.date(year, month, day)
    except ValueError as exc:
        raise CellError(f"日期“{raw}”不存在") from exc
    if not 1900 <= result.year <= 2100:
        raise CellError(f"日期“{raw}”超出合理范围")
    return result


_YES = frozenset({"是", "Y", "YES", "1", "TRUE", "√"})
_NO = frozenset({"否", "N", "NO", "0", "FALSE", "×"})


def to_bool(value: Any) -> bool | None:
    """是/否, Y/N, 1/0 (also TRUE/FALSE cells)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise CellError("应填写“是”或“否”")
    raw = text(value).upper()
    if not raw:
        return None
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(f"“{text(value)}”应为“是”或“否”")


_SCIENTIFIC = re.compile(r"^[0-9](?:\.[0-9]+)?[eE]\+?[0-9]+$")


def id_text(value: Any) -> str:
    """An ID number as text. A number cell has already lost digits (Excel keeps
    15 significant digits), and so has text in scientific notation."""
    if value.__class__ is str and len(value) == 18 and value.isascii() and value.isalnum():
        return value.upper()  # the common case, already clean
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(
            f"{TEXT_FORMAT_HINT}：此单元格是数字，身份证号的后几位已经丢失，"
            "请把该列设置为“文本”格式后重新填写"
        )
    raw = _SPACES.sub("", text(value)).upper()
    if _SCIENTIFIC.match(raw):
        raise CellError(
            f"{TEXT_FORMAT_HINT}：“{raw}”是科学计数法，身份证号的后几位已经丢失，"
            "请把该列设置为“文本”格式后重新填写"
        )
    return raw


_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE = re.compile(r"^(?:1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?|[0-9]{7,8})$")


def _phone_raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    raw = _SPACES.sub("", text(value)).replace("－", "-").replace("—", "-")
    for prefix in ("+86", "0086"):
        if raw.startswith(prefix) and len(raw) > 11:
            raw = raw[len(prefix) :].lstrip("-")
    return raw


def mobile_text(value: Any) -> str:
    """An 11-digit mainland mobile number (spaces and dashes removed)."""
    if value.__class__ is str and len(value) == 11 and _MOBILE.match(value):
        return value  # the common case, already clean
    raw = _phone_raw(value).replace("-", "")
    if raw and not _MOBILE.match(raw):
        raise CellError(f"“{raw}”不是有效的11位手机号码")
    return raw


def phone_text(value: Any) -> str:
    """A mobile or landline number (0475-1234567)."""
    raw = _phone_raw(value)
    if raw and not _PHONE.match(raw):
        raise CellError(f"“{raw}”不是有效的电话号码")
    return raw


def choice(value: Any, choices: Sequence[str]) -> str:
    raw = text(value)
    if raw and raw not in choices:
        raise CellError(f"“{raw}”不是可选的值，可选：" + "、".join(choices))
    return raw


Normaliser = Callable[[Any], Any]
