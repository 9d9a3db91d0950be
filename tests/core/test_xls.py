"""core.xls: the formula cells of an .xls workbook's first sheet.

The real files were written by LibreOffice Calc (tests/fixtures/rosters/README.md).
The hostile ones are BIFF8 streams built here, wrapped in a minimal OLE2
compound file, so that every defect is exactly where the test says.
"""

import io
import struct
import time
from pathlib import Path

import olefile
import pytest
import python_calamine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.tabular import OLE2_MAGIC, TableError
from core.xls import formula_cells

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rosters"
BROKEN = "文件已损坏或不是有效的Excel文件，无法读取。请在Excel或WPS中打开后重新保存再上传。"

# formulas.xls, first sheet 花名册 (see make_formulas.py), 0-based (row, column):
FIRST_SHEET_FORMULAS = {
    (0, 0),  # A1, the title row above the header
    (2, 2),  # C3:C5, one shared formula (SHRFMLA) ...
    (3, 2),
    (4, 2),
    (2, 3),  # D3:D4, an array formula (ARRAY)
    (3, 3),
    (4, 4),  # E5, a lone formula
}
SECOND_SHEET_FORMULAS = {(0, 1), (5, 5)}  # 其他!B1 and 其他!F6


def formulas_xls() -> bytes:
    return (FIXTURES / "formulas.xls").read_bytes()


def workbook_stream(data: bytes) -> bytes:
    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        return ole.openstream("Workbook").read()


def patch_stream(data: bytes, offset: int, new: bytes) -> bytes:
    """The file with the Workbook stream's bytes at ``offset`` replaced (same length)."""
    start = data.find(workbook_stream(data))
    assert start != -1  # LibreOffice wrote the small stream in one piece
    at = start + offset
    return data[:at] + new + data[at + len(new) :]


def boundsheet_offsets(stream: bytes) -> list[int]:
    """Stream offsets of the BOUNDSHEET records of the workbook globals."""
    found, pos = [], 0
    while pos + 4 <= len(stream):
        typ, size = struct.unpack_from("<HH", stream, pos)
        if typ == 0x0085:
            found.append(pos)
        if typ == 0x000A:
            break
        pos += 4 + size
    return found


# --- BIFF8 records and a minimal OLE2 file -----------------------------------------


def record(typ: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", typ, len(data)) + data


def bof(dt: int) -> bytes:
    return record(0x0809, struct.pack("<HHHH", 0x0600, dt, 0, 0) + bytes(8))


EOF = record(0x000A)
FILEPASS = record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(48))


def boundsheet(offset: int, name: str) -> bytes:
    return record(0x0085, struct.pack("<IBB", offset, 0, 0) + bytes([len(name), 0]) + name.encode())


def formula(row: int, col: int) -> bytes:
    # row, column, XF, cached value 0.0, flags, chn, then "=1" (ptgInt 1)
    fixed = struct.pack("<HHH", row, col, 15) + bytes(8) + struct.pack("<HI", 0, 0)
    return record(0x0006, fixed + struct.pack("<H", 3) + b"\x1e\x01\x00")


def number(row: int, col: int) -> bytes:
    return record(0x0203, struct.pack("<HHHd", row, col, 15, 1.0))


def ref_u(typ: int, rows: tuple[int, int], cols: tuple[int, int]) -> bytes:
    tail = bytes(6) + struct.pack("<H", 3) + b"\x1e\x01\x00"
    return record(typ, struct.pack("<HHBB", *rows, *cols) + tail)


ARRAY, SHRFMLA = 0x0221, 0x04BC


def stream(*sheets: bytes, globals_: bytes = b"", gap: int = 4096) -> bytes:
    """Workbook globals (BOF, ``globals_``, a BOUNDSHEET per sheet, EOF), a gap
    of zeros that keeps the stream out of the OLE mini stream, then each sheet's
    records between BOF and EOF."""
    sheet_list = b"".join(boundsheet(0, f"S{i}") for i in range(len(sheets)))
    offset = len(bof(5) + globals_ + sheet_list + EOF) + gap
    bodies = [bof(0x10) + body + EOF for body in sheets]
    sheet_list = b""
    for i, body in enumerate(bodies):
        sheet_list += boundsheet(offset, f"S{i}")
        offset += len(body)
    return bof(5) + globals_ + sheet_list + EOF + bytes(gap) + b"".join(bodies)


