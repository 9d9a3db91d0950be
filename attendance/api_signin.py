"""The sign-in API for phones and mini-programs: a token for a username and
password, sign-ins, help logs.

Authentication: ``Authorization: Token <key>`` (a token from
``POST /api/v1/auth/token/``, valid for ``API_TOKEN_LIFETIME`` seconds, the
session's absolute lifetime by default) or the browser's session (with its
CSRF token). The views are exempt from LoginRequiredMiddleware (see
api_urls_signin) so that API clients get 401/403 in JSON instead of a redirect
to the login page; DRF's permissions keep them closed. Every list goes through
``visible_to(user)``: a cadre sees their own rows, an office its area.
"""

from __future__ import annotations

import datetime

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from core import audit
from core.api_auth import ExpiringTokenAuthentication, token_lifetime
from core.choices import ADMIN_ROLES, AuditAction
from core.net import client_ip

from . import helplogs, signins
from .serializers_signin import (
    HelpLogCreateSerializer,
    HelpLogQuerySerializer,
    HelpLogSerializer,
    SignInCreateSerializer,
    SignInQuerySerializer,
    SignInSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


def django_error_detail(error: DjangoValidationError):
    """A service's ValidationError as DRF error detail (field -> messages)."""
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


class MethodPermissions(BasePermission):
    """The permissions the view names for the request's method."""

    def has_permission(self, request, view):
        needed = getattr(view, "required_permissions", {}).get(request.method, ())
        return request.user.has_perms(needed)


class AttendanceAPIView(GenericAPIView):
    # Token first: an unauthenticated call gets 401 with WWW-Authenticate: Token.
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, MethodPermissions]
    required_permissions: dict[str, tuple[str, ...]] = {}

    def handle_exception(self, exc):
        if isinstance(exc, DjangoValidationError):
            exc = exceptions.ValidationError(django_error_detail(exc))
        if isinstance(exc, exceptions.PermissionDenied | DjangoPermissionDenied):
            audit.record_refusal(self.request)
        return super().handle_exception(exc)


class Page(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500


# --- token ---------------------------------------------------------------------------


class TokenAddressThrottle(SimpleRateThrottle):
    """Token requests per client address (generous: a township office or a
    carrier's NAT puts many cadres behind one address)."""

    scope = "api_token_address"
    rate = getattr(settings, "API_TOKEN_RATE_PER_ADDRESS", "60/min")

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}


