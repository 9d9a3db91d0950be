"""Serializers of the sign-in, help log and token API: shapes only, the rules
are in the services (attendance.signins, attendance.helplogs).

Validation messages are DRF's own (Chinese under zh-hans) or the services'
gettext messages. Raw coordinates are accepted but never returned: a sign-in
is answered with its distance to the village point and whether it counts.
"""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .choices import SignInHalf
from .helplogs import MAX_CONTENT
from .signins import MAX_ACCURACY_M


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField()
    username = serializers.CharField()
    role = serializers.CharField()


class SignInCreateSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(
        help_text="A UUID the client makes once per attempt; send the same one on a retry."
    )
    latitude = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS-84")
    longitude = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS-84")
    accuracy = serializers.FloatField(
        min_value=0,
        max_value=MAX_ACCURACY_M,
        required=False,
        allow_null=True,
        help_text="Metres, as the device reports it.",
    )
    taken_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The device's time (ISO 8601). Kept, never used for the half-day.",
    )
    photo = serializers.FileField(
        required=False,
        allow_null=True,
        allow_empty_file=False,
        help_text="JPEG, PNG or WebP, at most 5 MB (multipart).",
    )


class SignInSerializer(serializers.Serializer):
    """A stored sign-in. ``outcome`` (attendance.signins.Outcome) must be set on
    each instance by the view."""

    id = serializers.IntegerField()
    client_id = serializers.UUIDField()
    cadre = serializers.IntegerField(source="cadre_id")
    cadre_name = serializers.CharField(source="cadre.name")
    village = serializers.IntegerField(source="village_id", allow_null=True)
    village_name = serializers.CharField(source="village.name", allow_null=True, default=None)
    signed_at = serializers.DateTimeField(help_text="The server's time.")
    date = serializers.DateField()
    half = serializers.ChoiceField(
        choices=SignInHalf.choices, help_text='"am", "pm", or "" when outside hours.'
    )
    distance_m = serializers.IntegerField(
        allow_null=True, help_text="Null when the village has no point."
    )
    accuracy = serializers.FloatField(source="accuracy_m", allow_null=True)
    taken_at = serializers.DateTimeField(allow_null=True)
    in_area = serializers.BooleanField()
    accepted = serializers.BooleanField(help_text="Accepted by the township office.")
    counts = serializers.BooleanField(help_text="The first valid sign-in of its half-day.")
    repeat = serializers.BooleanField(
        source="outcome.repeat",
        help_text="In hours and in area (or accepted), but the half already has one that counts.",
    )
    state = serializers.ChoiceField(
        source="outcome.state",
        choices=["counts", "repeat", "outside_hours", "out_of_area", "no_point"],
    )
    reason = serializers.CharField(
        source="outcome.reason", help_text='Why it does not count (Chinese), or "".'
    )
    photo = serializers.SerializerMethodField()

    def get_photo(self, obj) -> str | None:
        if not obj.photo:
            return None
        url = reverse("signin_photo", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class SignInQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False, input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD; today when absent."
    )
    cadre = serializers.IntegerField(required=False, min_value=1)


class HelpLogCreateSerializer(serializers.Serializer):
    date = serializers.DateField(
        input_formats=["%Y-%m-%d"], help_text="Today or yesterday (local dates)."
    )
    content = serializers.CharField(max_length=MAX_CONTENT)
    photos = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        help_text="Up to 9 photos per log (multipart, the field repeated).",
    )


class HelpLogPhotoSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="uuid")
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        url = reverse("helplog_photo", kwargs={"uuid": obj.uuid})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class HelpLogSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    cadre = serializers.IntegerField(source="cadre_id")
    cadre_name = serializers.CharField(source="cadre.name")
    date = serializers.DateField()
    content = serializers.CharField()
    photos = HelpLogPhotoSerializer(many=True, source="photos.all")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class HelpLogQuerySerializer(serializers.Serializer):
    date = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
    month = serializers.CharField(
        required=False, help_text="YYYY-MM; the current month when neither is given."
    )

    def validate_month(self, value: str) -> datetime.date:
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007
        except ValueError as exc:
            raise serializers.ValidationError(_("Give the month as YYYY-MM.")) from exc
