"""The roster import engine: check an uploaded roster, apply it all or nothing.

``check_roster`` reads, validates and classifies every row (new, changed,
unchanged) and writes nothing; ``apply_roster`` does the same inside one
transaction and then writes, set-based: one look-up query per kind of record
(by keyed hash, never per row), bulk inserts and updates (COPY on PostgreSQL),
a re-check that every touched row is inside the importer's scope, and one
audit row. Any error rolls everything back.

The rules are those of ``rosters.md`` (the contract) and issue 3; the column
definitions are ``teams.rosters``. Rows are matched on their natural keys, so
uploading the same file twice changes nothing the second time.

Speed (``bench/bench_import.py``): cells are cleaned column by column; new
rows are plain column dicts written with COPY, not model instances, their ids
drawn first so that every link is known, and the COPY is pipelined (the next
chunk is prepared while PostgreSQL stores one). ID and phone numbers are
encrypted and names spelt in pinyin only when applying, for a large roster in
a forked child on the second core while the rows are decided (``head_start``).
"""

from __future__ import annotations

import datetime
import functools
import gc
import itertools
import operator
import re
import secrets
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
import psycopg.adapt
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT
from pypinyin.constants import RE_HANS as _ALL_HANS
from pypinyin.seg import mmseg
from pypinyin.seg.simpleseg import seg as pinyin_segments

from core import audit, crypto, forked, tabular
from core.choices import AreaKind, AreaLevel, AuditAction, Role, UnitKind, UnitLevel
from core.idcard import IdNumber, IdNumberError, parse_id_number, region_known
from core.models import Area, DispatchingUnit, User
from core.scoping import Scope, user_scope
from core.tabular import CellError, TableError

from .exports import build_error_workbook
from .models import Cadre, Household, Membership, Pairing, Team
from .rosters import (
    CHOICE,
    DATE,
    DECIMAL,
    ID_NUMBER,
    INTEGER,
    MAX_BYTES,
    MAX_ROWS,
    MOBILE,
    PHONE,
    ROSTERS,
    TEXT,
    YESNO,
    Column,
    Roster,
)

Progress = Callable[[int, int], None]
_CADRE_ROLE = Role.CADRE.value
PROGRESS_EVERY = 500
# Numbers and names to encrypt and spell from which a forked child is worth it
# (below it, the fork costs more than it saves: about 2,000 cadres).
HEAD_START_FROM = 5000
REQUIRED_MESSAGE = "此项为必填项，不能为空"


# --- Public API -----------------------------------------------------------------


class RosterError(Exception):
    """The whole file cannot be imported (format, size, headers, rows, scope)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class CheckResult:
    kind: str
    total_rows: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})
    errors: list[dict] = field(default_factory=list)  # {row, column, message}
    warnings: list[dict] = field(default_factory=list)  # {row, column, message}

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterInvalid(Exception):
    """Apply refused: the rows have errors (every one of them is in ``result``)."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(f"{len(result.errors)} error(s)")
        self.result = result


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while an import runs: it allocates some
    100,000 containers for 10,000 rows, and the collector would walk them all
    again and again (a third of the time of an import). Imports make no
    reference cycles worth collecting early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def check_roster(
    *,
    kind: str,
    data: bytes,
    filename: str,
    actor: User | None,
    county: Area,
    township: Area | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Validate and classify every row; writes nothing.

    ``township`` is the uploading township office's township (None: the county
    office); ``actor=None`` is a management command."""
    roster = _roster(kind)
    _authorize(actor=actor, county=county, township=township)
    return _run(roster, data, filename, actor, county, township, progress, write=False)


def apply_roster(
    *,
    kind: str,
    data: bytes,
    filename: str,
    actor: User | None,
    county: Area,
    township: Area | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Check, then write everything in one transaction, or nothing.

    Raises RosterInvalid (with every row error) when a row is wrong, and
    RosterError when the file or the import as a whole cannot be used."""
    roster = _roster(kind)
    _authorize(actor=actor, county=county, township=township)
    return _run(roster, data, filename, actor, county, township, progress, write=True)


@_gc_paused()  # as a decorator: the rows are freed on return, before the collector is back
def _run(
    roster: Roster,
    data: bytes,
    filename: str,
    actor: User | None,
    county: Area,
    township: Area | None,
    progress: Progress | None,
    *,
    write: bool,
) -> CheckResult:
    table = _read(roster, data, filename)  # before the transaction: no locks held
    if not write:
        return _IMPORTERS[roster.kind](
            roster, table, actor, county, township, progress, writing=False
        ).plan()
    try:
        with transaction.atomic():
            # One import per county at a time: a second confirm of the same
            # file waits, then finds every row unchanged.
            list(Area.objects.select_for_update().filter(pk=county.pk).values_list("pk"))
            importer = _IMPORTERS[roster.kind](
                roster, table, actor, county, township, progress, writing=True
            )
            result = importer.plan()
            if not result.ok:
                raise RosterInvalid(result)
            importer.write()
            importer.recheck_scope()
            audit.record(
                action=AuditAction.OBJECT_CREATE,
                actor=actor,
                username=None if actor is not None else "manage.py",
                obj=township or county,
                detail={
                    "roster": roster.kind,
                    "counts": dict(result.counts),
                    "rows": result.total_rows,
                    "file": _mask_digits(filename),
                },
            )
    except IntegrityError as exc:
        raise RosterError(
            "写入时与平台中的数据冲突（可能有人同时修改了这些数据），没有写入任何内容。"
            "请重新上传核对。"
        ) from exc
    return result


def error_workbook(*, kind: str, data: bytes, filename: str, errors: list[dict]) -> bytes:
    """A copy of the uploaded sheet with the bad cells marked red, a comment on
    each, an extra column 错误说明, and a sheet listing every error (xlsx)."""
    roster = _roster(kind)
    table = _read(roster, data, filename)
    return build_error_workbook(roster, table, errors)


# --- Reading and cleaning -------------------------------------------------------------


def _roster(kind: str) -> Roster:
    try:
        return ROSTERS[kind]
    except KeyError:
        raise RosterError(f"没有“{kind}”这种花名册。") from None


def _authorize(*, actor: User | None, county: Area, township: Area | None) -> None:
    """The county office imports for its county; a township office for its own
    township only. ``actor=None`` is a management command."""
    if county.level != AreaLevel.COUNTY:
        raise RosterError("导入的目标必须是一个县（旗）。")
    if township is not None and (
        township.level != AreaLevel.TOWNSHIP or township.county_id != county.pk
    ):
        raise RosterError(f"“{township.name}”不是{county.name}的乡镇。")
    if actor is None:
        return
    if not actor.has_perm("teams.import_roster"):
        raise RosterError("您没有导入花名册的权限。")
    scope = user_scope(actor)
    if scope.kind == Scope.COUNTY and scope.pk == county.pk:
        return
    if scope.kind == Scope.TOWNSHIP and township is not None and scope.pk == township.pk:
        return
    raise RosterError("您只能导入本单位管辖范围内的花名册。")


def _read(roster: Roster, data: bytes, filename: str) -> tabular.Table:
    try:
        table = tabular.read_table(
            data,
            filename=filename,
            headers=roster.headers,
            required=roster.required_headers,
            max_rows=MAX_ROWS,
            max_bytes=MAX_BYTES,
        )
    except TableError as exc:
        raise RosterError(exc.message) from exc
    if not table.rows:
        raise RosterError(f"表头（第{table.header_row}行）下面没有数据。")
    return table


_DIGIT_RUNS = re.compile(r"\d{15,17}[\dXx]")


def _mask_digits(filename: str) -> str:
    """File names sometimes carry an ID number: the audit log never holds one."""
    return _DIGIT_RUNS.sub(lambda m: crypto.mask_id_number(m.group().upper()), filename)[:200]


class _Row:
    __slots__ = ("number", "values", "ids", "bad", "failed", "status")

    def __init__(self, number: int) -> None:
        self.number = number
        self.values: dict[str, Any] = {}
        self.ids: dict[str, IdNumber] = {}
        self.bad: set[str] = set()
        self.failed = False
        self.status = ""

    def ok(self, *headers: str) -> bool:
        bad = self.bad
        return not bad or not any(h in bad for h in headers)


