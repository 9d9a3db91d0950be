"""The 200-day check as JSON: ``GET /api/v1/attendance/on-post/?year=YYYY&area=<id>``.

Reads the stored checks (``OnPostCheck``, written by the weekly check); it
never computes. Authentication and the audit row of a refused call come from
:class:`attendance.api_signin.AttendanceAPIView` (token or session). Rows go
through ``visible_to(user)``; an ``area`` or ``unit`` outside the user's scope
is the same 404 as a missing one.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from core.models import Area, DispatchingUnit
from core.scoping import access

from . import onpost
from .api_signin import AttendanceAPIView, Page
from .choices import OnPostStatus


class OnPostQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    area = serializers.IntegerField(required=False, min_value=1)
    unit = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=OnPostStatus.choices, required=False)


class OnPostRowSerializer(serializers.Serializer):
    cadre = serializers.IntegerField(source="cadre_id")
    name = serializers.CharField(source="cadre.name")
    unit = serializers.CharField(source="cadre.unit.name")
    township_id = serializers.IntegerField(allow_null=True)
    township = serializers.CharField(source="township.name", allow_null=True, default=None)
    village_id = serializers.IntegerField(allow_null=True)
    village = serializers.CharField(source="village.name", allow_null=True, default=None)
    year = serializers.IntegerField()
    as_of = serializers.DateField()
    required_days = serializers.IntegerField()
    on_post_days = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False)
    remaining_working_days = serializers.IntegerField()
    status = serializers.ChoiceField(choices=OnPostStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    days_short = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False)
    weekly_needed = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="On-post days needed per remaining week of five working days (rounded up); "
        "null when days are still needed and no working day remains.",
    )
    computed_at = serializers.DateTimeField()


class OnPostView(AttendanceAPIView):
    required_permissions = {"GET": ("attendance.view_onpostcheck",)}
    pagination_class = Page

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "year", OpenApiTypes.INT, description="The year; the current year when absent."
            ),
            OpenApiParameter(
                "area",
                OpenApiTypes.INT,
                description="Id of a county, township or village in your scope; "
                "all rows you may see when absent.",
            ),
            OpenApiParameter(
                "unit", OpenApiTypes.INT, description="Id of a dispatching unit in your scope."
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=OnPostStatus.values,
                description="Only this status.",
            ),
        ],
        responses=OnPostRowSerializer(many=True),
        summary="The 200-day check of a year (at risk first)",
    )
    def get(self, request):
        query = OnPostQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        area = None
        if "area" in params:
            area = access(Area.objects.all(), user=request.user, pk=params["area"])
        unit_id = None
        if "unit" in params:
            unit_id = access(DispatchingUnit.objects.all(), user=request.user, pk=params["unit"]).pk
        rows = onpost.on_post_list(
            user=request.user,
            year=params.get("year") or timezone.localdate().year,
            status=params.get("status", ""),
            area=area,
            unit_id=unit_id,
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            OnPostRowSerializer(onpost.decorate(page), many=True).data
        )
