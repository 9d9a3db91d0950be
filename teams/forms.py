"""Forms of the teams pages. They check input; the rules live in services."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import month_bounds, visitable_households
from .services_visits import validate_photos


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class HouseholdChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.village.name} · {obj.head_name}（{obj.head_id_number_masked}）"


class VisitForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    household = HouseholdChoiceField(
        label=_("Household"),
        queryset=None,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    content = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 5 images (JPEG, PNG or WebP), 5 MB each."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # only households the user may visit: in scope, currently paired (a
        # cadre: only their own)
        self.fields["household"].queryset = visitable_households(user=user)
        self.fields["photos"].widget.attrs["class"] = "form-control"
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A visit cannot be in the future."))
        return day

    def clean_photos(self):
        """Images by their content, at most 5 MB each and 5 in all (the service
        checks again; here the user gets the message on the field)."""
        photos = self.cleaned_data.get("photos") or []
        try:
            validate_photos(photos)
        except forms.ValidationError as exc:
            raise forms.ValidationError(exc.message_dict["photos"]) from exc
        return photos


class MonthForm(forms.Form):
    """?month=YYYY-MM; this month (Asia/Shanghai) when absent or wrong."""

    month = forms.DateField(
        label=_("Month"),
        required=False,
        input_formats=["%Y-%m"],
        widget=forms.DateInput(
            format="%Y-%m", attrs={"type": "month", "class": "form-control form-control-sm"}
        ),
    )
    under = forms.BooleanField(
        label=_("Fewer than 4 visits only"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def month_value(self) -> datetime.date:
        if self.is_valid() and self.cleaned_data.get("month"):
            return month_bounds(self.cleaned_data["month"])[0]
        return timezone.localdate().replace(day=1)


class DayForm(forms.Form):
    """?date=YYYY-MM-DD; today (Asia/Shanghai) when absent."""

    date = forms.DateField(
        label=_("As of"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(
            format="%Y-%m-%d", attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )

    def day_value(self) -> datetime.date:
        if self.is_valid() and self.cleaned_data.get("date"):
            return self.cleaned_data["date"]
        return timezone.localdate()
