"""Finding the formula cells of an .xls workbook's first sheet.

python-calamine returns only the cached values of an .xls file's formulas, so
``formula_cells`` reads the records itself. An .xls file is an OLE2 compound
file (opened with olefile) whose stream "Workbook" (BIFF8) or "Book" (BIFF5)
is a sequence of records::

    type: u16 | size: u16 | data: size bytes          (all little-endian)

The stream starts with the workbook globals: BOF (0x0809) ... EOF (0x000A).
Among them:

* FILEPASS (0x002F): the workbook is encrypted (the records after it are
  unreadable); it is refused;
* BOUNDSHEET (0x0085), one per sheet in workbook order: ``lbPlyPos: u32``, the
  offset in the stream of the sheet's BOF record; ``hsState: u8``;
  ``dt: u8``, the sheet type; the name.

Calamine's sheet 0 is the first BOUNDSHEET whatever its type (worksheet,
macro, chart or VBA sheet; python-calamine 0.9.1, checked), so it is ours
too. That sheet's records run from its BOF to the next EOF, where calamine
stops reading it. A formula cell is one of:

* FORMULA (0x0006): ``rw: u16, col: u16``, then the cached value, flags and
  the parsed formula (20 bytes at least);
* a cell inside the range of an ARRAY (0x0221) or SHRFMLA (0x04BC) record:
  ``rwFirst: u16, rwLast: u16, colFirst: u8, colLast: u8`` (a RefU). Each
  cell of these ranges normally has a FORMULA record of its own too (so
  [MS-XLS]; so LibreOffice writes them).

The globals are read up to the first BOUNDSHEET (FILEPASS comes before the
BOUNDSHEETs). The input is hostile. Records are walked forward only; a
substream must start with BOF and reach its EOF; every size is checked
against the bytes that are there, the declared stream size against the file's,
and the ranges may cover no more cells than the sheet's records could hold
(each FORMULA record takes at least 24 bytes), so memory stays proportional to
the file. Anything malformed is a ``core.tabular.TableError``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import NoReturn

import olefile

BOF = 0x0809
EOF = 0x000A
FILEPASS = 0x002F
BOUNDSHEET = 0x0085
FORMULA = 0x0006
ARRAY = 0x0221
SHRFMLA = 0x04BC

_MIN_FORMULA_RECORD = 4 + 20  # header and the fixed part of a FORMULA record

_BROKEN = "文件已损坏或不是有效的Excel文件，无法读取。请在Excel或WPS中打开后重新保存再上传。"
_ENCRYPTED = "文件设置了密码，请取消密码后再上传。"
_NO_SHEET = "工作簿中没有工作表。"
_RANGES_TOO_BIG = "文件结构异常：数组公式或共享公式的范围超出了文件能容纳的单元格数，已拒绝。"

_HEADER = struct.Struct("<HH")
_U32 = struct.Struct("<I")
_REF_U = struct.Struct("<HHBB")


def formula_cells(data: bytes) -> set[tuple[int, int]]:
    """Positions (row, column; from 0) of the formula cells of the first sheet."""
    stream = _workbook_stream(data)
    found: set[tuple[int, int]] = set()
    ranges: list[tuple[int, int, int, int]] = []
    area = 0
    budget = len(stream) // _MIN_FORMULA_RECORD
    for typ, start, end in _records(stream, _first_sheet_offset(stream)):
        if typ == FORMULA:
            if end - start < 20:
                _fail(_BROKEN)
            found.add(_HEADER.unpack_from(stream, start))
        elif typ in (ARRAY, SHRFMLA):
            if end - start < _REF_U.size:
                _fail(_BROKEN)
            row_first, row_last, col_first, col_last = _REF_U.unpack_from(stream, start)
            if row_first > row_last or col_first > col_last:
                _fail(_BROKEN)
            area += (row_last - row_first + 1) * (col_last - col_first + 1)
            if area > budget:
                _fail(_RANGES_TOO_BIG)
            ranges.append((row_first, row_last, col_first, col_last))
    for row_first, row_last, col_first, col_last in ranges:
        found.update(
            (row, col)
            for row in range(row_first, row_last + 1)
            for col in range(col_first, col_last + 1)
        )
    return found


def _fail(message: str, cause: Exception | None = None) -> NoReturn:
    from core.tabular import TableError  # lazily: core.tabular imports this module

    raise TableError(message) from cause


def _workbook_stream(data: bytes) -> bytes:
    """The "Workbook" (or BIFF5 "Book") stream of the compound file."""
    try:
        # A BytesIO, never the bytes: olefile takes bytes under 1536 for a file name.
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            name = next(
                (n for n in ("Workbook", "Book") if ole.get_type(n) == olefile.STGTY_STREAM),
                None,
            )
            size = ole.get_size(name) if name else -1
            stream = ole.openstream(name).read() if 0 <= size <= len(data) else None
    except Exception as exc:  # olefile raises OSError, struct.error, IndexError, ...
        _fail(_BROKEN, exc)
    if stream is None or len(stream) != size:
        _fail(_BROKEN)
    return stream


def _first_sheet_offset(stream: bytes) -> int:
    """The stream offset of the first sheet's BOF, from the workbook globals."""
    for typ, start, end in _records(stream, 0):
        if typ == FILEPASS:
            _fail(_ENCRYPTED)
        if typ == BOUNDSHEET:
            if end - start < 8:
                _fail(_BROKEN)
            return _U32.unpack_from(stream, start)[0]
    _fail(_NO_SHEET)


def _records(stream: bytes, offset: int) -> Iterator[tuple[int, int, int]]:
    """(type, data start, data end) of each record of the substream at ``offset``,
    from its BOF to its EOF. A substream that does not start with BOF, a record
    cut short, or a stream ending before EOF is an error."""
    size = len(stream)
    pos = offset
    while True:
        if pos + 4 > size:
            _fail(_BROKEN)
        typ, length = _HEADER.unpack_from(stream, pos)
        start, end = pos + 4, pos + 4 + length
        if end > size or (pos == offset and typ != BOF):
            _fail(_BROKEN)
        yield typ, start, end
        if typ == EOF:
            return
        pos = end
