"""Who is where: cadres, teams and memberships, households, pairings and visits."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.choices import AreaLevel
from core.fields import DigestField
from core.models import Area, DispatchingUnit
from core.scoping import Scope, ScopedQuerySet

from .choices import (
    Education,
    EndReason,
    HouseholdType,
    MemberRole,
    PoliticalStatus,
    Rank,
    Sex,
)

ID_KIND = "id"
PHONE_KIND = "phone"


class PersonalNumbers:
    """Encrypted ID and phone numbers with their keyed hashes and masks.

    A model using it declares ``<name>_enc``, ``<name>_hash`` and
    ``<name>_masked`` fields for each number in ``personal_numbers``."""

    personal_numbers: dict[str, str] = {}

    def set_number(self, name: str, value: str) -> None:
        kind = self.personal_numbers[name]
        value = value or ""
        setattr(self, f"{name}_enc", crypto.encrypt(value))
        setattr(self, f"{name}_hash", crypto.blind_index(kind, value))
        masker = crypto.mask_id_number if kind == ID_KIND else crypto.mask_phone
        setattr(self, f"{name}_masked", masker(value) if value else "")

    def get_number(self, name: str) -> str:
        return crypto.decrypt(getattr(self, f"{name}_enc"))


class CadreQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "county_id",
        Scope.TOWNSHIP: (
            "memberships__team__village__township_id",
            "pairings__household__village__township_id",
        ),
        Scope.VILLAGE: (
            "memberships__team__village_id",
            "pairings__household__village_id",
        ),
        Scope.UNIT: "unit_id",
        Scope.SELF: "user_id",
    }


class Cadre(PersonalNumbers, models.Model):
    """干部: a team member or pairing cadre, identified by the ID number."""

    personal_numbers = {"id_number": ID_KIND, "phone": PHONE_KIND}

    county = models.ForeignKey(
        Area,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="cadres",
        limit_choices_to={"level": AreaLevel.COUNTY},
        db_index=False,  # led by teams_cadre_county_pinyin
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cadre",
    )
    name = models.CharField(_("name"), max_length=32)
    # Searched by prefix or substring over a county's cadres (a scan of a few
    # thousand short strings); lists are ordered by teams_cadre_county_pinyin.
    name_pinyin = models.CharField(_("name in pinyin"), max_length=128, blank=True)
    name_initials = models.CharField(_("pinyin initials"), max_length=32, blank=True)
    id_number_enc = models.TextField(_("ID number (encrypted)"), editable=False)
    id_number_hash = DigestField()
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    phone_enc = models.TextField(_("mobile (encrypted)"), blank=True, editable=False)
    phone_hash = DigestField(blank=True)
    phone_masked = models.CharField(_("mobile"), max_length=16, blank=True, editable=False)
    sex = models.CharField(_("sex"), max_length=2, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    unit = models.ForeignKey(
        DispatchingUnit,
        verbose_name=_("dispatching unit"),
        on_delete=models.PROTECT,
        related_name="cadres",
    )
    post = models.CharField(_("post"), max_length=64, blank=True)
    rank = models.CharField(_("rank"), max_length=8, choices=Rank.choices, blank=True)
    # Blank for pairing cadres entered from the pairings roster, which does not carry them.
    education = models.CharField(
        _("education"), max_length=8, choices=Education.choices, blank=True
    )
    major = models.CharField(_("major"), max_length=64, blank=True)
    agri_major = models.BooleanField(_("agriculture-related major"), default=False)
    political_status = models.CharField(
        _("political status"), max_length=8, choices=PoliticalStatus.choices, blank=True
    )
    rural_experience = models.BooleanField(_("rural work experience"), default=False)
    prior_poverty_service = models.BooleanField(
        _("earlier poverty-alleviation service"), default=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CadreQuerySet.as_manager()

    class Meta:
        verbose_name = _("cadre")
        verbose_name_plural = _("cadres")
        ordering = ["name_pinyin", "pk"]
        permissions = [
            ("reveal_personal", _("Can see full ID and phone numbers")),
            ("import_roster", _("Can import rosters")),
            ("export_roster", _("Can export rosters")),
        ]
        # One index for the county's list in its default order, instead of one
        # on county and two each (plain and pattern) on the pinyin keys: every
        # index costs a 10,000-row roster import time.
        indexes = [
            models.Index(fields=["county", "name_pinyin", "id"], name="teams_cadre_county_pinyin"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"],
                name="teams_cadre_unique_id_number",
                violation_error_message=_("A cadre with this ID number already exists."),
            ),
            models.UniqueConstraint(
                fields=["phone_hash"],
                condition=~Q(phone_hash=""),
                name="teams_cadre_unique_phone",
                violation_error_message=_("A cadre with this mobile number already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(id_number_hash=""), name="teams_cadre_id_number_required"
            ),
            models.CheckConstraint(
                condition=Q(education="") | Q(education__in=Education.values),
                name="teams_cadre_education_valid",
            ),
            models.CheckConstraint(
                condition=Q(political_status="") | Q(political_status__in=PoliticalStatus.values),
                name="teams_cadre_political_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(rank="") | Q(rank__in=Rank.values), name="teams_cadre_rank_valid"
            ),
            models.CheckConstraint(condition=Q(sex__in=Sex.values), name="teams_cadre_sex_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class TeamQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "village__county_id",
        Scope.TOWNSHIP: "village__township_id",
        Scope.VILLAGE: "village_id",
        Scope.UNIT: "memberships__cadre__unit_id",
        Scope.SELF: "memberships__cadre__user_id",
    }

    def current(self):
        return self.filter(dissolved_on__isnull=True)


class Team(models.Model):
    """驻村工作队: the team of one village; created with its first member."""

    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="teams",
        limit_choices_to={"level": AreaLevel.VILLAGE},
    )
    formed_on = models.DateField(_("formed on"))
    dissolved_on = models.DateField(_("dissolved on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["village__code", "village__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["village"],
                condition=Q(dissolved_on__isnull=True),
                name="teams_team_one_current_per_village",
                violation_error_message=_("This village already has a current team."),
            ),
            models.CheckConstraint(
                condition=Q(dissolved_on__isnull=True) | Q(dissolved_on__gte=F("formed_on")),
                name="teams_team_dissolved_after_formed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.name}驻村工作队"


class MembershipQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "team__village__county_id",
        Scope.TOWNSHIP: "team__village__township_id",
        Scope.VILLAGE: "team__village_id",
        Scope.UNIT: "cadre__unit_id",
        Scope.SELF: "cadre__user_id",
    }

    def current(self):
        return self.filter(end_date__isnull=True)

    def on(self, day):
        """Memberships that include the day."""
        return self.filter(start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )


class Membership(models.Model):
    """A cadre's time in a team; ended by rotation, adjustment or recall, never deleted."""

    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,  # led by teams_membership_team_end
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("team role"), max_length=16, choices=MemberRole.choices)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=8, choices=EndReason.choices, blank=True
    )
    end_decision = models.CharField(
        _("decision"),
        max_length=200,
        blank=True,
        help_text=_("The decision or document behind an adjustment or recall."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["-start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre"],
                condition=Q(end_date__isnull=True),
                name="teams_membership_one_current_per_cadre",
                violation_error_message=_("This cadre is already stationed in a team."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="teams_membership_end_after_start",
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True, end_reason="")
                | Q(end_date__isnull=False, end_reason__in=EndReason.values),
                name="teams_membership_end_reason",
                violation_error_message=_("An ended membership needs a reason, and only then."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=MemberRole.values), name="teams_membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["team", "end_date"], name="teams_membership_team_end")]

    def __str__(self) -> str:
        return f"{self.cadre} · {self.role}"


class HouseholdQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "village__county_id",
        Scope.TOWNSHIP: "village__township_id",
        Scope.VILLAGE: "village_id",
        Scope.UNIT: "pairings__cadre__unit_id",
        Scope.SELF: "pairings__cadre__user_id",
    }


class Household(PersonalNumbers, models.Model):
    """A household helped by a pairing cadre, keyed on the head's ID number."""

    personal_numbers = {"head_id_number": ID_KIND, "phone": PHONE_KIND}

    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level": AreaLevel.VILLAGE},
    )
    head_name = models.CharField(_("head of household"), max_length=32)
    head_id_number_enc = models.TextField(editable=False)
    head_id_number_hash = DigestField()
    head_id_number_masked = models.CharField(_("head's ID number"), max_length=18, editable=False)
    size = models.PositiveSmallIntegerField(
        _("household size"), validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    type = models.CharField(_("household type"), max_length=8, choices=HouseholdType.choices)
    year_out_of_poverty = models.PositiveSmallIntegerField(
        _("year out of poverty"), null=True, blank=True
    )
    phone_enc = models.TextField(blank=True, editable=False)
    phone_hash = DigestField(blank=True)
    phone_masked = models.CharField(_("phone"), max_length=16, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["village", "head_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["head_id_number_hash"],
                name="teams_household_unique_head",
                violation_error_message=_("A household with this head already exists."),
            ),
            models.CheckConstraint(
                condition=Q(size__gte=1, size__lte=30), name="teams_household_size_range"
            ),
            models.CheckConstraint(
                condition=Q(type__in=HouseholdType.values), name="teams_household_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(year_out_of_poverty__isnull=True) | Q(year_out_of_poverty__gte=2014),
                name="teams_household_year_from_2014",
            ),
        ]

    def __str__(self) -> str:
        return self.head_name


class PairingQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "household__village__county_id",
        Scope.TOWNSHIP: "household__village__township_id",
        Scope.VILLAGE: "household__village_id",
        Scope.UNIT: "cadre__unit_id",
        Scope.SELF: "cadre__user_id",
    }

    def current(self):
        return self.filter(end_date__isnull=True)