def _normaliser(column: Column) -> Callable[[Any], Any]:
    kind = column.kind
    if kind == TEXT:
        return tabular.name_text if column.header.endswith("姓名") else tabular.text
    if kind == CHOICE:
        return partial(tabular.choice, choices=column.choices)
    return {
        DECIMAL: tabular.to_decimal,
        INTEGER: tabular.to_int,
        DATE: tabular.to_date,
        YESNO: tabular.to_bool,
        ID_NUMBER: tabular.id_text,
        MOBILE: tabular.mobile_text,
        PHONE: tabular.phone_text,
    }[kind]


_TEXT_KINDS = {TEXT, CHOICE, ID_NUMBER, MOBILE, PHONE}
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_OFFSET = 48 * sum(_ID_WEIGHTS)  # the weights times ord("0")
_ID_CHECK = "10X98765432"


def parse_id(number: str, today: datetime.date) -> IdNumber:
    """core.idcard.parse_id_number with a fast path for valid numbers (it costs
    ~50 µs a number)). Whatever
    the fast path does not accept goes to parse_id_number for its message."""
    if len(number) == 18 and number[:17].isdigit():
        total = sum(map(operator.mul, number.encode(), _ID_WEIGHTS)) - _ID_OFFSET
        if _ID_CHECK[total % 11] == number[17]:
            try:
                birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
            except ValueError:
                birth = None
            if birth is not None and birth.year >= 1900 and birth <= today:
                sex = "男" if int(number[16]) % 2 == 1 else "女"
                return IdNumber(number, birth, sex, region_known(number))
    return parse_id_number(number)


_MMSEG = mmseg.seg if PHRASES_DICT else None


def _seal_and_spell(
    numbers: list[str], names: list[str]
) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """In the head-start child: each number encrypted, each name spelt."""
    sealed = dict(zip(numbers, crypto.encrypt_many(numbers), strict=True))
    return sealed, dict(zip(names, pinyin_keys_many(names), strict=True))


def pinyin_keys_many(names: Sequence[str]) -> list[tuple[str, str]]:
    """``teams.names.pinyin_keys`` for many names at once.

    pypinyin converts each segment of its word segmentation on its own, so the
    pinyin of a segment is cached; the result is the same as pinyin_keys
    (tested) at a fraction of the cost (a 10,000-name roster: ~0.1 s, not 1.3 s)."""
    cache: dict[str, tuple[list[str], list[str]]] = {}
    result = []
    for name in names:
        full: list[str] = []
        initials: list[str] = []
        # An all-Chinese name is one run for pypinyin: its segmentation is mmseg's cut.
        hans = _MMSEG is not None and _ALL_HANS.match(name)
        parts = _MMSEG.cut(name) if hans else pinyin_segments(name)
        for part in parts:
            hit = cache.get(part)
            if hit is None:
                hit = cache[part] = (
                    lazy_pinyin(part, errors="ignore"),
                    lazy_pinyin(part, style=Style.FIRST_LETTER, errors="ignore"),
                )
            full += hit[0]
            initials += hit[1]
        result.append(("".join(full).lower()[:128], "".join(initials).lower()[:32]))
    return result


def _in(values: Iterable[Any]) -> Any:
    """A value list for ``__in``. On PostgreSQL one parameter: psycopg takes
    longer to prepare a 10,000-placeholder IN list than the query takes. Ids
    go as one bigint array; text as one string cut by ``string_to_table``,
    which PostgreSQL splits three times faster than it parses a text array
    (the values are checked not to hold the separator)."""
    distinct = set(values)
    if not distinct or connection.vendor != "postgresql":
        return sorted(distinct)
    values = list(distinct)
    if isinstance(values[0], int):
        array = "{" + ",".join(map(str, values)) + "}"
        return RawSQL("SELECT unnest(%s::bigint[])", (array,))  # noqa: S611 - a parameter
    joined = _SEPARATOR.join(values)
    if "" in distinct or joined.count(_SEPARATOR) != len(values) - 1:
        return RawSQL("SELECT unnest(%s::text[])", (values,))  # noqa: S611 - a parameter
    return RawSQL("SELECT string_to_table(%s, chr(31))", (joined,))  # noqa: S611 - a parameter


_SEPARATOR = "\x1f"  # chr(31), the unit separator: not in any value (checked)


def _chunks(items: Sequence, size: int = 5000) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class New:
    """A row to insert: its column values by attname until it is written
    (``insert_many`` lets them go, None), then its ``pk``."""

    __slots__ = ("values", "pk")

    def __init__(self, **values: Any) -> None:
        self.values = values
        self.pk: int | None = None

    @classmethod
    def of(cls, values: dict[str, Any]) -> New:
        """A row to insert with these values (the dict itself, not a copy)."""
        new = cls.__new__(cls)
        new.values, new.pk = values, None
        return new