NOSTREAM, ENDOFCHAIN, FREESECT, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD


def ole(data: bytes, name: str = "Workbook") -> bytes:
    """A version 3 compound file: header, one FAT sector, one directory sector,
    then the stream ``name`` in sectors of its own (at least 4096 bytes)."""
    assert len(data) >= 4096
    count = -(-len(data) // 512)
    assert count + 2 <= 128
    fat = [FATSECT, ENDOFCHAIN, *range(3, 2 + count), ENDOFCHAIN]
    fat += [FREESECT] * (128 - len(fat))
    header = (
        OLE2_MAGIC
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<9I", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
        + struct.pack("<109I", 0, *[FREESECT] * 108)
    )

    def entry(name: str, typ: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBBIII", len(raw), typ, 1 if typ else 0, NOSTREAM, NOSTREAM, child)
            + bytes(36)
            + struct.pack("<III", start, size, 0)
        )

    directory = (
        entry("Root Entry", 5, 1, ENDOFCHAIN, 0)
        + entry(name, 2, NOSTREAM, 2, len(data))
        + entry("", 0, NOSTREAM, 0, 0) * 2
    )
    return header + struct.pack("<128I", *fat) + directory + data.ljust(count * 512, b"\0")


def refused(data: bytes) -> str:
    started = time.monotonic()
    with pytest.raises(TableError) as caught:
        formula_cells(data)
    assert time.monotonic() - started < 2
    return caught.value.message


# --- Files written by LibreOffice ---------------------------------------------------


def test_formulas_of_the_first_sheet_only():
    found = formula_cells(formulas_xls())
    assert found == FIRST_SHEET_FORMULAS
    assert not found & SECOND_SHEET_FORMULAS


def test_fixture_has_the_records_the_test_is_about():
    records = set()
    data, pos = workbook_stream(formulas_xls()), 0
    while pos + 4 <= len(data):
        typ, size = struct.unpack_from("<HH", data, pos)
        records.add(typ)
        pos += 4 + size
    assert {0x0006, ARRAY, SHRFMLA} <= records


def test_roster_without_formulas():
    assert formula_cells((FIXTURES / "cadres.xls").read_bytes()) == set()
    assert formula_cells((FIXTURES / "far-cell.xls").read_bytes()) == set()


def test_first_sheet_is_the_first_in_the_workbook_order():
    """Swapping the two BOUNDSHEET offsets makes 其他's records the first sheet."""
    data = formulas_xls()
    first, second = boundsheet_offsets(workbook_stream(data))
    offsets = [workbook_stream(data)[at + 4 : at + 8] for at in (first, second)]
    swapped = patch_stream(patch_stream(data, first + 4, offsets[1]), second + 4, offsets[0])
    assert formula_cells(swapped) == SECOND_SHEET_FORMULAS


@pytest.mark.parametrize("dt", [1, 2, 6], ids=["macro", "chart", "vba"])
def test_first_sheet_whatever_its_type_as_calamine(dt):
    """Calamine's sheet 0 is the first BOUNDSHEET whatever its type; so is ours."""
    data = formulas_xls()
    first = boundsheet_offsets(workbook_stream(data))[0]
    patched = patch_stream(data, first + 4 + 5, bytes([dt]))
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(patched))
    assert book.sheets_metadata[0].typ != python_calamine.SheetTypeEnum.WorkSheet
    assert book.get_sheet_by_index(0).to_python()[0][0] == "甲镇驻村工作队花名册"
    assert formula_cells(patched) == FIRST_SHEET_FORMULAS


# --- Built streams --------------------------------------------------------------------


def test_built_workbook_reads_like_a_real_one():
    data = ole(stream(number(0, 0) + formula(1, 2), formula(7, 7)))
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == ["S0", "S1"]
    assert book.get_sheet_by_index(0).to_python() == [[1.0, "", ""], ["", "", 0.0]]
    assert formula_cells(data) == {(1, 2)}


