"""Forms of the sign-in pages: help log, village point, acceptance, list filter.
Input shapes only; the rules are in attendance.signins and attendance.helplogs."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from .helplogs import MAX_CONTENT, MAX_PHOTOS
from .signins import PointSystem


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class HelpLogForm(forms.Form):
    date = forms.TypedChoiceField(label=_("Date"), coerce=datetime.date.fromisoformat)
    content = forms.CharField(
        label=_("What I did"),
        max_length=MAX_CONTENT,
        widget=forms.Textarea(attrs={"rows": 8, "class": "form-control fs-5"}),
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to %(n)d photos per day, each at most 5 MB.") % {"n": MAX_PHOTOS},
    )

    def __init__(self, *args, days: list[datetime.date], **kwargs):
        super().__init__(*args, **kwargs)
        labels = [_("Today"), _("Yesterday")]
        self.fields["date"].choices = [
            (d.isoformat(), f"{labels[i] if i < len(labels) else ''} {d.isoformat()}".strip())
            for i, d in enumerate(days)
        ]
        self.fields["date"].widget.attrs["class"] = "form-select form-select-lg"
        self.fields["photos"].widget.attrs["class"] = "form-control form-control-lg"


class VillagePointForm(forms.Form):
    system = forms.ChoiceField(
        label=_("Coordinate system"),
        choices=PointSystem.CHOICES,
        initial=PointSystem.WGS84,
        widget=forms.RadioSelect,
        help_text=_(
            "A point copied from Amap, Tencent Maps or another Chinese map app is GCJ-02; "
            "a point from a GPS device or a phone's location is WGS-84."
        ),
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=10, decimal_places=7, min_value=3, max_value=54
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=10, decimal_places=7, min_value=73, max_value=136
    )
    radius_m = forms.IntegerField(
        label=_("Sign-in radius (m)"), min_value=10, max_value=100_000, required=False
    )


class AcceptForm(forms.Form):
    reason = forms.CharField(label=_("Reason for accepting"), max_length=200)


class SignInFilterForm(forms.Form):
    date = forms.DateField(label=_("Date"), required=False, input_formats=["%Y-%m-%d"])
    problems = forms.BooleanField(label=_("Only those that do not count"), required=False)