class Record(dict):
    """An existing row read with ``values()``, with attribute access: much
    cheaper than a model instance (a re-upload of 10,000 cadres reads 60,000
    rows)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    @property
    def pk(self) -> int:
        return self["id"]


def records(queryset: models.QuerySet, *fields: str, **renamed: str) -> list[Record]:
    """The rows of a queryset as Records; ``renamed`` maps a short name to a lookup."""
    rows = queryset.values(*fields, **{k: models.F(v) for k, v in renamed.items()})
    return [Record(row) for row in rows]


Target = Record | New
# A personal number's columns: its keyed hash, its masked and encrypted copies.
_NUMBER_COLUMNS = {
    name: (f"{name}_hash", f"{name}_masked", f"{name}_enc")
    for name in ("id_number", "phone", "head_id_number")
}


class _Unsealed(str):
    """A personal number of a new row, still to be encrypted (``seal``).

    Neither database driver will write one: a number that missed its
    encryption fails the import instead of being stored in the clear."""

    __slots__ = ()


def _refuse_unsealed(value: _Unsealed) -> Any:
    raise TypeError("a personal number was about to be written unencrypted")


class _RefuseUnsealed(psycopg.adapt.Dumper):
    def dump(self, obj: _Unsealed) -> bytes:
        return _refuse_unsealed(obj)


psycopg.adapters.register_dumper(_Unsealed, _RefuseUnsealed)
sqlite3.register_adapter(_Unsealed, _refuse_unsealed)


def _set_phone(record: Record, phone: str, digest: str) -> None:
    """What ``PersonalNumbers.set_number("phone", …)`` does, on a Record."""
    record.phone_enc = crypto.encrypt(phone)
    record.phone_hash = digest
    record.phone_masked = crypto.mask_phone(phone) if phone else ""


# --- The importers ------------------------------------------------------------------


class _Importer:
    """Reads the cleaned rows, looks up what exists (a fixed number of queries),
    decides each row, and writes in bulk."""

    def __init__(
        self,
        roster: Roster,
        table: tabular.Table,
        actor: User | None,
        county: Area,
        township: Area | None,
        progress: Progress | None,
        *,
        writing: bool,
    ) -> None:
        self.roster = roster
        self.writing = writing
        self.ahead: forked.Pending | None = None  # ``head_start``
        self.sealed_ahead: dict[str, str] = {}
        self.spelt_ahead: dict[str, tuple[str, str]] = {}
        self.table = table
        self.actor = actor
        self.county = county
        self.township = township
        self.progress = progress
        self.today = timezone.localdate()
        self.result = CheckResult(kind=roster.kind, total_rows=len(table.rows))
        self.rows: list[_Row] = []
        self.touched: dict[type[models.Model], set[int]] = defaultdict(set)
        self.sealed: set[str] = set()  # the ``<name>_enc`` columns of new rows (``seal``)
        self.password_pool: list[str] = []

    # -- bookkeeping
    def error(self, row: _Row, column: str, message: str) -> None:
        self.result.errors.append({"row": row.number, "column": column, "message": message})
        row.bad.add(column)
        row.failed = True

    def warn(self, row: _Row, column: str, message: str) -> None:
        self.result.warnings.append({"row": row.number, "column": column, "message": message})

    def tick(self, done: int) -> None:
        if self.progress is not None and done % PROGRESS_EVERY == 0:
            self.progress(done, self.result.total_rows)

    # -- the run
    def plan(self) -> CheckResult:
        total = self.result.total_rows
        if self.progress is not None:
            self.progress(0, total)
        self.clean()
        self.check_duplicates()
        self.decide()
        counts = self.result.counts
        for row in self.rows:
            if not row.failed and row.status:
                counts[row.status] += 1
        order = {h: i for i, h in enumerate(self.roster.headers)}
        for items in (self.result.errors, self.result.warnings):
            items.sort(key=lambda e: (e["row"], order.get(e["column"], len(order))))
        if self.progress is not None:
            self.progress(total, total)
        return self.result

    def clean(self) -> None:
        """Normalise every cell, column by column; cell errors go to the result.

        Columns of repeated values (choices, dates, units, townships) are
        normalised once per distinct value; each row's values are then one
        dict built in one go, the bad cells left out."""
        rows = [_Row(number) for number, _ in self.table.rows]
        self.rows = rows
        by_number = {row.number: row for row in rows}
        formulas = []
        for error in self.table.errors:  # formulas: that error only, no value
            row = by_number.get(error["row"])
            if row is not None:
                self.error(row, error["column"], error["message"])
                formulas.append((row, error["column"]))
        for number in self.table.footer_rows:
            self.result.warnings.append(
                {
                    "row": number,
                    "column": "",
                    "message": "这一行是表尾（填表人、合计等），不是一条记录，没有导入",
                }
            )
        if not rows:
            return
        cells_by_column = list(zip(*(raw for _, raw in self.table.rows), strict=True))
        headers, columns = [], []
        failures: list[tuple[int, str, str]] = []  # (row index, header, message)
        for column, cells in zip(self.roster.columns, cells_by_column, strict=True):
            if not self.table.has(column.header):
                continue
            values, failed = _clean_column(column, cells)
            headers.append(column.header)
            columns.append(values)
            failures += [(index, column.header, message) for index, message in failed]
        for row, values in zip(rows, zip(*columns, strict=True), strict=True):
            row.values = dict(zip(headers, values, strict=True))
        for row, header in formulas:
            row.values.pop(header, None)
        for index, header, message in failures:
            row = rows[index]
            row.values.pop(header, None)
            if header not in row.bad:  # a formula cell keeps that error only
                self.error(row, header, message)
        for column in self.roster.columns:
            if column.kind == ID_NUMBER and self.table.has(column.header):
                self._check_ids(column.header)

    def _check_ids(self, header: str) -> None:
        today = self.today
        for row in self.rows:
            number = row.values.get(header)
            if not number:
                continue
            try:
                parsed = parse_id(number, today)
            except IdNumberError as exc:
                self.error(row, header, str(exc))
                del row.values[header]
                continue
            row.ids[header] = parsed
            if not parsed.region_known:
                self.warn(
                    row,
                    header,
                    f"身份证号的地区码{number[:6]}不在现行行政区划代码中，请核对"
                    "（不影响导入：身份证号保留的是初次登记时的地区码）",
                )

    def check_duplicates(self) -> None:
        key = self.roster.key
        take = operator.itemgetter(*key)
        complete = bool if len(key) == 1 else all  # no key cell blank
        seen: dict[Any, int] = {}
        for row in self.rows:
            if not row.ok(*key):
                continue
            try:
                value = take(row.values)
            except KeyError:  # a key cell that is blank or bad
                continue
            if not complete(value):
                continue
            first = seen.setdefault(value, row.number)
            if first != row.number:
                self.error(
                    row,
                    key[-1],
                    f"与第{first}行重复（{'、'.join(key)}相同），同一条记录只能出现一次",
                )

    def decide(self) -> None:
        raise NotImplementedError

    def drop_input(self) -> None:
        """The file's cells and the decided rows freed: once every new row is
        sent, only the result and the rows' ids are needed (``insert_many``
        calls this while PostgreSQL stores the last rows)."""
        self.table.rows.clear()
        self.table.grid.rows.clear()
        self.rows.clear()

    def write(self) -> None:
        raise NotImplementedError

    # -- new rows and their links
    @staticmethod
    def link(new: New, attname: str, target: Target) -> None:
        """A foreign key of a row to insert: the row (new or existing) it points
        to, resolved to its id when written (``insert_rows``)."""
        new.values[attname] = target

    def hash_ids(self, header: str, key: str) -> None:
        """The keyed hash of each valid ID number of a column, in ``values[key]``."""
        rows = [row for row in self.rows if header in row.ids]
        hashes = crypto.blind_index_many("id", (row.ids[header].number for row in rows))
        for row in rows:
            row.values[key] = hashes[row.ids[header].number]

    def hash_phones(self, header: str) -> None:
        self.phone_hashes = crypto.blind_index_many(
            "phone", (row.values[header] for row in self.rows if row.values.get(header))
        )

    def personal_number(self, new: New, name: str, kind: str, number: str, digest: str) -> None:
        """The hash and mask now; the encrypted copy when writing (``seal``)."""
        hashed, masked, sealed = _NUMBER_COLUMNS[name]
        values = new.values
        values[hashed] = digest
        mask = crypto.mask_id_number if kind == "id" else crypto.mask_phone
        values[masked] = mask(number) if number else ""
        values[sealed] = _Unsealed(number) if number else ""
        self.sealed.add(sealed)

    def head_start(self, numbers: Iterable[str], names: Iterable[str]) -> None:
        """When applying: the encrypted copies of ``numbers`` and the pinyin of
        ``names`` computed in a forked child, on the second core, while this
        process decides the rows (only writing needs them). Whatever the child
        did not cover (or if it failed) is computed here when writing."""
        if not self.writing:
            return
        numbers, names = list(set(numbers)), list(set(names))
        if len(numbers) + len(names) >= HEAD_START_FROM:
            self.ahead = forked.start(_seal_and_spell, numbers, names)

    def collect_head_start(self) -> None:
        if self.ahead is None:
            return
        pending, self.ahead = self.ahead, None
        with suppress(forked.ChildFailed):
            self.sealed_ahead, self.spelt_ahead = pending.result()

    def seal(self, rows: Sequence[New]) -> None:
        """The personal numbers of new rows encrypted, a chunk at a time
        (``insert_many`` calls it while the chunk before is being stored)."""
        self.collect_head_start()
        ahead = self.sealed_ahead
        pending = []
        for new in rows:
            values = new.values
            for column in self.sealed:
                number = values.get(column)
                if number.__class__ is _Unsealed:
                    token = ahead.pop(number, None)  # each token used once
                    if token is None:
                        pending.append((values, column))
                    else:
                        values[column] = token
        tokens = crypto.encrypt_many([values[column] for values, column in pending])
        for (values, column), token in zip(pending, tokens, strict=True):
            values[column] = token

    def prepare_cadres(self, rows: Sequence[New]) -> None:
        """New cadres before writing: numbers encrypted, names spelt in pinyin."""
        self.seal(rows)
        spelt = self.spelt_ahead
        names = [new.values["name"] for new in rows]
        missing = [name for name in names if name not in spelt]
        if missing:
            spelt.update(zip(missing, pinyin_keys_many(missing), strict=True))
        for new, name in zip(rows, names, strict=True):
            new.values["name_pinyin"], new.values["name_initials"] = spelt[name]

    # -- areas shared by the villages, cadres and households rosters
    def load_areas(self) -> None:
        self.village_memo: dict[tuple[str, str], tuple[Record | None, str, str]] = {}
        self.townships: dict[str, Record] = {}
        self.villages: dict[tuple[int, str], Record] = {}
        self.village_homes: dict[str, list[str]] = defaultdict(list)
        areas = records(
            Area.objects.filter(county_id=self.county.pk),
            "id",
            "level",
            "name",
            "township_id",
            "category",
            "condition",
            "latitude",
            "longitude",
            "radius_m",
        )
        names = {a.pk: a.name for a in areas if a.level == AreaLevel.TOWNSHIP}
        for area in areas:
            if area.level == AreaLevel.TOWNSHIP:
                self.townships[area.name] = area
            elif area.level == AreaLevel.VILLAGE:
                self.villages[(area.township_id, area.name)] = area
                self.village_homes[area.name].append(names.get(area.township_id, ""))

    def own_township(self, row: _Row, column: str = "乡镇") -> bool:
        """A township office uploads rows of its own township only."""
        name = row.values.get(column)
        if self.township is not None and name and name != self.township.name:
            self.error(row, column, self._not_own(name))
            return False
        return True

    def find_village(self, row: _Row) -> Record | None:
        """The row's existing village, or an error on the row."""
        if not row.ok("乡镇", "村名称"):
            return None
        key = (row.values["乡镇"], row.values["村名称"])
        try:
            village, column, message = self.village_memo[key]
        except KeyError:
            village, column, message = self.village_memo[key] = self._village(*key)
        if message:
            self.error(row, column, message)
        return village

    def _village(self, township_name: str, village_name: str) -> tuple[Record | None, str, str]:
        if self.township is not None and township_name != self.township.name:
            return None, "乡镇", self._not_own(township_name)
        township = self.townships.get(township_name)
        if township is None:
            return None, "乡镇", f"{self.county.name}没有“{township_name}”这个乡镇"
        village = self.villages.get((township.pk, village_name))
        if village is not None:
            return village, "", ""
        homes = [h for h in self.village_homes.get(village_name, []) if h]
        if homes:
            return (
                None,
                "村名称",
                f"“{village_name}”不是{township_name}的村（它属于{'、'.join(homes)}）",
            )
        return None, "村名称", f"{township_name}没有“{village_name}”这个村，请先导入村情花名册"

    def _not_own(self, name: str) -> str:
        return f"只能导入本乡镇（{self.township.name}）的数据，这一行是“{name}”"

    # -- units shared by the cadres and pairings rosters
    def load_units(self) -> None:
        self.units = {
            u.name: u
            for u in records(
                DispatchingUnit.objects.filter(county_id=self.county.pk), "id", "name", "kind"
            )
        }
        self.new_units: dict[str, New] = {}

    def unit_for(self, row: _Row, column: str, kind: str | None) -> Target | None:
        """The dispatching unit named in the row, created (a county unit) if new."""
        name = row.values[column]
        unit: Target | None = self.units.get(name)
        if unit is None:
            unit = self.new_units.get(name)
            if unit is None:
                unit = New(
                    county_id=self.county.pk,
                    name=name,
                    kind=kind or UnitKind.OTHER.value,
                    level=UnitLevel.COUNTY.value,
                    township_id=None,
                )
                self.new_units[name] = unit
                if kind is None:
                    self.warn(
                        row, column, f"将新建派出单位“{name}”，单位类别暂记为“其他”，可在平台中修改"
                    )
            elif kind is not None and unit.values["kind"] != kind:
                self.error(row, "单位类别", f"同一个派出单位“{name}”在本文件中填了不同的单位类别")
                return None
        elif kind is not None and unit.kind != kind:
            self.error(
                row,
                "单位类别",
                f"派出单位“{name}”在平台中登记的类别是“{unit.kind}”，与表中不一致；"
                "如需更改请联系县委组织部",
            )
            return None
        return unit

    # -- people shared by the cadres and pairings rosters
    def load_people(self, id_hashes: Iterable[str]) -> None:
        """Cadres by ID hash, cadres by phone hash, accounts by username: three
        queries (``hash_phones`` first)."""
        self.cadres = {
            c.id_number_hash: c
            for c in records(
                Cadre.objects.filter(id_number_hash__in=_in(id_hashes)), *_CADRE_FIELDS
            )
        }
        phones = {digest: phone for phone, digest in self.phone_hashes.items()}
        self.phone_owner = {
            phones[digest]: cadre_id
            for cadre_id, digest in Cadre.objects.filter(phone_hash__in=_in(phones)).values_list(
                "id", "phone_hash"
            )
        }
        user_ids = [c.user_id for c in self.cadres.values() if c.user_id]
        self.users_by_name: dict[str, Record] = {}
        self.users_by_id: dict[int, Record] = {}
        if phones or user_ids:
            for user in records(
                User.objects.filter(
                    models.Q(username__in=_in(phones.values())) | models.Q(pk__in=_in(user_ids))
                ),
                "id",
                "username",
            ):
                self.users_by_name[user.username] = user
                self.users_by_id[user.pk] = user
        self.new_users: list[New] = []
        self.changed_users: list[Record] = []

    def check_phone(self, row: _Row, column: str, phone: str, cadre: Record | None) -> bool:
        owner = self.phone_owner.get(phone)
        if owner is not None and (cadre is None or owner != cadre.pk):
            self.error(row, column, "这个手机号已被另一名干部使用")
            return False
        user = self.users_by_name.get(phone)
        if user is not None and (cadre is None or user.pk != cadre.user_id):
            self.error(row, column, "这个手机号已被平台中的另一个账号用作用户名")
            return False
        return True

    def new_account(self, phone: str, name: str) -> New:
        """An account named by the mobile number: role cadre, no scope, no usable
        password until the township office issues an activation code."""
        user = New.of(
            {
                "username": phone,
                "role": _CADRE_ROLE,
                "full_name": name,
                "password": self.unusable_password(),
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
            }
        )
        self.new_users.append(user)
        return user

    def unusable_password(self) -> str:
        """What ``set_unusable_password`` stores ("!" and 40 random characters),
        the randomness drawn for many accounts at once."""
        if not self.password_pool:
            pool = secrets.token_urlsafe(30 * 256)
            self.password_pool = [pool[i : i + 40] for i in range(0, 40 * 256, 40)]
        return UNUSABLE_PASSWORD_PREFIX + self.password_pool.pop()

    def rename_account(self, cadre: Record, phone: str) -> bool:
        """The existing cadre's account follows the new mobile number."""
        user = self.users_by_id.get(cadre.user_id)
        if user is not None and user.username != phone:
            user.username = phone
            self.changed_users.append(user)
            return True
        return False

    def new_cadre(
        self, row: _Row, id_header: str, id_hash: str, name: str, phone: str, unit: Target
    ) -> New:
        parsed = row.ids[id_header]
        cadre = New.of(
            {
                "county_id": self.county.pk,
                "name": name,
                "sex": parsed.sex,
                "birth_date": parsed.birth_date,
                "post": "",
                "rank": "",
                "education": "",
                "major": "",
                "political_status": "",
                "agri_major": False,
                "rural_experience": False,
                "prior_poverty_service": False,
                "unit_id": unit,  # linked: resolved to its id when written
                "user_id": self.new_account(phone, name),
            }
        )
        self.personal_number(cadre, "id_number", "id", parsed.number, id_hash)
        self.personal_number(cadre, "phone", "phone", phone, self.phone_hashes[phone])
        return cadre

    # -- scope, after writing
    def recheck_scope(self) -> None:
        """NetBox's way: after writing, every touched row must be visible to the
        importer and inside the county (and township) imported for; otherwise
        the whole import rolls back."""
        # One array per model on PostgreSQL; SQLite takes a bounded IN list.
        size = MAX_ROWS if connection.vendor == "postgresql" else 5000
        for model, ids in self.touched.items():
            id_list = sorted(ids)
            for chunk in _chunks(id_list, size):
                queryset = model._default_manager.filter(pk__in=_in(chunk))
                queryset = queryset.filter(**_AREA_PATHS[model](self.county, self.township))
                if self.actor is not None:
                    queryset = queryset.visible_to(self.actor)
                if queryset.count() != len(chunk):
                    raise RosterError(
                        "导入的数据超出了您的管辖范围，已全部撤销，没有写入任何内容。"
                    )


