"""The leave API for the mobile client: list and create requests, withdraw,
report the return. Session or token authentication; every row through
``visible_to(user)``, a request outside the user's scope is the same 404 as a
missing one. The rules live in attendance.leave; errors come back as field
errors in the user's language (Chinese by default)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView

from core.api_auth import AuditedRefusals, ExpiringTokenAuthentication

from . import leave
from .models import LeaveRequest
from .serializers_leave import (
    LeaveListQuerySerializer,
    LeaveRequestCreateSerializer,
    LeaveRequestSerializer,
    ReturnSerializer,
)


class MethodPermissions(BasePermission):
    """The permissions the view names for the request's method."""

    def has_permission(self, request, view):
        needed = view.required_permissions.get(request.method, ())
        return request.user.has_perms(needed)


class LeavePagination(PageNumberPagination):
    page_size = 50


class LeaveAPIView(AuditedRefusals, APIView):
    # The sign-in API's expiring token first (401 with WWW-Authenticate: Token
    # for a call without credentials), or the browser's session with CSRF.
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, MethodPermissions]
    required_permissions: dict[str, tuple[str, ...]] = {}


def rows_for_output(queryset):
    return (
        leave.with_overdue(queryset)
        .select_related("cadre", "membership__team__village")
        .prefetch_related(leave.decisions_prefetch())
    )


def _stored(request, pk) -> LeaveRequest:
    return rows_for_output(leave.visible_requests(user=request.user)).get(pk=pk)


def _run(call):
    """The service's refusals as API errors: 400 with field errors, or 403."""
    try:
        return call()
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(as_serializer_error(exc)) from exc
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc) or None) from exc


class LeaveRequestsView(LeaveAPIView):
    required_permissions = {
        "GET": ("attendance.view_leaverequest",),
        "POST": ("attendance.add_leaverequest",),
    }
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        parameters=[LeaveListQuerySerializer],
        responses=LeaveRequestSerializer(many=True),
        summary="Leave requests you may see (yours, or those of your area)",
    )
    def get(self, request):
        query = LeaveListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = leave.visible_requests(user=request.user)
        if query.validated_data.get("status"):
            rows = rows.filter(status=query.validated_data["status"])
        rows = rows_for_output(rows).order_by("-start_date", "-pk")
        paginator = LeavePagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        data = LeaveRequestSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request={
            "application/json": LeaveRequestCreateSerializer,
            "multipart/form-data": LeaveRequestCreateSerializer,
        },
        responses={201: LeaveRequestSerializer},
        summary="Ask for leave or record official business away",
    )
    def post(self, request):
        serializer = LeaveRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = _run(
            lambda: leave.leave_request_create(
                user=request.user,
                kind=data["kind"],
                leave_type=data.get("leave_type", ""),
                start_date=data["start_date"],
                start_half=data["start_half"],
                end_date=data["end_date"],
                end_half=data["end_half"],
                reason=data["reason"],
                attachment=data.get("attachment"),
                http_request=request,
            )
        )
        body = LeaveRequestSerializer(_stored(request, created.pk), context={"request": request})
        return Response(body.data, status=status.HTTP_201_CREATED)


class LeaveWithdrawView(LeaveAPIView):
    required_permissions = {"POST": ("attendance.add_leaverequest",)}

    @extend_schema(request=None, responses=LeaveRequestSerializer, summary="Withdraw a request")
    def post(self, request, pk):
        target = leave.access_request(
            user=request.user, pk=pk, queryset=leave.visible_requests(user=request.user)
        )
        _run(lambda: leave.leave_withdraw(user=request.user, request=target, http_request=request))
        body = LeaveRequestSerializer(_stored(request, pk), context={"request": request})
        return Response(body.data)


class LeaveReturnView(LeaveAPIView):
    required_permissions = {"POST": ("attendance.add_leaverequest",)}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=ReturnSerializer,
        responses=LeaveRequestSerializer,
        summary="Report the return from approved leave (销假)",
    )
    def post(self, request, pk):
        target = leave.access_request(
            user=request.user, pk=pk, queryset=leave.visible_requests(user=request.user)
        )
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        returned_on = serializer.validated_data.get("returned_on") or timezone.localdate()
        _run(
            lambda: leave.leave_report_return(
                user=request.user, request=target, returned_on=returned_on, http_request=request
            )
        )
        body = LeaveRequestSerializer(_stored(request, pk), context={"request": request})
        return Response(body.data)
