"""The monthly audit's figures as JSON: ``GET /api/v1/attendance/monthly/``.

Session or token authentication; the rows are those of the month visible to
the user (``visible_to``), within the area given (``access``: an area outside
the scope is the same 404 as a missing one). ID numbers are masked unless the
user may reveal them; then they are full, and the reveal is an audit row.
Every call is an audit row (an export, or a reveal).
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core import audit
from core.api_auth import AuditedRefusals, ExpiringTokenAuthentication
from core.choices import AreaLevel, AuditAction
from core.crypto import decrypt
from core.models import Area
from core.scoping import access

from .audit import FIGURES
from .models import MonthlyAttendance

AUDIT_REVEAL = getattr(AuditAction, "REVEAL", "reveal")
DAY_FIELDS = ("working_days", "on_post_days", "leave_days", "absent_days")


class MonthlyQuerySerializer(serializers.Serializer):
    """?month=YYYY-MM (required), ?area=<id> (optional: the whole scope)."""

    month = serializers.DateField(input_formats=["%Y-%m"])
    area = serializers.IntegerField(required=False, min_value=1)


def _day_field():
    return serializers.DecimalField(max_digits=4, decimal_places=1, coerce_to_string=False)


class MonthlyAttendanceSerializer(serializers.Serializer):
    cadre = serializers.IntegerField(source="cadre_id")
    id_number = serializers.CharField()
    working_days = _day_field()
    on_post_days = _day_field()
    leave_days = _day_field()
    absent_days = _day_field()
    out_of_area = serializers.IntegerField()
    outside_hours = serializers.IntegerField()
    rest_day_signins = serializers.IntegerField()
    days_without_log = serializers.IntegerField()


class CanViewMonthly(BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm("attendance.view_monthlyattendance")


AREA_FILTERS = {
    AreaLevel.COUNTY: "batch__township__county_id",
    AreaLevel.TOWNSHIP: "batch__township_id",
    AreaLevel.VILLAGE: "village_id",
}


class MonthlyAttendanceView(AuditedRefusals, APIView):
    # The sign-in API's token: refused once expired or when the password has.
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, CanViewMonthly]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "month", OpenApiTypes.STR, required=True, description="The month, YYYY-MM."
            ),
            OpenApiParameter(
                "area",
                OpenApiTypes.INT,
                description="Id of a county, township or village in your scope; "
                "all of your scope when absent.",
            ),
        ],
        responses=MonthlyAttendanceSerializer(many=True),
        summary="Monthly attendance figures per cadre",
    )
    def get(self, request):
        query = MonthlyQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        month = query.validated_data["month"]
        rows = MonthlyAttendance.objects.visible_to(request.user).filter(month=month)
        area_id = query.validated_data.get("area")
        if area_id is not None:
            area = access(Area.objects.all(), user=request.user, pk=area_id)
            rows = rows.filter(**{AREA_FILTERS[area.level]: area.pk})
        reveal = request.user.has_perm("teams.reveal_personal")
        number = "cadre__id_number_enc" if reveal else "cadre__id_number_masked"
        values = list(
            rows.order_by(
                "batch__township_id", "village_id", "cadre__name_pinyin", "cadre_id"
            ).values("cadre_id", *FIGURES, number)
        )
        for row in values:
            value = row.pop(number)
            row["id_number"] = decrypt(value) if reveal else value
        with transaction.atomic():
            audit.record(
                action=AUDIT_REVEAL if reveal else AuditAction.EXPORT,
                request=request,
                detail={
                    "what": "attendance_monthly_api",
                    "filters": {"month": month.strftime("%Y-%m"), "area": area_id},
                    "rows": len(values),
                    "columns": ["cadre", "id_number", *FIGURES],
                    "revealed": reveal,
                },
            )
        return Response(MonthlyAttendanceSerializer(values, many=True).data)