def _clean_column(column: Column, cells: Sequence[Any]) -> tuple[list[Any], list[tuple[int, str]]]:
    """A column's cells normalised, and its bad cells as (index, message).

    Names, ID and phone numbers are normalised cell by cell; any other column
    once per distinct value (choices, dates, units, townships repeat)."""
    normalise = _normaliser(column)
    blank = column.default
    if blank is None and column.kind in _TEXT_KINDS:
        blank = ""
    if column.kind in (ID_NUMBER, MOBILE) or column.header.endswith("姓名"):
        try:
            values = list(map(normalise, cells))
        except CellError:
            values = None
        if values is not None:
            long = column.kind == TEXT and max(map(len, values), default=0) > column.max_length
            if not long and all(values):  # the common case: nothing blank, nothing too long
                return values, []
        outcomes = [_normalise_cell(column, normalise, cell, blank) for cell in cells]
    else:
        kinds = set(map(type, cells))
        # 1, 1.0 and True are equal keys: values of other types are keyed with their type.
        keys = (
            cells
            if kinds <= {str}
            else [c if c.__class__ is str else (c.__class__, c) for c in cells]
        )
        memo = {
            key: _normalise_cell(column, normalise, cell, blank)
            for key, cell in dict(zip(keys, cells, strict=True)).items()  # each value once
        }
        outcomes = list(map(memo.__getitem__, keys))
        if not any(message for _, message in memo.values()):
            return [value for value, _ in outcomes], []
    failed = [(index, message) for index, (_, message) in enumerate(outcomes) if message]
    return [value for value, _ in outcomes], failed


