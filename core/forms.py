from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AuditAction


class LoginForm(AuthenticationForm):
    error_messages = {
        # One message for every failure: it never says which field was wrong.
        "invalid_login": _("The username or password is incorrect."),
        "inactive": _("The username or password is incorrect."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"class": "form-control", "autofocus": True})
        self.fields["password"].widget.attrs.update({"class": "form-control"})


class AuditFilterForm(forms.Form):
    username = forms.CharField(label=_("Username"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", "---")] + AuditAction.choices
    )
    success = forms.NullBooleanField(
        label=_("Result"),
        required=False,
        widget=forms.Select(
            choices=[("unknown", "---"), ("true", _("Success")), ("false", _("Failure"))]
        ),
    )
    ip_address = forms.GenericIPAddressField(label=_("IP address"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = dict(self.cleaned_data)
        tz = timezone.get_current_timezone()
        if data.get("date_from"):
            data["date_from"] = timezone.make_aware(datetime.combine(data["date_from"], time()), tz)
        if data.get("date_to"):
            data["date_to"] = timezone.make_aware(
                datetime.combine(data["date_to"] + timedelta(days=1), time()), tz
            )
        return data
