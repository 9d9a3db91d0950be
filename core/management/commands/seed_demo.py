"""Demo data: a fictional county at Kailu's scale, one demo user per role.

12 townships and farms, 254 villages, 89 county units plus the 12 townships as
dispatching units. Deterministic (a fixed random seed) and idempotent: a second
run finds the county and only prints the logins.
"""

from __future__ import annotations

import importlib
import importlib.util
import random
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.choices import (
    STAFF_ROLES,
    AreaKind,
    AreaLevel,
    Role,
    UnitKind,
    UnitLevel,
    VillageCategory,
    VillageCondition,
)
from core.models import Area, DispatchingUnit, User

COUNTY_NAME = "开台旗"
COUNTY_CODE = "159901"
DEMO_PASSWORD = "Kaitai#2026demo"  # noqa: S105 - printed for the demo on purpose

# (name, kind, villages)
TOWNSHIPS = [
    ("开台镇", AreaKind.TOWN, 24),
    ("东风镇", AreaKind.TOWN, 23),
    ("和平镇", AreaKind.TOWN, 22),
    ("新华镇", AreaKind.TOWN, 22),
    ("榆树镇", AreaKind.TOWN, 21),
    ("青龙镇", AreaKind.TOWN, 21),
    ("麦香镇", AreaKind.TOWN, 22),
    ("小河镇", AreaKind.TOWN, 23),
    ("白音苏木", AreaKind.SUMU, 20),
    ("东来镇", AreaKind.TOWN, 22),
    ("保安农场", AreaKind.FARM, 17),
    ("兴隆农场", AreaKind.FARM, 17),
]
assert sum(n for _, _, n in TOWNSHIPS) == 254

VILLAGE_STEMS = [
    "前进",
    "胜利",
    "红星",
    "永丰",
    "太平",
    "长青",
    "向阳",
    "新民",
    "富民",
    "兴旺",
    "东升",
    "西岗",
    "南营",
    "北沟",
    "三合",
    "四方",
    "五星",
    "六合",
    "七家",
    "八里",
    "九龙",
    "十里",
    "大岗",
    "小岗",
    "黄花",
    "白塔",
    "青山",
    "柳条",
    "杏树",
    "榆林",
    "双井",
    "联合",
    "团结",
    "先锋",
    "建设",
    "光明",
    "友谊",
    "和顺",
    "吉祥",
    "丰收",
    "金山",
    "银河",
    "宝山",
    "福兴",
    "德胜",
    "仁和",
    "义和",
    "礼让",
    "智泉",
    "信义",
]
MONGOL_STEMS = ["巴彦", "乌兰", "查干", "哈日", "宝力", "阿拉坦", "额尔敦", "朝鲁", "敖包", "塔本"]