def _normalise_cell(
    column: Column, normalise: Callable[[Any], Any], cell: Any, blank: Any
) -> tuple[Any, str]:
    """(value, "") or (None, error message)."""
    try:
        value = normalise(cell)
    except CellError as exc:
        return None, exc.message
    if value is None or value == "":
        return (None, REQUIRED_MESSAGE) if column.required else (blank, "")
    message = _check_value(column, value)
    return (None, message) if message else (value, "")


def _check_value(column: Column, value: Any) -> str:
    if column.kind == TEXT:
        return f"不能超过{column.max_length}个字" if len(value) > column.max_length else ""
    if column.kind in (INTEGER, DECIMAL):
        low, high = column.min_value, column.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                return f"应在{low:g}到{high:g}之间"
            return f"不能小于{low:g}" if low is not None else f"不能大于{high:g}"
    return ""


def _area_paths(county_path: str, township_path: str | None):
    def paths(county: Area, township: Area | None) -> dict[str, int]:
        result = {county_path: county.pk}
        if township is not None and township_path:
            result[township_path] = township.pk
        return result

    return paths


_AREA_PATHS: dict[type[models.Model], Callable[[Area, Area | None], dict[str, int]]] = {
    Area: _area_paths("county_id", None),
    DispatchingUnit: _area_paths("county_id", None),
    Cadre: _area_paths("county_id", None),
    Team: _area_paths("village__county_id", "village__township_id"),
    Membership: _area_paths("team__village__county_id", "team__village__township_id"),
    Household: _area_paths("village__county_id", "village__township_id"),
    Pairing: _area_paths("household__village__county_id", "household__village__township_id"),
}

# Every cadre field an import may compare or write.
_CADRE_FIELDS = (
    "id",
    "county_id",
    "user_id",
    "name",
    "id_number_hash",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "unit_id",
    "post",
    "rank",
    "education",
    "major",
    "agri_major",
    "political_status",
    "rural_experience",
    "prior_poverty_service",
)


# --- 1. Villages ------------------------------------------------------------------------

_TOWNSHIP_SUFFIXES = (
    ("街道", AreaKind.STREET),
    ("苏木", AreaKind.SUMU),
    ("乡", AreaKind.TOWNSHIP),
    ("场", AreaKind.FARM),
)
_VILLAGE_SUFFIXES = (
    ("嘎查村", AreaKind.GACHA_VILLAGE),
    ("嘎查", AreaKind.GACHA),
    ("分场", AreaKind.BRANCH_FARM),
    ("社区", AreaKind.COMMUNITY),
)


def township_kind(name: str) -> str:
    """镇 unless the name ends with 乡, 苏木, 场 or 街道."""
    for suffix, kind in _TOWNSHIP_SUFFIXES:
        if name.endswith(suffix):
            return kind.value
    return AreaKind.TOWN.value


def village_kind(name: str) -> str:
    for suffix, kind in _VILLAGE_SUFFIXES:
        if name.endswith(suffix):
            return kind.value
    return AreaKind.VILLAGE.value


_VILLAGE_FIELDS = {
    "村分类": "category",
    "村情类别": "condition",
    "纬度": "latitude",
    "经度": "longitude",
    "签到半径（米）": "radius_m",
}
_SIX_PLACES = Decimal("0.000001")


class _VillagesImport(_Importer):
    def decide(self) -> None:
        self.load_areas()
        self.new_townships: dict[str, New] = {}
        self.new_villages: list[New] = []
        self.changed_villages: dict[int, Record] = {}
        self.changed_fields: set[str] = set()
        present = [h for h in _VILLAGE_FIELDS if self.table.has(h)]
        for done, row in enumerate(self.rows, start=1):
            self.tick(done)
            self.decide_row(row, present)

    def decide_row(self, row: _Row, present: list[str]) -> None:
        if not row.ok("乡镇", "村名称") or not self.own_township(row):
            return
        values = row.values
        # A column left out of the file keeps what the portal has; a blank cell clears.
        fields = {_VILLAGE_FIELDS[h]: values[h] for h in present if h in values}
        for name in ("latitude", "longitude"):
            if fields.get(name) is not None:
                fields[name] = fields[name].quantize(_SIX_PLACES)
        if "latitude" in fields and "longitude" in fields:
            if (fields["latitude"] is None) != (fields["longitude"] is None):
                missing = "纬度" if fields["latitude"] is None else "经度"
                self.error(row, missing, "纬度和经度要么都填，要么都不填")
        elif ("纬度" in present) != ("经度" in present):
            given = "纬度" if "纬度" in present else "经度"
            self.error(row, given, "表中只有纬度或经度一列，两列应同时提供")
        if row.failed:
            return
        township_name, village_name = values["乡镇"], values["村名称"]
        township: Target | None = self.townships.get(township_name)
        if township is None:
            # Only the county office gets here: a township office's rows all name
            # its own, existing township.
            township = self.new_townships.get(township_name)
            if township is None:
                township = New(
                    level=AreaLevel.TOWNSHIP.value,
                    kind=township_kind(township_name),
                    name=township_name,
                    parent_id=self.county.pk,
                    county_id=self.county.pk,
                    township_id=None,
                    latitude=None,
                    longitude=None,
                    radius_m=None,
                )
                self.new_townships[township_name] = township
                self.warn(
                    row,
                    "乡镇",
                    f"将新建乡镇“{township_name}”（{township.values['kind']}）",
                )
        village = self.villages.get((township.pk, village_name)) if township.pk else None
        if village is None:
            new = New(
                level=AreaLevel.VILLAGE.value,
                kind=village_kind(village_name),
                name=village_name,
                county_id=self.county.pk,
                **{"condition": "", "radius_m": None, "latitude": None, "longitude": None},
            )
            new.values.update(fields)
            self.link(new, "parent_id", township)
            self.link(new, "township_id", township)
            self.new_villages.append(new)
            row.status = "new"
            return
        changes = {name for name, value in fields.items() if village[name] != value}
        for name in changes:
            village[name] = fields[name]
        if changes:
            self.changed_villages[village.pk] = village
            self.changed_fields.update(changes)
            row.status = "changed"
        else:
            row.status = "unchanged"

    def write(self) -> None:
        townships = list(self.new_townships.values())
        insert_many(
            [(Area, townships, None), (Area, self.new_villages, None)], meanwhile=self.drop_input
        )
        update_rows(Area, list(self.changed_villages.values()), sorted(self.changed_fields))
        touched = self.touched[Area]
        touched.update(new.pk for new in itertools.chain(townships, self.new_villages))
        touched.update(self.changed_villages)


# --- 2. Cadres and team membership ------------------------------------------------------

_CADRE_COLUMNS = {
    "职务": "post",
    "职级": "rank",
    "学历": "education",
    "所学专业": "major",
    "是否涉农专业": "agri_major",
    "政治面貌": "political_status",
    "是否有农村工作经历": "rural_experience",
    "是否参加过脱贫攻坚驻村": "prior_poverty_service",
}
_YESNO_FIELDS = ("agri_major", "rural_experience", "prior_poverty_service")


