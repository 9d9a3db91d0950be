"""Forms of the calendar, settings and monthly audit pages. They check input;
the rules live in the services (calendar.py, audit.py, batches.py)."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from core.choices import AreaLevel
from core.models import Area

from .audit import parse_month, previous_month
from .calendar import SETTINGS_FIELDS
from .models import AttendanceSettings

MONTH_INPUT = forms.TextInput(
    attrs={"type": "month", "class": "form-control form-control-sm", "pattern": r"\d{4}-\d{2}"}
)


class MonthField(forms.Field):
    """The month as YYYY-MM, cleaned to its first day."""

    default_error_messages = {"invalid": _("Give the month as YYYY-MM.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Month"))
        kwargs.setdefault("widget", MONTH_INPUT)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, datetime.date):
            return value.strftime("%Y-%m")
        return value

    def to_python(self, value):
        value = str(value or "").strip()
        if not value:
            return None
        if len(value) > 10:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            month = parse_month(value)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if not 2000 <= month.year <= 2100:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


def month_from(data, default: datetime.date | None = None) -> tuple[datetime.date, list]:
    """The ?month= of a request (the month before this one when absent) and the
    errors of a bad value (then the default is used)."""
    field = MonthField(required=False)
    try:
        month = field.clean(data.get("month", ""))
    except forms.ValidationError as exc:
        return default or previous_month(), exc.messages
    return month or default or previous_month(), []


class TownshipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


STATUS_CHOICES = [
    ("", _("All")),
    ("absent", _("With absences")),
    ("leave", _("With leave")),
    ("out_of_area", _("Out of area")),
    ("no_log", _("Days without a log")),
    ("rest_day", _("Rest-day sign-ins")),
]


class ResultsFilterForm(forms.Form):
    """Filters of a township's monthly results."""

    village = forms.ModelChoiceField(
        label=_("Village"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    status = forms.ChoiceField(
        label=_("Show"),
        choices=STATUS_CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages


class AuditRunForm(forms.Form):
    month = MonthField()
    township = TownshipChoiceField(
        label=_("Township"),
        queryset=Area.objects.none(),
        required=False,
        empty_label=_("All townships"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, county_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = Area.objects.filter(
            level=AreaLevel.TOWNSHIP, county_id=county_id
        ).order_by("code", "pk")
        if not self.is_bound:
            self.initial.setdefault("month", previous_month())


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for reopening"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


class CalendarDayForm(forms.Form):
    day = forms.DateField(label=_("Date"), input_formats=["%Y-%m-%d"])
    is_working = forms.TypedChoiceField(
        label=_("Working day"),
        choices=[("1", _("Working day")), ("0", _("Rest day"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("Note"), max_length=64, required=False)


class CalendarConfirmForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100)


TIME_WIDGET = forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M")
NUMBER_WIDGET = forms.NumberInput(attrs={"class": "form-control"})


TIME_FIELDS = ("morning_start", "morning_end", "afternoon_start", "day_end")


class SettingsForm(forms.ModelForm):
    """The county's numbers of the attendance rules."""

    class Meta:
        model = AttendanceSettings
        fields = list(SETTINGS_FIELDS)
        widgets = {
            **dict.fromkeys(TIME_FIELDS, TIME_WIDGET),
            **{name: NUMBER_WIDGET for name in SETTINGS_FIELDS if name not in TIME_FIELDS},
        }

    def __init__(self, *args, editable: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not editable:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        data = super().clean()
        morning, morning_end, afternoon, end = (data.get(name) for name in TIME_FIELDS)
        if (
            morning
            and morning_end
            and afternoon
            and end
            and not (morning < morning_end <= afternoon < end)
        ):
            raise forms.ValidationError(
                _("The morning must start before the afternoon, and the afternoon before the end.")
            )
        return data

    def _post_clean(self):
        # The service validates the whole row (constraints included) when it saves.
        pass