class Pairing(models.Model):
    """结对帮扶: one current pairing cadre per household; reassignment ends the old one."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("pairing cadre"), on_delete=models.PROTECT, related_name="pairings"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="pairings"
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PairingQuerySet.as_manager()

    class Meta:
        verbose_name = _("pairing")
        verbose_name_plural = _("pairings")
        ordering = ["-start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(end_date__isnull=True),
                name="teams_pairing_one_current_per_household",
                violation_error_message=_("This household already has a pairing cadre."),
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="teams_pairing_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["cadre", "end_date"], name="teams_pairing_cadre_end")]

    def __str__(self) -> str:
        return f"{self.cadre} → {self.household}"


class VisitQuerySet(ScopedQuerySet):
    scope_paths = PairingQuerySet.scope_paths


class Visit(models.Model):
    """进村入户: a pairing cadre's visit to a household (at least 4 a month)."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="visits"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits"
    )
    date = models.DateField(_("date"))
    content = models.TextField(_("what was done"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-date", "pk"]
        indexes = [
            models.Index(fields=["cadre", "date"], name="teams_visit_cadre_date"),
            models.Index(fields=["household", "date"], name="teams_visit_household_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.cadre} → {self.household}"


def visit_photo_path(instance: VisitPhoto, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"visits/{instance.visit.date:%Y/%m}/{instance.visit_id}-{instance.uuid}.{suffix}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="photos"
    )
    uuid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    image = models.FileField(_("photo"), upload_to=visit_photo_path)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return self.image.name
