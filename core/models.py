"""Areas, dispatching units, users and the audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    AREA_SCOPED_ROLES,
    KINDS_BY_LEVEL,
    SELF_SCOPED_ROLES,
    UNIT_SCOPED_ROLES,
    AreaKind,
    AreaLevel,
    AuditAction,
    Role,
    UnitKind,
    UnitLevel,
    VillageCategory,
    VillageCondition,
)
from .scoping import Scope, ScopedQuerySet, user_scope

division_code_validator = RegexValidator(
    r"^\d{6}(\d{3}(\d{3})?)?$", _("A division code has 6, 9 or 12 digits.")
)


class AreaQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: ("pk", "county_id"),
        Scope.TOWNSHIP: ("pk", "township_id"),
        Scope.VILLAGE: "pk",
    }

    def counties(self):
        return self.filter(level=AreaLevel.COUNTY)

    def townships(self):
        return self.filter(level=AreaLevel.TOWNSHIP)

    def villages(self):
        return self.filter(level=AreaLevel.VILLAGE)


class Area(models.Model):
    """A county, township or village. One table, so an area has one id namespace."""

    level = models.CharField(_("level"), max_length=16, choices=AreaLevel.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=AreaKind.choices)
    name = models.CharField(_("name"), max_length=64)
    code = models.CharField(
        _("division code"), max_length=12, blank=True, validators=[division_code_validator]
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    county = models.ForeignKey(
        "self",
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    township = models.ForeignKey(
        "self",
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    category = models.CharField(
        _("village category"), max_length=8, choices=VillageCategory.choices, blank=True
    )
    condition = models.CharField(
        _("village condition"), max_length=8, choices=VillageCondition.choices, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(3), MaxValueValidator(54)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(73), MaxValueValidator(136)],
    )
    # A village without a radius of its own has its county's default
    # (attendance settings, 1000 m unless the county changes it).
    radius_m = models.PositiveIntegerField(
        _("sign-in radius (m)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(10), MaxValueValidator(100_000)],
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["level", "code", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=AreaLevel.values), name="core_area_level_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        level=AreaLevel.COUNTY,
                        parent__isnull=True,
                        county__isnull=True,
                        township__isnull=True,
                    )
                    | Q(
                        level=AreaLevel.TOWNSHIP,
                        parent__isnull=False,
                        county=F("parent"),
                        township__isnull=True,
                    )
                    | Q(
                        level=AreaLevel.VILLAGE,
                        parent__isnull=False,
                        county__isnull=False,
                        township=F("parent"),
                    )
                ),
                name="core_area_tree_shape",
                violation_error_message=_("An area must sit under the right kind of parent."),
            ),
            models.CheckConstraint(
                condition=Q(level=AreaLevel.VILLAGE)
                | Q(
                    category="",
                    condition="",
                    latitude__isnull=True,
                    longitude__isnull=True,
                    radius_m__isnull=True,
                ),
                name="core_area_village_fields_only_on_villages",
            ),
            models.CheckConstraint(
                condition=~Q(level=AreaLevel.VILLAGE) | Q(category__in=VillageCategory.values),
                name="core_area_village_category",
                violation_error_message=_("A village needs a category."),
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=3,
                    latitude__lte=54,
                    longitude__gte=73,
                    longitude__lte=136,
                ),
                name="core_area_point_in_china",
                violation_error_message=_(
                    "A point needs both latitude (3 to 54) and longitude (73 to 136)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(radius_m__isnull=True) | Q(radius_m__gte=10, radius_m__lte=100_000),
                name="core_area_radius_range",
            ),
            models.CheckConstraint(
                condition=Q(condition="") | Q(condition__in=VillageCondition.values),
                name="core_area_condition_valid",
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="core_area_unique_name_in_parent",
                violation_error_message=_("An area with this name already exists there."),
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(level=AreaLevel.COUNTY),
                name="core_area_unique_county_name",
                violation_error_message=_("A county with this name already exists."),
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=~Q(code=""),
                name="core_area_unique_code",
                violation_error_message=_("An area with this division code already exists."),
            ),
        ]
        indexes = [
            models.Index(fields=["county", "level"], name="core_area_county_level"),
            models.Index(fields=["township", "level"], name="core_area_township_level"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_county(self) -> bool:
        return self.level == AreaLevel.COUNTY

    @property
    def is_township(self) -> bool:
        return self.level == AreaLevel.TOWNSHIP

    @property
    def is_village(self) -> bool:
        return self.level == AreaLevel.VILLAGE

    @property
    def county_pk(self) -> int | None:
        return self.pk if self.is_county else self.county_id

    def clean(self) -> None:
        super().clean()
        if self.kind and self.level and self.kind not in KINDS_BY_LEVEL[self.level]:
            raise ValidationError({"kind": _("This kind does not fit the level.")})
        expected_parent = {
            AreaLevel.COUNTY: None,
            AreaLevel.TOWNSHIP: AreaLevel.COUNTY,
            AreaLevel.VILLAGE: AreaLevel.TOWNSHIP,
        }[self.level]
        if expected_parent is None and self.parent_id:
            raise ValidationError({"parent": _("A county has no parent area.")})
        if expected_parent is not None and (
            self.parent is None or self.parent.level != expected_parent
        ):
            raise ValidationError(
                {"parent": _("A township belongs to a county and a village to a township.")}
            )
        self.fill_tree()
        if self.is_village and (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("Give both latitude and longitude, or neither."))

    def fill_tree(self) -> None:
        """Set the denormalised county and township from the parent."""
        if self.level == AreaLevel.COUNTY:
            self.county = None
            self.township = None
        elif self.level == AreaLevel.TOWNSHIP:
            self.county_id = self.parent_id
            self.township = None
        elif self.level == AreaLevel.VILLAGE and self.parent is not None:
            self.county_id = self.parent.county_id
            self.township_id = self.parent_id


class DispatchingUnitQuerySet(ScopedQuerySet):
    """Units are organisations of a county: county and township staff see their
    county's units (township rosters name them); a unit's user sees its own."""

    def visible_to(self, user):
        scope = user_scope(user)
        if scope.kind == Scope.COUNTY:
            return self.filter(county_id=scope.pk)
        if scope.kind == Scope.TOWNSHIP:
            return self.filter(county_id__in=Area.objects.filter(pk=scope.pk).values("county_id"))
        if scope.kind == Scope.UNIT:
            return self.filter(pk=scope.pk)
        return self.none()


class DispatchingUnit(models.Model):
    """派出单位: a unit that sends cadres (a county department, a township, a city unit…)."""

    county = models.ForeignKey(
        Area,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="units",
        limit_choices_to={"level": AreaLevel.COUNTY},
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("unit kind"), max_length=8, choices=UnitKind.choices)
    level = models.CharField(_("unit level"), max_length=16, choices=UnitLevel.choices)
    township = models.OneToOneField(
        Area,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="as_unit",
        limit_choices_to={"level": AreaLevel.TOWNSHIP},
        help_text=_("Set when the unit is a township sending its own cadres."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DispatchingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatching unit")
        verbose_name_plural = _("dispatching units")
        ordering = ["county", "level", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "name"],
                name="core_dispatchingunit_unique_name",
                violation_error_message=_("A unit with this name already exists in the county."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=UnitKind.values), name="core_dispatchingunit_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(level__in=UnitLevel.values), name="core_dispatchingunit_level_valid"
            ),
            models.CheckConstraint(
                condition=Q(township__isnull=True) | Q(level=UnitLevel.TOWNSHIP),
                name="core_dispatchingunit_township_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.county_id and self.county.level != AreaLevel.COUNTY:
            raise ValidationError({"county": _("Choose a county.")})
        if self.township_id and self.township.county_id != self.county_id:
            raise ValidationError({"township": _("The township must be in the unit's county.")})


class KaitaiUserManager(UserManager):
    def create_superuser(self, *args, **kwargs):
        raise ValidationError(
            _(
                "Kaitai has no superuser: create the system, security and audit "
                "administrators with 'manage.py create_admin_user'."
            )
        )


class User(AbstractUser):
    """An account. Role says what a user may do; scope says where."""

    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    scope_area = models.ForeignKey(
        Area,
        verbose_name=_("scope area"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scoped_users",
        db_index=False,  # a partial index below: most accounts (cadres) have none
    )
    scope_unit = models.ForeignKey(
        DispatchingUnit,
        verbose_name=_("scope unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scoped_users",
        db_index=False,  # a partial index below: most accounts (cadres) have none
    )
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)
    # A cadre's account cannot log in until the township office issues a
    # one-time activation code (stored hashed); the cadre sets a password with it.
    activation_code_hash = models.CharField(max_length=128, blank=True, editable=False)
    activation_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KaitaiUserManager()

    REQUIRED_FIELDS = ["role"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]
        permissions = [
            ("manage_users", _("Can manage user accounts")),
            ("assign_roles", _("Can assign roles and scopes")),
            ("unlock_users", _("Can unlock locked-out accounts")),
            ("manage_settings", _("Can change system settings")),
        ]
        indexes = [
            models.Index(
                fields=["scope_area"],
                name="core_user_scope_area",
                condition=Q(scope_area__isnull=False),
            ),
            models.Index(
                fields=["scope_unit"],
                name="core_user_scope_unit",
                condition=Q(scope_unit__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="core_user_role_valid"),
            models.CheckConstraint(
                condition=Q(is_superuser=False),
                name="core_user_no_superuser",
                violation_error_message=_("Kaitai has no superuser accounts."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        role__in=[r.value for r in AREA_SCOPED_ROLES],
                        scope_area__isnull=False,
                        scope_unit__isnull=True,
                    )
                    | Q(
                        role__in=[r.value for r in UNIT_SCOPED_ROLES],
                        scope_area__isnull=True,
                        scope_unit__isnull=False,
                    )
                    | (
                        ~Q(role__in=[r.value for r in (*AREA_SCOPED_ROLES, *UNIT_SCOPED_ROLES)])
                        & Q(scope_area__isnull=True, scope_unit__isnull=True)
                    )
                ),
                name="core_user_scope_matches_role",
                violation_error_message=_("The scope does not match the role."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        allowed = AREA_SCOPED_ROLES.get(self.role)
        if allowed is not None:
            if self.scope_area is None:
                raise ValidationError({"scope_area": _("This role needs an area.")})
            if self.scope_area.level not in allowed:
                raise ValidationError({"scope_area": _("This role cannot have that kind of area.")})
            self.scope_unit = None
        elif self.role in UNIT_SCOPED_ROLES:
            if self.scope_unit is None:
                raise ValidationError({"scope_unit": _("This role needs a dispatching unit.")})
            self.scope_area = None
        else:
            self.scope_area = None
            self.scope_unit = None

    def resolve_scope(self) -> Scope:
        if self.role in AREA_SCOPED_ROLES and self.scope_area_id:
            level = self.scope_area.level
            return Scope(level, self.scope_area_id)
        if self.role in UNIT_SCOPED_ROLES and self.scope_unit_id:
            return Scope(Scope.UNIT, self.scope_unit_id)
        if self.role in SELF_SCOPED_ROLES:
            return Scope(Scope.SELF, self.pk)
        return Scope(Scope.NONE)

    @property
    def county_id_in_scope(self) -> int | None:
        if self.scope_area_id:
            return self.scope_area.county_pk
        if self.scope_unit_id:
            return self.scope_unit.county_id
        return None

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()
        self.must_change_password = False

    def password_expired(self, max_age_days: int) -> bool:
        if self.must_change_password:
            return True
        if not max_age_days:
            return False
        if self.password_changed_at is None:
            return True
        return timezone.now() - self.password_changed_at > timedelta(days=max_age_days)


class RoleAssignment(User):
    """The security administrator's view of users: role and scope only."""

    class Meta:
        proxy = True
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditLog(models.Model):
    """One append-only entry: who did what, when, from where, and whether it worked.

    The database refuses updates and deletions (triggers in migration 0002), so
    the application cannot change history even by mistake.
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=True,
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    success = models.BooleanField(_("success"), default=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-pk"]
        permissions = [("export_auditlog", _("Can export the audit log"))]
        indexes = [
            models.Index(fields=["action", "created_at"], name="core_auditlog_action_time"),
            models.Index(fields=["username", "created_at"], name="core_auditlog_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class UserSession(AbstractBaseSession):
    """A stored session that knows its user, so logout, deactivation and role
    changes can end every session of that user at once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="sessions"
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class ImportJobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Checking")
    PREVIEW = "preview", _("Ready to confirm")
    INVALID = "invalid", _("Has errors")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJobQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "county_id",
        Scope.TOWNSHIP: "township_id",
    }


def import_upload_path(instance: ImportJob, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"
    return f"imports/{instance.uuid}.{suffix}"


class ImportJob(models.Model):
    """An uploaded roster on its way: upload, check and preview, confirm, apply.

    The uploaded file holds personal data: it is deleted once the job is
    applied, cancelled or abandoned (after a day)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("roster"), max_length=16)
    county = models.ForeignKey(
        Area, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    township = models.ForeignKey(
        Area,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the county office imports."),
    )
    created_by = models.ForeignKey(
        User, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ImportJobStatus.choices,
        default=ImportJobStatus.UPLOADED,
    )
    file = models.FileField(_("file"), upload_to=import_upload_path, blank=True)
    original_name = models.CharField(_("file name"), max_length=200)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportJobStatus.values), name="core_importjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(processed_rows__lte=F("total_rows")),
                name="core_importjob_progress_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
