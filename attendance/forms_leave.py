"""Forms of leave requests. They check the input's shape; the rules (membership,
working days, overlap, approval) live in attendance.leave."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Half, LeaveKind, LeaveType
from .leave import MAX_DECISION_REASON_CHARS, MAX_REASON_CHARS, validate_attachment

DATE_WIDGET = {"type": "date", "class": "form-control"}


class LeaveRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=LeaveKind.choices,
        initial=LeaveKind.LEAVE,
        widget=forms.RadioSelect,
    )
    leave_type = forms.ChoiceField(
        label=_("Leave type"),
        choices=[("", "---------"), *LeaveType.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    start_date = forms.DateField(label=_("From"), widget=forms.DateInput(attrs=DATE_WIDGET))
    start_half = forms.ChoiceField(
        label=_("From half"),
        choices=Half.choices,
        initial=Half.MORNING,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    end_date = forms.DateField(label=_("To"), widget=forms.DateInput(attrs=DATE_WIDGET))
    end_half = forms.ChoiceField(
        label=_("To half"),
        choices=Half.choices,
        initial=Half.AFTERNOON,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
    attachment = forms.FileField(
        label=_("Attachment"),
        required=False,
        help_text=_("Optional: a PDF or an image (JPEG, PNG or WebP), at most 5 MB."),
        widget=forms.ClearableFileInput(
            attrs={
                "class": "form-control",
                "accept": "application/pdf,image/jpeg,image/png,image/webp",
            }
        ),
    )

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            try:
                validate_attachment(upload)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict["attachment"]) from exc
        return upload

    def clean(self):
        data = super().clean()
        if data.get("kind") == LeaveKind.BUSINESS:
            data["leave_type"] = ""
        elif data.get("kind") == LeaveKind.LEAVE and not data.get("leave_type"):
            self.add_error("leave_type", _("Choose a leave type."))
        return data


class ReturnForm(forms.Form):
    returned_on = forms.DateField(
        label=_("Back on post on"), widget=forms.DateInput(attrs=DATE_WIDGET)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["returned_on"].initial = timezone.localdate()


class RejectForm(forms.Form):
    """The reason asked for on the admin's intermediate page."""

    reason = forms.CharField(
        label=_("Reason for rejecting"),
        max_length=MAX_DECISION_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give a reason for rejecting."))
        return reason
