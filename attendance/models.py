"""On post: the working calendar, county settings, sign-ins, help logs, leave,
monthly audits and the yearly 200-day check."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.choices import AreaLevel
from core.models import Area
from core.scoping import Scope, ScopedQuerySet
from teams.models import Cadre, Membership

from .choices import (
    PENDING_STATUSES,
    ApprovalLevel,
    BatchStatus,
    DaySource,
    Decision,
    Half,
    LeaveKind,
    LeaveStatus,
    LeaveType,
    OnPostStatus,
    SignInHalf,
)

COUNTY_ONLY = {"level": AreaLevel.COUNTY}


class CountyScopedQuerySet(ScopedQuerySet):
    scope_paths = {Scope.COUNTY: "county_id"}


class AttendanceSettings(models.Model):
    """The county's numbers of the attendance rules (the italics of the rules).
    A change applies to audits run after it."""

    county = models.OneToOneField(
        Area,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="attendance_settings",
        limit_choices_to=COUNTY_ONLY,
    )
    morning_start = models.TimeField(_("morning sign-in from"), default=datetime.time(6, 0))
    morning_end = models.TimeField(_("morning sign-in until"), default=datetime.time(12, 0))
    afternoon_start = models.TimeField(_("afternoon sign-in from"), default=datetime.time(12, 0))
    day_end = models.TimeField(_("sign-in until"), default=datetime.time(22, 0))
    default_radius_m = models.PositiveIntegerField(
        _("default sign-in radius (m)"),
        default=1000,
        validators=[MinValueValidator(10), MaxValueValidator(100_000)],
    )
    township_final_days = models.DecimalField(
        _("leave final at the township up to (working days)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("2"),
        validators=[MinValueValidator(0)],
    )
    return_grace_days = models.PositiveSmallIntegerField(_("days to report the return"), default=3)
    audit_day = models.PositiveSmallIntegerField(
        _("monthly audit on day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
    )
    audit_hour = models.PositiveSmallIntegerField(
        _("monthly audit at hour"), default=2, validators=[MaxValueValidator(23)]
    )
    check_weekday = models.PositiveSmallIntegerField(
        _("200-day check on weekday (0 = Monday)"), default=0, validators=[MaxValueValidator(6)]
    )
    check_hour = models.PositiveSmallIntegerField(
        _("200-day check at hour"), default=3, validators=[MaxValueValidator(23)]
    )
    required_days = models.PositiveSmallIntegerField(
        _("required on-post days a year"), default=200, validators=[MaxValueValidator(366)]
    )
    daily_rate = models.DecimalField(
        _("living subsidy per on-post day (yuan)"),
        max_digits=8,
        decimal_places=2,
        default=Decimal("60.00"),
        validators=[MinValueValidator(0)],
    )
    location_retention_days = models.PositiveSmallIntegerField(
        _("days raw sign-in coordinates are kept"), default=180
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CountyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attendance settings")
        verbose_name_plural = _("attendance settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(morning_start__lt=F("morning_end"))
                & Q(morning_end__lte=F("afternoon_start"))
                & Q(afternoon_start__lt=F("day_end")),
                name="attendance_attendancesettings_windows_in_order",
                violation_error_message=_(
                    "The morning must start before the afternoon, and the afternoon before the end."
                ),
            ),
            models.CheckConstraint(
                condition=Q(audit_day__gte=1, audit_day__lte=28)
                & Q(audit_hour__lte=23)
                & Q(check_weekday__lte=6)
                & Q(check_hour__lte=23),
                name="attendance_attendancesettings_schedule_range",
            ),
            models.CheckConstraint(
                condition=Q(daily_rate__gte=0) & Q(township_final_days__gte=0),
                name="attendance_attendancesettings_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return str(self.county)


class CalendarYear(models.Model):
    """Where a county's calendar of a year came from, and whether it was confirmed."""

    county = models.ForeignKey(
        Area,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=COUNTY_ONLY,
    )
    year = models.PositiveSmallIntegerField(_("year"))
    source = models.CharField(_("source"), max_length=16, choices=DaySource.choices)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = CountyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["county", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["county", "year"], name="attendance_calendaryear_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} {self.year}"

    @property
    def needs_confirmation(self) -> bool:
        return self.source == DaySource.FALLBACK and self.confirmed_at is None


class WorkDay(models.Model):
    """One day of a county's calendar: working or rest (make-up working days included)."""

    county = models.ForeignKey(
        Area,
        verbose_name=_("county"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to=COUNTY_ONLY,
    )
    date = models.DateField(_("date"))
    is_working = models.BooleanField(_("working day"))
    source = models.CharField(_("source"), max_length=16, choices=DaySource.choices)
    note = models.CharField(_("note"), max_length=64, blank=True)

    objects = CountyScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["county", "date"]
        constraints = [
            models.UniqueConstraint(fields=["county", "date"], name="attendance_workday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {'班' if self.is_working else '休'}"


class PersonalQuerySet(ScopedQuerySet):
    """Rows that belong to a cadre: scoped like the cadre's memberships (help
    logs narrow the area's view to the days of the station: helplogs.py)."""

    scope_paths = {
        Scope.COUNTY: "cadre__county_id",
        Scope.TOWNSHIP: "cadre__memberships__team__village__township_id",
        Scope.VILLAGE: "cadre__memberships__team__village_id",
        Scope.UNIT: "cadre__unit_id",
        Scope.SELF: "cadre__user_id",
    }


class SignInQuerySet(PersonalQuerySet):
    """An area sees the sign-ins made in its villages, not what a cadre it
    once had signs in elsewhere later."""

    scope_paths = {
        **PersonalQuerySet.scope_paths,
        Scope.COUNTY: "village__county_id",
        Scope.TOWNSHIP: "village__township_id",
        Scope.VILLAGE: "village_id",
    }


class SignIn(models.Model):
    """A sign-in event (not a track). The server's clock decides the half-day;
    the database decides the first valid sign-in of each half."""

    client_id = models.UUIDField(_("client id"), unique=True)
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="signins"
    )
    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signins",
    )
    village = models.ForeignKey(
        Area,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("signed at (server)"))
    date = models.DateField(_("date"))
    half = models.CharField(_("half-day"), max_length=2, choices=SignInHalf.choices, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    distance_m = models.PositiveIntegerField(_("distance (m)"), null=True, blank=True)
    taken_at = models.DateTimeField(_("device time"), null=True, blank=True)
    in_area = models.BooleanField(_("in area"), default=False)
    accepted = models.BooleanField(_("accepted by the township"), default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accept_reason = models.CharField(_("reason for accepting"), max_length=200, blank=True)
    counts = models.BooleanField(
        _("counts"), default=False, help_text=_("The first valid sign-in of its half-day.")
    )
    photo = models.FileField(_("photo"), upload_to="signins/%Y/%m/", blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SignInQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-in")
        verbose_name_plural = _("sign-ins")
        ordering = ["-signed_at", "-pk"]
        permissions = [("accept_signin", _("Can accept an out-of-area sign-in"))]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "date", "half"],
                condition=Q(counts=True),
                name="attendance_signin_first_valid_per_half",
            ),
            models.CheckConstraint(
                condition=Q(counts=False) | (~Q(half="") & (Q(in_area=True) | Q(accepted=True))),
                name="attendance_signin_counts_only_when_valid",
            ),
            models.CheckConstraint(
                condition=Q(accepted=False) | ~Q(accept_reason=""),
                name="attendance_signin_accept_needs_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["date", "cadre"], name="attendance_signin_date_cadre"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.date} {self.half or '-'}"


class HelpLog(models.Model):
    """帮扶日志: one a day per cadre."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="help_logs"
    )
    date = models.DateField(_("date"))
    content = models.TextField(_("content"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PersonalQuerySet.as_manager()

    class Meta:
        verbose_name = _("help log")
        verbose_name_plural = _("help logs")
        ordering = ["-date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["cadre", "date"], name="attendance_helplog_one_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.date}"


class HelpLogPhoto(models.Model):
    log = models.ForeignKey(
        HelpLog, verbose_name=_("help log"), on_delete=models.CASCADE, related_name="photos"
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image = models.FileField(_("photo"), upload_to="helplogs/%Y/%m/")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("help log photo")
        verbose_name_plural = _("help log photos")

    def __str__(self) -> str:
        return self.image.name


class LeaveRequestQuerySet(PersonalQuerySet):
    """An area sees the requests made on a membership in it (a cadre's earlier
    villages do not count)."""

    scope_paths = {
        **PersonalQuerySet.scope_paths,
        Scope.COUNTY: "membership__team__village__county_id",
        Scope.TOWNSHIP: "membership__team__village__township_id",
        Scope.VILLAGE: "membership__team__village_id",
    }

    def pending(self):
        return self.filter(status__in=PENDING_STATUSES)


class LeaveRequest(models.Model):
    """Leave (请假) or official business away (因公外出), in half-days.

    Approval goes village → township → county; a request of up to the county's
    ``township_final_days`` working days is final after the township, and
    official business is approved by the township."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="leave_requests"
    )
    membership = models.ForeignKey(
        Membership,
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        related_name="leave_requests",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=LeaveKind.choices, default=LeaveKind.LEAVE
    )
    leave_type = models.CharField(
        _("leave type"), max_length=8, choices=LeaveType.choices, blank=True
    )
    start_date = models.DateField(_("from"))
    start_half = models.CharField(
        _("from half"), max_length=2, choices=Half.choices, default=Half.MORNING
    )
    end_date = models.DateField(_("to"))
    end_half = models.CharField(
        _("to half"), max_length=2, choices=Half.choices, default=Half.AFTERNOON
    )
    working_days = models.DecimalField(_("working days"), max_digits=5, decimal_places=1)
    reason = models.TextField(_("reason"))
    attachment = models.FileField(_("attachment"), upload_to="leave/%Y/%m/", blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=LeaveStatus.choices, default=LeaveStatus.PENDING_VILLAGE
    )
    final_level = models.CharField(
        _("final level"),
        max_length=16,
        choices=ApprovalLevel.choices,
        help_text=_("The level whose approval makes the request final."),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    returned_on = models.DateField(_("return reported on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = LeaveRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("leave request")
        verbose_name_plural = _("leave requests")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("approve_village", _("Can approve leave at the village level")),
            ("approve_township", _("Can approve leave at the township level")),
            ("approve_county", _("Can approve leave at the county level")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date"))
                | Q(end_date=F("start_date"), start_half=Half.MORNING)
                | Q(end_date=F("start_date"), start_half=Half.AFTERNOON, end_half=Half.AFTERNOON),
                name="attendance_leaverequest_end_after_start",
                violation_error_message=_("The end cannot be before the start."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=LeaveStatus.values),
                name="attendance_leaverequest_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind=LeaveKind.BUSINESS, leave_type="")
                | Q(kind=LeaveKind.LEAVE, leave_type__in=LeaveType.values),
                name="attendance_leaverequest_type_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(working_days__gte=0), name="attendance_leaverequest_days_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(returned_on__isnull=True) | Q(status=LeaveStatus.APPROVED),
                name="attendance_leaverequest_return_only_when_approved",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "start_date"], name="attendance_leave_status_start"),
            models.Index(fields=["cadre", "start_date"], name="attendance_leave_cadre_start"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.start_date}–{self.end_date}"


class LeaveDecision(models.Model):
    """One approver's decision; one per level, so nothing is approved twice."""

    request = models.ForeignKey(
        LeaveRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="decisions"
    )
    level = models.CharField(_("level"), max_length=16, choices=ApprovalLevel.choices)
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("leave decision")
        verbose_name_plural = _("leave decisions")
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "level"], name="attendance_leavedecision_one_per_level"
            ),
            models.CheckConstraint(
                condition=Q(decision=Decision.APPROVE) | ~Q(reason=""),
                name="attendance_leavedecision_reject_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} {self.level} {self.decision}"


class AttendanceBatchQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "township__county_id",
        Scope.TOWNSHIP: "township_id",
    }


class AttendanceBatch(models.Model):
    """A township's monthly audit: computed, submitted by the township, filed by the county."""

    township = models.ForeignKey(
        Area,
        verbose_name=_("township"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": AreaLevel.TOWNSHIP},
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.DRAFT
    )
    computed_at = models.DateTimeField(_("computed at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)

    objects = AttendanceBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly audit")
        verbose_name_plural = _("monthly audits")
        ordering = ["-month", "township"]
        permissions = [
            ("run_audit", _("Can run the monthly audit")),
            ("submit_audit", _("Can submit a township's monthly audit")),
            ("file_audit", _("Can file and reopen monthly audits")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "month"], name="attendance_attendancebatch_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=BatchStatus.values),
                name="attendance_attendancebatch_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.month:%Y-%m}"


class MonthlyAttendanceQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "batch__township__county_id",
        Scope.TOWNSHIP: "batch__township_id",
        Scope.VILLAGE: "village_id",
        Scope.UNIT: "cadre__unit_id",
        Scope.SELF: "cadre__user_id",
    }


class MonthlyAttendance(models.Model):
    """One cadre's figures for one month in one township (the audit's result, and
    the monthly rollup the 200-day check adds up)."""

    batch = models.ForeignKey(
        AttendanceBatch,
        verbose_name=_("monthly audit"),
        on_delete=models.CASCADE,
        related_name="rows",
    )
    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+"
    )
    village = models.ForeignKey(
        Area, verbose_name=_("village"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    working_days = models.DecimalField(_("working days"), max_digits=4, decimal_places=1)
    on_post_days = models.DecimalField(_("on-post days"), max_digits=4, decimal_places=1)
    leave_days = models.DecimalField(_("leave days"), max_digits=4, decimal_places=1)
    absent_days = models.DecimalField(_("absent days"), max_digits=4, decimal_places=1)
    out_of_area = models.PositiveIntegerField(_("out-of-area sign-ins"))
    outside_hours = models.PositiveIntegerField(_("sign-ins outside hours"))
    rest_day_signins = models.PositiveIntegerField(_("rest days with sign-ins"))
    days_without_log = models.PositiveIntegerField(_("days without a help log"))
    subsidy = models.DecimalField(_("living subsidy (yuan)"), max_digits=10, decimal_places=2)

    objects = MonthlyAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly attendance")
        verbose_name_plural = _("monthly attendance")
        ordering = ["batch", "cadre"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "cadre", "village"], name="attendance_monthlyattendance_unique"
            ),
            models.CheckConstraint(
                condition=Q(working_days=F("on_post_days") + F("leave_days") + F("absent_days")),
                name="attendance_monthlyattendance_halves_add_up",
            ),
        ]
        indexes = [models.Index(fields=["cadre", "month"], name="attendance_monthly_cadre_month")]

    def __str__(self) -> str:
        return f"{self.cadre} {self.month:%Y-%m}"


class OnPostCheckQuerySet(ScopedQuerySet):
    scope_paths = {
        Scope.COUNTY: "cadre__county_id",
        Scope.TOWNSHIP: "township_id",
        Scope.VILLAGE: "village_id",
        Scope.UNIT: "cadre__unit_id",
        Scope.SELF: "cadre__user_id",
    }


class OnPostCheck(models.Model):
    """The 200-day rule for one cadre and year, as of a day."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("cadre"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    as_of = models.DateField(_("as of"))
    township = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    village = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    required_days = models.PositiveSmallIntegerField(_("required days"))
    on_post_days = models.DecimalField(_("on-post days"), max_digits=5, decimal_places=1)
    remaining_working_days = models.PositiveSmallIntegerField(_("remaining working days"))
    status = models.CharField(_("status"), max_length=16, choices=OnPostStatus.choices)
    computed_at = models.DateTimeField(_("computed at"))

    objects = OnPostCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("200-day check")
        verbose_name_plural = _("200-day checks")
        ordering = ["year", "cadre"]
        constraints = [
            models.UniqueConstraint(fields=["cadre", "year"], name="attendance_onpostcheck_unique"),
            models.CheckConstraint(
                condition=Q(status__in=OnPostStatus.values),
                name="attendance_onpostcheck_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadre} {self.year} {self.status}"
