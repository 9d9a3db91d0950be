"""Choices of the teams app. Stored values are the Chinese terms of the rosters
(`rosters.md`), which are a data contract."""

from django.db import models


class MemberRole(models.TextChoices):
    FIRST_SECRETARY = "第一书记", "第一书记"
    LEADER = "工作队长", "工作队长"
    SECRETARY_AND_LEADER = "第一书记兼工作队长", "第一书记兼工作队长"
    MEMBER = "工作队员", "工作队员"


LEADER_ROLES = (
    MemberRole.FIRST_SECRETARY,
    MemberRole.LEADER,
    MemberRole.SECRETARY_AND_LEADER,
)


class EndReason(models.TextChoices):
    ROTATION = "完成轮换", "完成轮换"
    ADJUSTMENT = "调整", "调整"
    RECALL = "召回", "召回"


class Rank(models.TextChoices):
    BUREAU = "厅级", "厅级"
    DIVISION = "处级", "处级"
    SECTION_CHIEF = "科级正职", "科级正职"
    SECTION_DEPUTY = "科级副职", "科级副职"
    STAFF = "科员", "科员"
    CLERK = "办事员", "办事员"
    OTHER = "其他", "其他"


# 副科以上: deputy section level and every rank above it.
DEPUTY_SECTION_OR_ABOVE = (
    Rank.BUREAU,
    Rank.DIVISION,
    Rank.SECTION_CHIEF,
    Rank.SECTION_DEPUTY,
)


class Education(models.TextChoices):
    DOCTORATE = "博士研究生", "博士研究生"
    MASTER = "硕士研究生", "硕士研究生"
    BACHELOR = "大学本科", "大学本科"
    COLLEGE = "大学专科", "大学专科"
    SECONDARY_VOCATIONAL = "中专", "中专"
    HIGH_SCHOOL = "高中", "高中"
    JUNIOR_OR_BELOW = "初中及以下", "初中及以下"


COLLEGE_OR_ABOVE = (
    Education.DOCTORATE,
    Education.MASTER,
    Education.BACHELOR,
    Education.COLLEGE,
)
POSTGRADUATE = (Education.DOCTORATE, Education.MASTER)


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "中共党员", "中共党员"
    PROBATIONARY = "中共预备党员", "中共预备党员"
    LEAGUE = "共青团员", "共青团员"
    DEMOCRATIC_PARTY = "民主党派", "民主党派"
    MASSES = "群众", "群众"


PARTY_MEMBERS = (PoliticalStatus.PARTY_MEMBER, PoliticalStatus.PROBATIONARY)


class Sex(models.TextChoices):
    MALE = "男", "男"
    FEMALE = "女", "女"


class HouseholdType(models.TextChoices):
    OUT_OF_POVERTY = "脱贫户", "脱贫户"
    NOT_OUT = "未脱贫户", "未脱贫户"
    MONITORED = "监测户", "监测户"
    GENERAL = "一般户", "一般户"


# The matching rule (Qidong): unit kind -> the village condition it fits.
MATCHING_RULE = {
    "经济部门": "贫困村",
    "党群部门": "软弱涣散村",
    "政法部门": "治安混乱村",
}