class _CadresImport(_Importer):
    def decide(self) -> None:
        self.load_areas()
        self.load_units()
        self.hash_ids("身份证号", "_hash")
        self.hash_phones("手机号")
        self.load_people(r.values["_hash"] for r in self.rows if "_hash" in r.values)
        self.current = {
            m.cadre_id: m
            for m in records(
                Membership.objects.filter(
                    cadre_id__in=_in(c.pk for c in self.cadres.values()), end_date__isnull=True
                ),
                "id",
                "cadre_id",
                "role",
                "start_date",
                village_id="team__village_id",
                village_name="team__village__name",
                township_name="team__village__township__name",
            )
        }
        self.teams: dict[int, Target] = {
            t.village_id: t
            for t in records(
                Team.objects.filter(village__county_id=self.county.pk, dissolved_on__isnull=True),
                "id",
                "village_id",
            )
        }
        # The look-ups are done: the child works while the rules below run.
        known = self.cadres
        rows = [
            row.values
            for row in self.rows
            if not row.failed and "_hash" in row.values and row.values["_hash"] not in known
        ]
        self.head_start(
            itertools.chain(
                (v["身份证号"] for v in rows), (v["手机号"] for v in rows if v.get("手机号"))
            ),
            (v["姓名"] for v in rows if v.get("姓名")),
        )
        self.new_teams: dict[int, New] = {}
        self.new_cadres: list[New] = []
        self.changed_cadres: dict[int, Record] = {}
        self.changed_fields: set[str] = set()
        self.new_memberships: list[New] = []
        self.changed_memberships: list[Record] = []
        self.phones_in_file: dict[str, int] = {}
        # existing cadres pointed at a unit or an account that is new
        self.unit_links: list[tuple[Record, Target]] = []
        self.account_links: list[tuple[Record, New]] = []
        self.present = [h for h in _CADRE_COLUMNS if self.table.has(h)]
        decide_row, tick = self.decide_row, self.progress is not None
        for done, row in enumerate(self.rows, start=1):
            if tick:
                self.tick(done)
            decide_row(row)

    def decide_row(self, row: _Row) -> None:
        values = row.values
        village = self.find_village(row)
        unit = None
        if row.ok("派出单位", "单位类别"):
            unit = self.unit_for(row, "派出单位", values["单位类别"])
        if "_hash" not in values:
            return
        cadre = self.cadres.get(values["_hash"])
        name, phone = values.get("姓名"), values.get("手机号")
        if cadre is not None:
            if cadre["county_id"] != self.county.pk:
                self.error(row, "身份证号", "这个身份证号的干部已在其他旗县登记，不能在本县导入")
                return
            if name and cadre["name"] != name:
                self.error(row, "姓名", "姓名与平台中这个身份证号登记的姓名不一致，请核对")
        if phone:
            first = self.phones_in_file.setdefault(phone, row.number)
            if first != row.number:
                self.error(row, "手机号", f"与第{first}行的手机号相同，每名干部的手机号应不同")
            else:
                self.check_phone(row, "手机号", phone, cadre)
        membership = self.current.get(cadre.pk) if cadre is not None else None
        elsewhere = membership is not None and village is not None
        if elsewhere and membership.village_id != village.pk:
            self.error(
                row,
                "村名称",
                f"该干部目前在{membership.township_name}{membership.village_name}驻村，"
                "一名干部同一时间只能在一个工作队；调整驻村请在平台中办理",
            )
        if row.failed or village is None or unit is None:
            return
        fields = {_CADRE_COLUMNS[h]: values[h] for h in self.present}
        for attr in _YESNO_FIELDS:
            if attr in fields:
                fields[attr] = bool(fields[attr])
        changed = True
        member: Target
        if cadre is None:
            member = self.new_cadre(row, "身份证号", values["_hash"], name, phone, unit)
            member.values.update(fields)
            self.new_cadres.append(member)
            row.status = "new"
        else:
            member = cadre
            changes = {a for a, v in fields.items() if cadre[a] != v}
            for attr in changes:
                cadre[attr] = fields[attr]
            if unit.pk is None or unit.pk != cadre.unit_id:
                self.unit_links.append((cadre, unit))
                changes.add("unit_id")
            if self.phone_hashes[phone] != cadre.phone_hash:
                _set_phone(cadre, phone, self.phone_hashes[phone])
                changes.update(("phone_enc", "phone_hash", "phone_masked"))
            if cadre.user_id is None:
                self.account_links.append((cadre, self.new_account(phone, cadre.name)))
                changes.add("user_id")
            elif self.rename_account(cadre, phone):
                changes.add("account")
            if changes - {"account"}:
                self.changed_cadres[cadre.pk] = cadre
                self.changed_fields.update(changes - {"account"})
            changed = bool(changes)
        role, start = values["驻村身份"], values["驻村开始日期"]
        if membership is None:
            team = self.teams.get(village.pk) or self.new_teams.get(village.pk)
            if team is None:
                team = New(village_id=village.pk, formed_on=start, dissolved_on=None)
                self.new_teams[village.pk] = team
            elif isinstance(team, New) and start < team.values["formed_on"]:
                team.values["formed_on"] = start
            joined = New(role=role, start_date=start, end_date=None, end_reason="", end_decision="")
            self.link(joined, "team_id", team)
            self.link(joined, "cadre_id", member)
            self.new_memberships.append(joined)
            changed = True
        elif membership.role != role or membership.start_date != start:
            membership.role, membership.start_date = role, start
            self.changed_memberships.append(membership)
            changed = True
        if row.status != "new":
            row.status = "changed" if changed else "unchanged"

    def write(self) -> None:
        teams = list(self.new_teams.values())
        insert_many(
            [
                (DispatchingUnit, list(self.new_units.values()), None),
                (User, self.new_users, None),
                (Cadre, self.new_cadres, self.prepare_cadres),
                (Team, teams, None),
                (Membership, self.new_memberships, None),
            ],
            meanwhile=self.drop_input,
        )
        update_rows(User, self.changed_users, ["username"])
        for cadre, unit in self.unit_links:
            cadre.unit_id = unit.pk
        for cadre, account in self.account_links:
            cadre.user_id = account.pk
        changed = list(self.changed_cadres.values())
        update_rows(Cadre, changed, sorted(self.changed_fields))
        update_rows(Membership, self.changed_memberships, ["role", "start_date"])
        self.touched[DispatchingUnit].update(u.pk for u in self.new_units.values())
        self.touched[Cadre].update(c.pk for c in itertools.chain(self.new_cadres, changed))
        self.touched[Team].update(t.pk for t in teams)
        self.touched[Membership].update(
            m.pk for m in itertools.chain(self.new_memberships, self.changed_memberships)
        )


# --- 3. Households ------------------------------------------------------------------------

_HOUSEHOLD_COLUMNS = {
    "家庭人口": "size",
    "户类型": "type",
    "脱贫年度": "year_out_of_poverty",
}


class _HouseholdsImport(_Importer):
    def decide(self) -> None:
        self.load_areas()
        self.hash_ids("户主身份证号", "_hash")
        self.hash_phones("联系电话")
        self.existing = {
            h.head_id_number_hash: h
            for h in records(
                Household.objects.filter(
                    head_id_number_hash__in=_in(
                        r.values["_hash"] for r in self.rows if "_hash" in r.values
                    )
                ),
                "id",
                "village_id",
                "head_name",
                "head_id_number_hash",
                "size",
                "type",
                "year_out_of_poverty",
                "phone_enc",
                "phone_hash",
                "phone_masked",
                county_id="village__county_id",
                township_id="village__township_id",
            )
        }
        self.new_households: list[New] = []
        self.changed: dict[int, Record] = {}
        self.changed_fields: set[str] = set()
        self.present = [h for h in _HOUSEHOLD_COLUMNS if self.table.has(h)]
        self.has_phone = self.table.has("联系电话")
        for done, row in enumerate(self.rows, start=1):
            self.tick(done)
            self.decide_row(row)

    def decide_row(self, row: _Row) -> None:
        values = row.values
        village = self.find_village(row)
        year = values.get("脱贫年度")
        if year is not None and year > self.today.year:
            self.error(row, "脱贫年度", f"脱贫年度不能晚于今年（{self.today.year}年）")
        if "_hash" not in values or row.failed or village is None:
            return
        household = self.existing.get(values["_hash"])
        fields = {_HOUSEHOLD_COLUMNS[h]: values[h] for h in self.present}
        fields["village_id"] = village.pk
        phone = values["联系电话"] if self.has_phone else None
        if household is None:
            new = New(head_name=values["户主姓名"], **{"year_out_of_poverty": None, **fields})
            number = row.ids["户主身份证号"].number
            self.personal_number(new, "head_id_number", "id", number, values["_hash"])
            self.personal_number(
                new, "phone", "phone", phone or "", self.phone_hashes.get(phone, "")
            )
            self.new_households.append(new)
            row.status = "new"
            return
        if household.county_id != self.county.pk:
            self.error(row, "户主身份证号", "这一户已在其他旗县登记，不能在本县导入")
            return
        if self.township is not None and household.township_id != self.township.pk:
            self.error(row, "户主身份证号", "这一户已在其他乡镇登记，不能由本乡镇导入")
            return
        if household.head_name != values["户主姓名"]:
            self.error(row, "户主姓名", "户主姓名与平台中这个身份证号登记的姓名不一致，请核对")
            return
        changes = {a for a, v in fields.items() if household[a] != v}
        for attr in changes:
            household[attr] = fields[attr]
        if phone is not None and self.phone_hashes.get(phone, "") != household.phone_hash:
            _set_phone(household, phone, self.phone_hashes.get(phone, ""))
            changes.update(("phone_enc", "phone_hash", "phone_masked"))
        if changes:
            self.changed[household.pk] = household
            self.changed_fields.update(changes)
            row.status = "changed"
        else:
            row.status = "unchanged"

    def write(self) -> None:
        insert_many([(Household, self.new_households, self.seal)], meanwhile=self.drop_input)
        changed = list(self.changed.values())
        update_rows(Household, changed, sorted(self.changed_fields))
        self.touched[Household].update(h.pk for h in itertools.chain(self.new_households, changed))