def test_array_and_shared_ranges_count_without_formula_records():
    body = ref_u(ARRAY, (1, 2), (0, 1)) + ref_u(SHRFMLA, (5, 5), (3, 3)) + number(9, 9)
    assert formula_cells(ole(stream(body))) == {(1, 0), (1, 1), (2, 0), (2, 1), (5, 3)}


def test_biff5_book_stream():
    assert formula_cells(ole(stream(formula(3, 4)), name="Book")) == {(3, 4)}


def test_records_after_the_sheets_eof_are_not_read():
    data = stream(formula(1, 1)) + formula(2, 2)
    assert formula_cells(ole(data)) == {(1, 1)}


def test_encrypted_workbook():
    message = refused(ole(stream(formula(1, 1), globals_=FILEPASS)))
    assert message == "文件设置了密码，请取消密码后再上传。"


def test_workbook_without_sheets():
    assert refused(ole(stream())) == "工作簿中没有工作表。"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"tests/fixtures/rosters/formulas.xls", id="a file name"),
        pytest.param(bytes(range(256)) * 40, id="garbage"),
        pytest.param(OLE2_MAGIC + bytes(range(256)) * 40, id="ole magic then garbage"),
        pytest.param(OLE2_MAGIC + b"\xff" * 4096, id="ole magic then ff"),
        pytest.param(formulas_xls()[:3000], id="truncated file"),
        pytest.param(ole(stream(formula(1, 1)), name="Sheet1"), id="no workbook stream"),
    ],
)
def test_not_an_xls_workbook(data):
    assert refused(data) == BROKEN


def test_stream_bytes_instead_of_a_workbook():
    assert refused(ole(bytes(8192))) == BROKEN


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(stream(formula(1, 1))[:-3], id="cut in a record header"),
        pytest.param(stream(formula(1, 1))[:-10], id="cut in a record"),
        pytest.param(stream(formula(1, 1))[:-4], id="no EOF"),
        pytest.param(
            stream(formula(1, 1))[:-4] + struct.pack("<HH", 0x0006, 500) + bytes(30),
            id="record longer than the stream",
        ),
        pytest.param(
            stream(formula(1, 1))[:-4] + struct.pack("<HH", 0x0006, 0xFFFF),
            id="record header only",
        ),
        pytest.param(stream(record(0x0006, bytes(6))), id="short formula record"),
        pytest.param(stream(record(ARRAY, bytes(3))), id="short array record"),
        pytest.param(stream(ref_u(SHRFMLA, (5, 4), (0, 0))), id="range upside down"),
        pytest.param(
            bof(5) + boundsheet(0xFFFFFFF0, "S0") + EOF + bytes(4096), id="huge sheet offset"
        ),
        pytest.param(
            # the offset of the globals' own EOF record
            bof(5) + boundsheet(34, "S0") + EOF + bytes(4096),
            id="sheet offset not at a BOF",
        ),
        pytest.param(bof(5) + record(0x0085, b"\0\0") + EOF + bytes(4096), id="short sheet"),
        pytest.param(bytes(4) + stream(formula(1, 1)), id="globals without BOF"),
        pytest.param(bof(5) + bytes(4096), id="globals without EOF"),
    ],
)
def test_malformed_stream(data):
    assert refused(ole(data)) == BROKEN


def test_ranges_larger_than_the_file_are_refused():
    # One record asking for every cell of the sheet: 65,536 x 256.
    message = refused(ole(stream(ref_u(SHRFMLA, (0, 0xFFFF), (0, 0xFF)))))
    assert "范围" in message


@settings(
    max_examples=200,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.integers(0, len(formulas_xls()) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_damaged_copies_give_cells_or_table_error(changes):
    data = bytearray(formulas_xls())
    for at, value in changes:
        data[at] = value
    try:
        found = formula_cells(bytes(data))
    except TableError:
        return
    assert all(0 <= row <= 0xFFFF and 0 <= col <= 0xFFFF for row, col in found)
