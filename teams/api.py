"""The teams JSON API: team structure and overview figures of an area.

Session login is enough for now. These views are exempt from Django's
LoginRequiredMiddleware (see api_urls) so that DRF answers 403 in JSON, not a
redirect to the login page; DRF's IsAuthenticated and the permission below
keep them closed. The area comes from ``access()``: outside the user's scope
it is the same 404 as a missing one.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_auth import AuditedRefusals
from core.models import Area
from core.scoping import access

from . import selectors
from .serializers import DayQuerySerializer, OverviewSerializer, TeamStructureSerializer

AREA_PARAMETER = OpenApiParameter(
    "area",
    OpenApiTypes.INT,
    required=True,
    description="Id of a county, township or village in your scope.",
)


class HasRequiredPermissions(BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perms(getattr(view, "required_permissions", ()))


class ScopedAPIView(AuditedRefusals, APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated, HasRequiredPermissions]
    required_permissions: tuple[str, ...] = ()

    def area(self, request) -> Area:
        return access(Area.objects.all(), user=request.user, pk=request.query_params.get("area"))


class TeamStructureView(ScopedAPIView):
    required_permissions = ("teams.view_team",)

    @extend_schema(
        parameters=[
            AREA_PARAMETER,
            OpenApiParameter(
                "date", OpenApiTypes.DATE, description="YYYY-MM-DD; today when absent."
            ),
        ],
        responses=TeamStructureSerializer,
        summary="Team structure of an area on a date",
    )
    def get(self, request):
        area = self.area(request)
        query = DayQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date") or timezone.localdate()
        figures = selectors.team_structure_for_area(user=request.user, area=area, day=day)
        return Response(TeamStructureSerializer(figures).data)


class OverviewView(ScopedAPIView):
    required_permissions = ("teams.view_team", "teams.view_household")

    @extend_schema(
        parameters=[AREA_PARAMETER],
        responses=OverviewSerializer,
        summary="Current overview of an area",
    )
    def get(self, request):
        area = self.area(request)
        figures = selectors.overview(user=request.user, area=area)
        return Response(OverviewSerializer(figures).data)