# --- 4. Pairings -----------------------------------------------------------------------------


@dataclass
class _NewCadre:
    cadre: New
    row: int
    phone: str
    unit_name: str


class _PairingsImport(_Importer):
    def decide(self) -> None:
        self.load_units()
        self.hash_ids("帮扶干部身份证号", "_cadre_hash")
        self.hash_ids("户主身份证号", "_head_hash")
        self.hash_phones("帮扶干部手机号")
        self.load_people(r.values["_cadre_hash"] for r in self.rows if "_cadre_hash" in r.values)
        self.households = {
            h.head_id_number_hash: h
            for h in records(
                Household.objects.filter(
                    head_id_number_hash__in=_in(
                        r.values["_head_hash"] for r in self.rows if "_head_hash" in r.values
                    )
                ),
                "id",
                "head_name",
                "head_id_number_hash",
                county_id="village__county_id",
                township_id="village__township_id",
            )
        }
        self.current = {
            p.household_id: p
            for p in records(
                Pairing.objects.filter(
                    household_id__in=_in(h.pk for h in self.households.values()),
                    end_date__isnull=True,
                ),
                "id",
                "household_id",
                "cadre_id",
                "start_date",
                cadre_name="cadre__name",
            )
        }
        self.new_cadres: dict[str, _NewCadre] = {}
        self.new_pairings: list[New] = []
        self.changed_pairings: list[Record] = []
        self.households_in_file: dict[int, int] = {}
        self.phones_in_file: dict[str, tuple[str, int]] = {}
        for done, row in enumerate(self.rows, start=1):
            self.tick(done)
            self.decide_row(row)

    def decide_row(self, row: _Row) -> None:
        values = row.values
        household = None
        if "_head_hash" in values:
            household = self.households.get(values["_head_hash"])
            if household is None or not self._household_in_scope(household):
                self.error(
                    row,
                    "户主身份证号",
                    "本乡镇（县）没有这个户主身份证号的帮扶户，请先导入帮扶户花名册",
                )
                household = None
            elif values.get("户主姓名") and household.head_name != values["户主姓名"]:
                self.error(row, "户主姓名", "户主姓名与平台中这个身份证号登记的姓名不一致，请核对")
        cadre = self._cadre(row)
        if household is None or cadre is None or row.failed:
            return
        first = self.households_in_file.setdefault(household.pk, row.number)
        if first != row.number:
            self.error(
                row,
                "户主身份证号",
                f"这一户在第{first}行已结对了帮扶干部，一户同一时间只能有一名帮扶干部",
            )
            return
        start = values["结对开始日期"]
        current = self.current.get(household.pk)
        if current is None:
            pairing = New(start_date=start, end_date=None, household_id=household.pk)
            self.link(pairing, "cadre_id", cadre)
            self.new_pairings.append(pairing)
            row.status = "new"
        elif cadre.pk is None or current.cadre_id != cadre.pk:
            self.error(
                row,
                "帮扶干部身份证号",
                f"这一户目前的帮扶干部是{current.cadre_name}，一户同一时间只能有一名帮扶干部；"
                "更换帮扶干部请在平台中办理",
            )
        elif current.start_date != start:
            current.start_date = start
            self.changed_pairings.append(current)
            row.status = "changed"
        else:
            row.status = "unchanged"

    def _household_in_scope(self, household: Record) -> bool:
        if household.county_id != self.county.pk:
            return False
        return self.township is None or household.township_id == self.township.pk

    def _cadre(self, row: _Row) -> Target | None:
        values = row.values
        if "_cadre_hash" not in values or not values.get("帮扶干部姓名"):
            return None
        cadre_hash, name = values["_cadre_hash"], values["帮扶干部姓名"]
        phone = values.get("帮扶干部手机号", "")
        unit_name = values.get("派出单位", "")
        cadre = self.cadres.get(cadre_hash)
        if cadre is not None:
            if cadre.county_id != self.county.pk:
                self.error(
                    row, "帮扶干部身份证号", "这个身份证号的干部已在其他旗县登记，不能在本县导入"
                )
                return None
            if cadre.name != name:
                self.error(row, "帮扶干部姓名", "姓名与平台中这个身份证号登记的姓名不一致，请核对")
                return None
            if phone and self.phone_hashes[phone] != cadre.phone_hash:
                self.warn(row, "帮扶干部手机号", "干部已登记，表中的手机号与平台中的不同，未更新")
            unit = self.units.get(unit_name) if unit_name else None
            if unit_name and (unit is None or unit.pk != cadre.unit_id):
                self.warn(row, "派出单位", "干部已登记，表中的派出单位与平台中的不同，未更新")
            return cadre
        known = self.new_cadres.get(cadre_hash)
        if known is not None:
            if name != known.cadre.values["name"]:
                self.error(row, "帮扶干部姓名", f"与第{known.row}行同一身份证号的姓名不一致")
            elif phone and phone != known.phone:
                self.error(row, "帮扶干部手机号", f"与第{known.row}行同一名干部的手机号不一致")
            elif unit_name and unit_name != known.unit_name:
                self.error(row, "派出单位", f"与第{known.row}行同一名干部的派出单位不一致")
            else:
                return known.cadre
            return None
        # A cadre new to the portal, not stationed in any team.
        if "帮扶干部手机号" in row.bad or "派出单位" in row.bad:
            return None
        if not phone:
            self.error(row, "帮扶干部手机号", "干部在平台中尚未登记，新增干部时必须填写手机号")
        if not unit_name:
            self.error(row, "派出单位", "干部在平台中尚未登记，新增干部时必须填写派出单位")
        if not phone or not unit_name:
            return None
        owner = self.phones_in_file.setdefault(phone, (cadre_hash, row.number))
        if owner[0] != cadre_hash:
            self.error(row, "帮扶干部手机号", f"与第{owner[1]}行另一名干部的手机号相同")
            return None
        if not self.check_phone(row, "帮扶干部手机号", phone, None):
            return None
        unit = self.unit_for(row, "派出单位", None)
        if unit is None:
            return None
        new = self.new_cadre(row, "帮扶干部身份证号", cadre_hash, name, phone, unit)
        self.new_cadres[cadre_hash] = _NewCadre(new, row.number, phone, unit_name)
        return new

    def write(self) -> None:
        cadres = [known.cadre for known in self.new_cadres.values()]
        insert_many(
            [
                (DispatchingUnit, list(self.new_units.values()), None),
                (User, self.new_users, None),
                (Cadre, cadres, self.prepare_cadres),
                (Pairing, self.new_pairings, None),
            ],
            meanwhile=self.drop_input,
        )
        update_rows(Pairing, self.changed_pairings, ["start_date"])
        self.touched[DispatchingUnit].update(u.pk for u in self.new_units.values())
        self.touched[Cadre].update(c.pk for c in cadres)
        self.touched[Pairing].update(
            p.pk for p in itertools.chain(self.new_pairings, self.changed_pairings)
        )


_IMPORTERS: dict[str, type[_Importer]] = {
    "villages": _VillagesImport,
    "cadres": _CadresImport,
    "households": _HouseholdsImport,
    "pairings": _PairingsImport,
}


# --- Bulk writing ----------------------------------------------------------------------------

_temp_names = itertools.count(1)


