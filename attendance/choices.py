"""Choices of the attendance app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Half(models.TextChoices):
    MORNING = "am", _("Morning")
    AFTERNOON = "pm", _("Afternoon")


class SignInHalf(models.TextChoices):
    """The half a sign-in falls in by the server's clock; outside both windows: none."""

    MORNING = "am", _("Morning")
    AFTERNOON = "pm", _("Afternoon")
    NONE = "", _("Outside hours")


class DaySource(models.TextChoices):
    PACKAGE = "package", _("Official calendar")
    FALLBACK = "fallback", _("Monday to Friday (not confirmed)")
    MANUAL = "manual", _("Corrected by county staff")


class LeaveKind(models.TextChoices):
    LEAVE = "leave", _("Leave")
    BUSINESS = "business", _("Official business away")


class LeaveType(models.TextChoices):
    PERSONAL = "事假", "事假"
    SICK = "病假", "病假"
    ANNUAL = "年休假", "年休假"
    MARRIAGE_FUNERAL = "婚丧假", "婚丧假"
    MATERNITY = "产假/陪产假", "产假/陪产假"
    OTHER = "其他", "其他"


class LeaveStatus(models.TextChoices):
    PENDING_VILLAGE = "pending_village", _("Waiting for the village")
    PENDING_TOWNSHIP = "pending_township", _("Waiting for the township")
    PENDING_COUNTY = "pending_county", _("Waiting for the county")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


PENDING_STATUSES = (
    LeaveStatus.PENDING_VILLAGE,
    LeaveStatus.PENDING_TOWNSHIP,
    LeaveStatus.PENDING_COUNTY,
)


class ApprovalLevel(models.TextChoices):
    VILLAGE = "village", _("Village")
    TOWNSHIP = "township", _("Township")
    COUNTY = "county", _("County")


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")


class BatchStatus(models.TextChoices):
    DRAFT = "draft", _("Computed")
    SUBMITTED = "submitted", _("Submitted by the township")
    FILED = "filed", _("Filed by the county")


class OnPostStatus(models.TextChoices):
    MET = "met", _("Met")
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