UNIT_NAMES: list[tuple[str, str]] = [
    ("县委办公室", UnitKind.PARTY_MASS),
    ("县政府办公室", UnitKind.OTHER),
    ("县委组织部", UnitKind.PARTY_MASS),
    ("县委宣传部", UnitKind.PARTY_MASS),
    ("县委统战部", UnitKind.PARTY_MASS),
    ("县委政法委", UnitKind.POLITICAL_LEGAL),
    ("县纪委监委", UnitKind.POLITICAL_LEGAL),
    ("县委编办", UnitKind.PARTY_MASS),
    ("县委党校", UnitKind.PARTY_MASS),
    ("县人大办公室", UnitKind.OTHER),
    ("县政协办公室", UnitKind.OTHER),
    ("县总工会", UnitKind.PARTY_MASS),
    ("团县委", UnitKind.PARTY_MASS),
    ("县妇联", UnitKind.PARTY_MASS),
    ("县科协", UnitKind.PARTY_MASS),
    ("县工商联", UnitKind.PARTY_MASS),
    ("县残联", UnitKind.PARTY_MASS),
    ("县文联", UnitKind.PARTY_MASS),
    ("县法院", UnitKind.POLITICAL_LEGAL),
    ("县检察院", UnitKind.POLITICAL_LEGAL),
    ("县公安局", UnitKind.POLITICAL_LEGAL),
    ("县司法局", UnitKind.POLITICAL_LEGAL),
    ("县信访局", UnitKind.POLITICAL_LEGAL),
    ("县发展和改革委员会", UnitKind.ECONOMIC),
    ("县财政局", UnitKind.ECONOMIC),
    ("县农牧局", UnitKind.ECONOMIC),
    ("县水利局", UnitKind.ECONOMIC),
    ("县林业和草原局", UnitKind.ECONOMIC),
    ("县乡村振兴局", UnitKind.ECONOMIC),
    ("县交通运输局", UnitKind.ECONOMIC),
    ("县住房和城乡建设局", UnitKind.ECONOMIC),
    ("县自然资源局", UnitKind.ECONOMIC),
    ("县生态环境分局", UnitKind.ECONOMIC),
    ("县商务局", UnitKind.ECONOMIC),
    ("县工业和信息化局", UnitKind.ECONOMIC),
    ("县市场监督管理局", UnitKind.ECONOMIC),
    ("县税务局", UnitKind.ECONOMIC),
    ("县统计局", UnitKind.ECONOMIC),
    ("县审计局", UnitKind.ECONOMIC),
    ("县人力资源和社会保障局", UnitKind.ECONOMIC),
    ("县供销社", UnitKind.ECONOMIC),
    ("县农村信用联社", UnitKind.ECONOMIC),
    ("县农业银行", UnitKind.ECONOMIC),
    ("县邮政分公司", UnitKind.ECONOMIC),
    ("县电力公司", UnitKind.ECONOMIC),
    ("县教育局", UnitKind.OTHER),
    ("县卫生健康委员会", UnitKind.OTHER),
    ("县民政局", UnitKind.OTHER),
    ("县退役军人事务局", UnitKind.OTHER),
    ("县文化旅游体育局", UnitKind.OTHER),
    ("县应急管理局", UnitKind.OTHER),
    ("县医疗保障局", UnitKind.OTHER),
    ("县档案馆", UnitKind.OTHER),
    ("县融媒体中心", UnitKind.PARTY_MASS),
    ("县机关事务服务中心", UnitKind.OTHER),
    ("县政务服务局", UnitKind.OTHER),
    ("县人民医院", UnitKind.OTHER),
    ("县中医院", UnitKind.OTHER),
    ("县疾病预防控制中心", UnitKind.OTHER),
    ("县第一中学", UnitKind.OTHER),
    ("县第二中学", UnitKind.OTHER),
    ("县职业中学", UnitKind.OTHER),
    ("县气象局", UnitKind.OTHER),
    ("县地震局", UnitKind.OTHER),
    ("县消防救援大队", UnitKind.POLITICAL_LEGAL),
    ("县武装部", UnitKind.POLITICAL_LEGAL),
    ("县住房公积金中心", UnitKind.ECONOMIC),
    ("县粮食和物资储备局", UnitKind.ECONOMIC),
    ("县农业技术推广中心", UnitKind.ECONOMIC),
    ("县畜牧工作站", UnitKind.ECONOMIC),
    ("县水务投资公司", UnitKind.ECONOMIC),
    ("县城市管理综合执法局", UnitKind.POLITICAL_LEGAL),
    ("县自然资源执法大队", UnitKind.POLITICAL_LEGAL),
    ("县农牧综合执法大队", UnitKind.POLITICAL_LEGAL),
    ("县国有资产服务中心", UnitKind.ECONOMIC),
    ("县招商服务中心", UnitKind.ECONOMIC),
    ("县就业服务中心", UnitKind.ECONOMIC),
    ("县社会保险事业中心", UnitKind.OTHER),
    ("县红十字会", UnitKind.PARTY_MASS),
    ("县老干部局", UnitKind.PARTY_MASS),
    ("县委巡察办", UnitKind.POLITICAL_LEGAL),
    ("县委网信办", UnitKind.PARTY_MASS),
    ("县委老龄办", UnitKind.PARTY_MASS),
    ("县保密局", UnitKind.PARTY_MASS),
    ("县史志办", UnitKind.PARTY_MASS),
    ("县侨联", UnitKind.PARTY_MASS),
    ("县新华书店", UnitKind.OTHER),
    ("县广播电视台", UnitKind.PARTY_MASS),
    ("县图书馆", UnitKind.OTHER),
]
assert len(UNIT_NAMES) == 89 and len({n for n, _ in UNIT_NAMES}) == 89

DEMO_USERS = [
    ("demo_county", "县驻村办 王敏", Role.COUNTY_OFFICE),
    ("demo_township", "开台镇驻村办 李强", Role.TOWNSHIP_OFFICE),
    ("demo_township2", "东风镇驻村办 赵丽", Role.TOWNSHIP_OFFICE),
    ("demo_unit", "县财政局 孙伟", Role.UNIT),
    ("demo_leader", "第一书记 周杰", Role.TEAM_LEADER),
    ("demo_cadre", "工作队员 吴芳", Role.CADRE),
    ("demo_inspector", "督导组 郑涛", Role.INSPECTOR),
    ("demo_sysadmin", "系统管理员 冯静", Role.SYSTEM_ADMIN),
    ("demo_secadmin", "安全管理员 陈刚", Role.SECURITY_ADMIN),
    ("demo_auditadmin", "审计管理员 褚雪", Role.AUDIT_ADMIN),
]