def _column_defaults(model: type[models.Model]) -> tuple[list[models.Field], dict[str, Any]]:
    """The concrete fields (primary key excluded) and what a row that does not
    name one gets: now for auto_now(_add), the field's default, "" or None.

    Defaults are evaluated once per batch: these models have no per-row default
    such as a random UUID (``date_joined`` and the like get the batch's now)."""
    now = timezone.now()
    fields, defaults = [], {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        fields.append(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.null:
            defaults[f.attname] = None
        elif f.empty_strings_allowed:
            defaults[f.attname] = ""
    return fields, defaults


Prepare = Callable[[Sequence[New]], None]
Batch = tuple[type[models.Model], list[New], Prepare | None]
_CHUNK = 1000  # rows prepared and sent at a time


def insert_rows(model: type[models.Model], rows: list[New]) -> None:
    """Insert new rows of one model and set their ``pk``."""
    insert_many([(model, rows, None)])


def insert_many(batches: Sequence[Batch], *, meanwhile: Callable[[], None] | None = None) -> None:
    """Insert the new rows of several models and set their ``pk``; a batch's
    ``prepare`` (when given) is called on each chunk of its rows just before
    the chunk is written (encryption, pinyin). ``meanwhile`` is called once
    every row has been sent: on PostgreSQL, while it stores the last of them.

    PostgreSQL: every batch's ids drawn from its table's sequence first (two
    queries in all), so that every link is known before anything is written;
    then one COPY per batch, pipelined: while PostgreSQL stores a chunk, the
    next one is prepared here (foreign keys are checked at commit).
    Elsewhere: batch after batch with bulk_create, which returns the ids on
    SQLite; batches come in the order their links need."""
    batches = [batch for batch in batches if batch[1]]
    if not batches or connection.vendor != "postgresql":
        _insert_each(batches)
        if meanwhile is not None:
            meanwhile()
        return
    # The costliest table for PostgreSQL first (rows times indexes): the
    # others are prepared while it stores that one. Links need no order here.
    batches = sorted(batches, key=lambda batch: -len(batch[1]) * _index_count(batch[0]))
    specs = [_InsertSpec(model) for model, _, _ in batches]
    chunks = [
        (index, chunk)
        for index, (_, rows, _) in enumerate(batches)
        for chunk in _chunks(rows, _CHUNK)
    ]

    def ready(position: int) -> list[tuple]:
        index, chunk = chunks[position]
        prepare = batches[index][2]
        if prepare is not None:
            prepare(chunk)
        take = specs[index].take
        tuples = [
            (row.pk, *take(values))
            for row, values in zip(chunk, specs[index].complete(chunk), strict=True)
        ]
        for row in chunk:
            row.values = None  # freed now, while PostgreSQL stores the chunk before
        return tuples

    # COPY goes to psycopg's own cursor: its errors are turned into Django's here.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        _draw_ids(cursor, batches)
        opened: Any = None  # the open COPY (its context manager)
        current = -1
        try:
            prepared = {0: ready(0)}
            for position, (index, _) in enumerate(chunks):
                if index != current:
                    if opened is not None:
                        opened.__exit__(None, None, None)  # PostgreSQL has stored it all
                    opened = cursor.cursor.copy(specs[index].copy_sql)
                    write = opened.__enter__().write_row
                    current = index
                for values in prepared.pop(position):
                    write(values)
                # The next chunk is prepared while PostgreSQL stores this one; at
                # the end of a table, every chunk of the next one, while
                # PostgreSQL catches up before the table's COPY can end.
                ahead = position + 1
                while ahead < len(chunks) and ahead not in prepared:
                    prepared[ahead] = ready(ahead)
                    if chunks[ahead][0] == index:
                        break
                    if ahead + 1 < len(chunks) and chunks[ahead + 1][0] != chunks[ahead][0]:
                        break
                    ahead += 1
            opened, finishing = None, opened
            finishing.__exit__(None, None, None)
        except BaseException:
            if opened is not None:
                opened.__exit__(*sys.exc_info())
            raise


@functools.cache
def _index_count(model: type[models.Model]) -> int:
    """The indexes PostgreSQL keeps up to date for each row of ``model``."""
    meta = model._meta
    fields = sum(1 for f in meta.concrete_fields if f.primary_key or f.unique or f.db_index)
    unique = sum(1 for c in meta.constraints if isinstance(c, models.UniqueConstraint))
    return fields + unique + len(meta.indexes)


def _insert_each(batches: Sequence[Batch]) -> None:
    """Batch after batch with bulk_create, which returns the ids on SQLite."""
    for model, rows, prepare in batches:
        if prepare is not None:
            prepare(rows)
        spec = _InsertSpec(model)
        objs = [model(**values) for values in spec.complete(rows)]
        model._default_manager.bulk_create(objs, batch_size=500)
        for row, obj in zip(rows, objs, strict=True):
            row.pk, row.values = obj.pk, None


class _InsertSpec:
    """How new rows of a model are completed and written."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields, self.defaults = _column_defaults(model)
        self.links = [f.attname for f in self.fields if f.remote_field is not None]
        self.take = operator.itemgetter(*[f.attname for f in self.fields])
        meta, quote = model._meta, connection.ops.quote_name
        columns = ", ".join([quote(meta.pk.column)] + [quote(f.column) for f in self.fields])
        self.copy_sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        self.checked = False

    def complete(self, rows: Sequence[New]) -> Iterator[dict[str, Any]]:
        """Each row's values with the defaults of the columns it does not name
        and its links (rows new or existing) resolved to ids."""
        defaults, links = self.defaults, self.links
        for row in rows:
            values = row.values = {**defaults, **row.values}
            for key in links:
                target = values[key]
                if target.__class__ is New or target.__class__ is Record:
                    values[key] = target.pk
            if not self.checked:
                missing = [f.attname for f in self.fields if f.attname not in values]
                if missing:
                    raise ValueError(f"{self.model.__name__}: no value for {missing}")
                self.checked = True
            yield values


def _draw_ids(cursor: Any, batches: Sequence[Batch]) -> None:
    """Ids for every new row, from the tables' sequences: two queries. The
    sequences' names come first: inside the id query, pg_get_serial_sequence
    would run once per row (ten times slower than the ids themselves)."""
    models_by_table = {model._meta.db_table: model for model, _, _ in batches}
    tables = list(models_by_table)
    cursor.execute(
        "SELECT t, pg_get_serial_sequence(t, c) FROM unnest(%s::text[], %s::text[]) AS s(t, c)",
        [tables, [models_by_table[t]._meta.pk.column for t in tables]],
    )
    sequences = dict(cursor.fetchall())
    draws = " UNION ALL ".join(
        ["SELECT %s, ARRAY(SELECT nextval(%s::regclass) FROM generate_series(1, %s))"]
        * len(batches)
    )
    params: list[Any] = []
    for index, (model, rows, _) in enumerate(batches):
        params += [index, sequences[model._meta.db_table], len(rows)]
    cursor.execute(draws, params)
    for index, ids in cursor.fetchall():
        for row, pk in zip(batches[index][1], ids, strict=True):
            row.pk = pk


def update_rows(model: type[models.Model], rows: list[Record], fields: list[str]) -> None:
    """Write the named fields (attnames) of existing rows, and ``updated_at``.

    PostgreSQL: COPY into a temporary table, then one UPDATE … FROM.
    Elsewhere: bulk_update."""
    if not rows or not fields:
        return
    meta = model._meta
    names = list(dict.fromkeys(fields))
    if any(f.name == "updated_at" for f in meta.concrete_fields):
        now = timezone.now()
        for row in rows:
            row["updated_at"] = now
        names.append("updated_at")
    targets = [meta.get_field(n) for n in names]
    if connection.vendor != "postgresql":
        objs = [model(pk=row["id"], **{f.attname: row[f.attname] for f in targets}) for row in rows]
        model._default_manager.bulk_update(objs, [f.name for f in targets], batch_size=500)
        return
    quote = connection.ops.quote_name
    temp = f"kaitai_update_{next(_temp_names)}"
    columns = ", ".join(quote(f.column) for f in targets)
    # Identifiers only, from the model's meta and a counter: no input reaches the SQL.
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = u.{quote(f.column)}" for f in targets)
    create = f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS SELECT {pk}, {columns} FROM {table} WITH NO DATA"  # noqa: S608
    update = f"UPDATE {table} AS t SET {assignments} FROM {temp} AS u WHERE t.{pk} = u.{pk}"  # noqa: S608
    attnames = [f.attname for f in targets]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(create)
        with cursor.cursor.copy(f"COPY {temp} FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row["id"], *[row[a] for a in attnames]])
        cursor.execute(update)
        cursor.execute(f"DROP TABLE {temp}")
