"""Serializers of the leave API: the request's input, and the stored request out."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .choices import Half, LeaveKind, LeaveType
from .leave import MAX_REASON_CHARS, validate_attachment
from .models import LeaveDecision, LeaveRequest


class LeaveRequestCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LeaveKind.choices)
    leave_type = serializers.ChoiceField(
        choices=LeaveType.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Required for leave, empty for official business."),
    )
    start_date = serializers.DateField(input_formats=["%Y-%m-%d"])
    start_half = serializers.ChoiceField(choices=Half.choices)
    end_date = serializers.DateField(input_formats=["%Y-%m-%d"])
    end_half = serializers.ChoiceField(choices=Half.choices)
    reason = serializers.CharField(max_length=MAX_REASON_CHARS)
    attachment = serializers.FileField(
        required=False,
        allow_null=True,
        help_text=_("A PDF or an image (JPEG, PNG or WebP), at most 5 MB (multipart only)."),
    )

    def validate_attachment(self, value):
        if value:
            try:
                validate_attachment(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.message_dict["attachment"]) from exc
        return value


class ReturnSerializer(serializers.Serializer):
    returned_on = serializers.DateField(
        input_formats=["%Y-%m-%d"],
        required=False,
        help_text=_("The day back on post; today when absent."),
    )


class LeaveListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=LeaveRequest._meta.get_field("status").choices, required=False
    )


class LeaveDecisionSerializer(serializers.ModelSerializer):
    approver_name = serializers.CharField(source="approver.__str__", read_only=True)

    class Meta:
        model = LeaveDecision
        fields = ["level", "decision", "reason", "approver_name", "decided_at"]
        read_only_fields = fields


class LeaveRequestSerializer(serializers.ModelSerializer):
    cadre_name = serializers.CharField(source="cadre.name", read_only=True)
    village = serializers.IntegerField(source="membership.team.village_id", read_only=True)
    village_name = serializers.CharField(source="membership.team.village.name", read_only=True)
    working_days = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=False, read_only=True
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()
    attachment_url = serializers.SerializerMethodField()
    decisions = LeaveDecisionSerializer(many=True, read_only=True)

    class Meta:
        model = LeaveRequest
        fields = [
            "id",
            "cadre",
            "cadre_name",
            "village",
            "village_name",
            "kind",
            "leave_type",
            "start_date",
            "start_half",
            "end_date",
            "end_half",
            "working_days",
            "reason",
            "status",
            "status_label",
            "final_level",
            "decided_at",
            "returned_on",
            "overdue",
            "attachment_url",
            "decisions",
            "created_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return bool(getattr(obj, "is_overdue", False))

    def get_attachment_url(self, obj) -> str | None:
        if not obj.attachment:
            return None
        url = reverse("leave_attachment", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url