class Command(BaseCommand):
    help = "生成演示数据：一个虚构旗县（12个镇场、254个村、89个县直单位）及每个角色的演示账号。"

    def handle(self, *args, **options):
        started = timezone.now()
        if Area.objects.filter(level=AreaLevel.COUNTY, name=COUNTY_NAME).exists():
            self.stdout.write(f"演示数据已存在：{COUNTY_NAME}")
        else:
            with transaction.atomic():
                county = self._build()
                self._app_demos(county)
            seconds = (timezone.now() - started).total_seconds()
            self.stdout.write(
                self.style.SUCCESS(f"已生成演示数据：{COUNTY_NAME}，用时 {seconds:.1f} 秒")
            )
        self._print_logins()

    def _build(self) -> None:
        rng = random.Random(20261125)
        county = Area.objects.create(
            level=AreaLevel.COUNTY, kind=AreaKind.BANNER, name=COUNTY_NAME, code=COUNTY_CODE
        )
        townships = Area.objects.bulk_create(
            [
                Area(
                    level=AreaLevel.TOWNSHIP,
                    kind=kind,
                    name=name,
                    code=f"{COUNTY_CODE}{i + 1:03d}",
                    parent=county,
                    county=county,
                )
                for i, (name, kind, _) in enumerate(TOWNSHIPS)
            ]
        )
        villages = []
        for t_index, (township, (_, kind, count)) in enumerate(
            zip(townships, TOWNSHIPS, strict=True)
        ):
            base_lat = 43.45 + 0.08 * (t_index % 4)
            base_lng = 120.95 + 0.12 * (t_index // 4)
            for v in range(count):
                if kind == AreaKind.FARM:
                    vname, vkind = f"第{v + 1}分场", AreaKind.BRANCH_FARM
                elif kind == AreaKind.SUMU:
                    vname, vkind = f"{MONGOL_STEMS[v % len(MONGOL_STEMS)]}嘎查", AreaKind.GACHA
                    if v >= len(MONGOL_STEMS):
                        vname = (
                            f"{MONGOL_STEMS[v % len(MONGOL_STEMS)]}{v // len(MONGOL_STEMS) + 1}嘎查"
                        )
                else:
                    vname, vkind = f"{VILLAGE_STEMS[v]}村", AreaKind.VILLAGE
                roll = rng.random()
                category = (
                    VillageCategory.DEMONSTRATION
                    if roll < 0.08
                    else VillageCategory.KEY
                    if roll < 0.3
                    else VillageCategory.GENERAL
                )
                condition = rng.choices(
                    [
                        VillageCondition.POOR,
                        VillageCondition.WEAK,
                        VillageCondition.DISORDERLY,
                        VillageCondition.GENERAL,
                    ],
                    weights=[30, 15, 5, 50],
                )[0]
                villages.append(
                    Area(
                        level=AreaLevel.VILLAGE,
                        kind=vkind,
                        name=vname,
                        code=f"{township.code}{v + 1:03d}",
                        parent=township,
                        county=county,
                        township=township,
                        category=category,
                        condition=condition,
                        latitude=Decimal(f"{base_lat + rng.uniform(-0.04, 0.04):.6f}"),
                        longitude=Decimal(f"{base_lng + rng.uniform(-0.05, 0.05):.6f}"),
                        radius_m=1000,
                    )
                )
        Area.objects.bulk_create(villages)
        units = [
            DispatchingUnit(county=county, name=name, kind=kind, level=UnitLevel.COUNTY)
            for name, kind in UNIT_NAMES
        ]
        units += [
            DispatchingUnit(
                county=county,
                name=t.name,
                kind=UnitKind.OTHER,
                level=UnitLevel.TOWNSHIP,
                township=t,
            )
            for t in townships
        ]
        DispatchingUnit.objects.bulk_create(units)
        self._users(county, townships)
        return county

    def _app_demos(self, county: Area) -> None:
        """Each app may add its demo data in ``<app>/demo.py`` with ``seed(county, stdout)``;
        core imports no other app, so it finds them through the app registry."""
        for config in apps.get_app_configs():
            if config.name == "core" or importlib.util.find_spec(f"{config.name}.demo") is None:
                continue
            module = importlib.import_module(f"{config.name}.demo")
            module.seed(county=county, stdout=self.stdout)

    def _users(self, county: Area, townships: list[Area]) -> None:
        first_village = Area.objects.filter(parent=townships[0]).order_by("code").first()
        unit = DispatchingUnit.objects.get(county=county, name="县财政局")
        scopes = {
            Role.COUNTY_OFFICE: {"scope_area": county},
            Role.INSPECTOR: {"scope_area": county},
            Role.TEAM_LEADER: {"scope_area": first_village},
            Role.UNIT: {"scope_unit": unit},
        }
        now = timezone.now()
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
        users = []
        for username, full_name, role in DEMO_USERS:
            scope = scopes.get(role, {})
            if username == "demo_township":
                scope = {"scope_area": townships[0]}
            elif username == "demo_township2":
                scope = {"scope_area": townships[1]}
            user = User(
                username=username,
                full_name=full_name,
                role=role,
                is_staff=role in STAFF_ROLES,
                password=password,
                password_changed_at=now,
                **scope,
            )
            users.append(user)
        User.objects.bulk_create(users)

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
        roles = dict(Role.choices)
        for username, full_name, role in DEMO_USERS:
            self.stdout.write(f"  {username:<16} {roles[role]!s:<10} {full_name}")
        self.stdout.write("")
