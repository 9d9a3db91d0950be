"""The four Excel rosters of ``rosters.md``, column by column.

This is a data contract with the township offices: headers are plain
constants, never translated. The importer, the downloadable templates and the
exports are all built from these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.choices import UnitKind, VillageCategory, VillageCondition

from .choices import Education, HouseholdType, MemberRole, PoliticalStatus, Rank

# Column value types
TEXT = "text"
CHOICE = "choice"
DECIMAL = "decimal"
INTEGER = "integer"
DATE = "date"
YESNO = "yesno"
ID_NUMBER = "id_number"
MOBILE = "mobile"
PHONE = "phone"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    default: object = None
    max_length: int = 64
    example: str = ""
    note: str = ""


@dataclass(frozen=True)
class Roster:
    kind: str
    title: str  # sheet and file name
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # headers forming the natural key
    notes: tuple[str, ...] = field(default=())

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    @property
    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.required]

    def column(self, header: str) -> Column:
        for c in self.columns:
            if c.header == header:
                return c
        raise KeyError(header)


def _choices(enum) -> tuple[str, ...]:
    return tuple(enum.values)


VILLAGES = Roster(
    kind="villages",
    title="村情花名册",
    key=("乡镇", "村名称"),
    columns=(
        Column("乡镇", required=True, example="开台镇", note="本旗县已有的乡镇"),
        Column("村名称", required=True, example="前进村"),
        Column(
            "村分类", CHOICE, required=True, choices=_choices(VillageCategory), example="一般村"
        ),
        Column("村情类别", CHOICE, choices=_choices(VillageCondition), example="贫困村"),
        Column("纬度", DECIMAL, min_value=3, max_value=54, example="43.601234", note="WGS-84"),
        Column("经度", DECIMAL, min_value=73, max_value=136, example="121.301234", note="WGS-84"),
        Column(
            "签到半径（米）",
            INTEGER,
            min_value=10,
            max_value=100_000,
            example="1000",
            note="不填则按县里设定的默认半径（1000米）",
        ),
    ),
)

CADRES = Roster(
    kind="cadres",
    title="驻村工作队花名册",
    key=("身份证号",),
    columns=(
        Column("姓名", required=True, max_length=32, example="张三"),
        Column("身份证号", ID_NUMBER, required=True, example="150523198001010012"),
        Column("手机号", MOBILE, required=True, example="13800001234"),
        Column(
            "派出单位", required=True, max_length=100, example="县财政局", note="新单位会自动创建"
        ),
        Column("单位类别", CHOICE, required=True, choices=_choices(UnitKind), example="经济部门"),
        Column("职务", example="副局长"),
        Column("职级", CHOICE, choices=_choices(Rank), example="科级副职"),
        Column("学历", CHOICE, required=True, choices=_choices(Education), example="大学本科"),
        Column("所学专业", example="农学"),
        Column("是否涉农专业", YESNO, example="是"),
        Column(
            "政治面貌", CHOICE, required=True, choices=_choices(PoliticalStatus), example="中共党员"
        ),
        Column("是否有农村工作经历", YESNO, example="是"),
        Column("是否参加过脱贫攻坚驻村", YESNO, example="否"),
        Column("乡镇", required=True, example="开台镇", note="上传的乡镇"),
        Column("村名称", required=True, example="前进村", note="该乡镇已有的村"),
        Column("驻村身份", CHOICE, required=True, choices=_choices(MemberRole), example="工作队员"),
        Column("驻村开始日期", DATE, required=True, example="2021-03-01"),
    ),
)

HOUSEHOLDS = Roster(
    kind="households",
    title="帮扶户花名册",
    key=("户主身份证号",),
    columns=(
        Column("乡镇", required=True, example="开台镇"),
        Column("村名称", required=True, example="前进村"),
        Column("户主姓名", required=True, max_length=32, example="李四"),
        Column("户主身份证号", ID_NUMBER, required=True, example="150523196505050016"),
        Column("家庭人口", INTEGER, required=True, min_value=1, max_value=30, example="4"),
        Column("户类型", CHOICE, required=True, choices=_choices(HouseholdType), example="脱贫户"),
        Column("脱贫年度", INTEGER, min_value=2014, example="2019", note="2014年至今年"),
        Column("联系电话", PHONE, example="13900001234"),
    ),
)

PAIRINGS = Roster(
    kind="pairings",
    title="结对帮扶花名册",
    key=("帮扶干部身份证号", "户主身份证号"),
    columns=(
        Column("帮扶干部姓名", required=True, max_length=32, example="王五"),
        Column("帮扶干部身份证号", ID_NUMBER, required=True, example="150523198505050015"),
        Column("帮扶干部手机号", MOBILE, example="13700001234", note="干部为新增时必填"),
        Column(
            "派出单位",
            max_length=100,
            example="县财政局",
            note="干部为新增时必填；新单位会自动创建",
        ),
        Column("户主姓名", required=True, max_length=32, example="李四"),
        Column("户主身份证号", ID_NUMBER, required=True, example="150523196505050016"),
        Column("结对开始日期", DATE, required=True, example="2021-03-01"),
    ),
)

ROSTERS: dict[str, Roster] = {r.kind: r for r in (VILLAGES, CADRES, HOUSEHOLDS, PAIRINGS)}

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024