class TokenUsernameThrottle(SimpleRateThrottle):
    """Token requests per username and address (django-axes locks the pair
    after repeated failures; this also slows down guessing before that)."""

    scope = "api_token_user"
    rate = getattr(settings, "API_TOKEN_RATE_PER_USER", "10/min")

    def get_cache_key(self, request, view):
        username = str(request.data.get("username", ""))[:150].strip().lower()
        ident = f"{client_ip(request) or '-'}:{username}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenView(GenericAPIView):
    """Exchange a username and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenAddressThrottle, TokenUsernameThrottle]
    parser_classes = [JSONParser, FormParser]
    serializer_class = TokenRequestSerializer

    def throttled(self, request, wait):
        with transaction.atomic():
            audit.record(
                action=AuditAction.LOGIN_FAILED,
                request=request,
                username=str(request.data.get("username", ""))[:150],
                success=False,
                detail={"via": "api_token", "throttled": True},
            )
        raise exceptions.Throttled(wait, detail=_("Too many attempts. Try again in a moment."))

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong username or password (one message for both)."),
            403: OpenApiResponse(description="Password expired, or an administrator account."),
            429: OpenApiResponse(description="Locked out (django-axes) or throttled."),
        },
        summary="Get an API token",
        auth=[],
    )
    def post(self, request):
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        username = form.validated_data["username"]
        # The DRF request: django-axes counts the failure (per username and
        # address) and flags a locked-out attempt on it; the answer stays JSON.
        user = authenticate(
            request=request, username=username, password=form.validated_data["password"]
        )
        if getattr(request, "axes_locked_out", False):
            minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
            message = _(
                "Too many failed attempts: this account is locked from your address for "
                "%(minutes)d minutes. Ask the security administrator to unlock it."
            ) % {"minutes": minutes}
            return Response({"detail": message}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            return Response(
                {"non_field_errors": [_("The username or password is incorrect.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        refusal = None
        if user.role in ADMIN_ROLES:
            refusal = _("Administrator accounts use the web console, not the API.")
        elif user.password_expired(settings.PASSWORD_MAX_AGE_DAYS):
            refusal = _("Your password has expired. Please set a new one.")
        if refusal:
            with transaction.atomic():
                audit.record(
                    action=AuditAction.LOGIN_FAILED,
                    actor=user,
                    request=request,
                    success=False,
                    detail={"via": "api_token", "refused": refusal},
                )
            return Response({"detail": refusal}, status=status.HTTP_403_FORBIDDEN)
        with transaction.atomic():
            # One token per account, new at each login: logging in again ends
            # a token that went astray.
            Token.objects.filter(user=user).delete()
            token = Token.objects.create(user=user)
            user.last_login = timezone.now()
            user.save(update_fields=["last_login"])
            audit.record(
                action=AuditAction.LOGIN, actor=user, request=request, detail={"via": "api_token"}
            )
        AxesProxyHandler.user_logged_in(sender=type(user), request=request, user=user)
        data = {
            "token": token.key,
            "expires_at": token.created + token_lifetime(),
            "username": user.get_username(),
            "role": user.role,
        }
        return Response(TokenSerializer(data).data)


# --- sign-ins ------------------------------------------------------------------------


class SignInsView(AttendanceAPIView):
    required_permissions = {
        "GET": ("attendance.view_signin",),
        "POST": ("attendance.add_signin",),
    }
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = Page
    serializer_class = SignInSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "date", OpenApiTypes.DATE, description="YYYY-MM-DD; today when absent."
            ),
            OpenApiParameter("cadre", OpenApiTypes.INT, description="Only this cadre's."),
        ],
        responses=SignInSerializer(many=True),
        summary="Sign-ins you may see on a day (a cadre: their own)",
    )
    def get(self, request):
        query = SignInQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date") or timezone.localdate()
        rows = signins.signin_list(user=request.user, day=day)
        if "cadre" in query.validated_data:
            rows = rows.filter(cadre_id=query.validated_data["cadre"])
        page = self.paginate_queryset(rows)
        data = SignInSerializer(
            signins.with_outcomes(page), many=True, context={"request": request}
        ).data
        return self.get_paginated_response(data)

    @extend_schema(
        request={
            "application/json": SignInCreateSerializer,
            "multipart/form-data": SignInCreateSerializer,
        },
        responses={
            201: SignInSerializer,
            200: OpenApiResponse(SignInSerializer, description="The same client_id again."),
            400: OpenApiResponse(description="Bad input, or not stationed today (Chinese)."),
        },
        summary="Sign in (the server's time decides the half-day)",
    )
    def post(self, request):
        form = SignInCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        signin, created = signins.signin_create(
            user=request.user,
            client_id=values["client_id"],
            latitude=values["latitude"],
            longitude=values["longitude"],
            accuracy=values.get("accuracy"),
            taken_at=values.get("taken_at"),
            photo=values.get("photo"),
            request=request,
        )
        (signin,) = signins.with_outcomes([signin])
        return Response(
            SignInSerializer(signin, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


# --- help logs -----------------------------------------------------------------------


class HelpLogsView(AttendanceAPIView):
    required_permissions = {
        "GET": ("attendance.view_helplog",),
        "POST": ("attendance.add_helplog", "attendance.change_helplog"),
    }
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = Page
    serializer_class = HelpLogSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, description="One day (YYYY-MM-DD)."),
            OpenApiParameter(
                "month", OpenApiTypes.STR, description="YYYY-MM; the current month by default."
            ),
        ],
        responses=HelpLogSerializer(many=True),
        summary="Help logs you may see (a cadre: their own)",
    )
    def get(self, request):
        query = HelpLogQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("date")
        if day is not None:
            rows = helplogs.helplog_list(user=request.user, day=day)
        else:
            month = query.validated_data.get("month") or timezone.localdate().replace(day=1)
            following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            rows = helplogs.helplog_list(
                user=request.user, since=month, until=following - datetime.timedelta(days=1)
            )
        page = self.paginate_queryset(rows)
        data = HelpLogSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request={
            "application/json": HelpLogCreateSerializer,
            "multipart/form-data": HelpLogCreateSerializer,
        },
        responses={
            201: HelpLogSerializer,
            200: OpenApiResponse(HelpLogSerializer, description="The day's log, updated."),
            400: OpenApiResponse(description="Bad input (Chinese)."),
        },
        summary="Write (or update) the help log of today or yesterday",
    )
    def post(self, request):
        form = HelpLogCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        log, created = helplogs.helplog_save(
            user=request.user,
            date=values["date"],
            content=values["content"],
            photos=values.get("photos") or (),
            request=request,
        )
        log = helplogs.helplog_list(user=request.user).get(pk=log.pk)
        return Response(
            HelpLogSerializer(log, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
