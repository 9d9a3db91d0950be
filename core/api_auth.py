"""API authentication: DRF's token, with a lifetime; refusals audited.

The default for every API view (``REST_FRAMEWORK`` in settings), beside the
browser's session: a token older than ``API_TOKEN_LIFETIME`` seconds (the
session's absolute lifetime by default), or of an account whose password has
expired, is refused, and a new login replaces it.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core import audit


def token_lifetime() -> datetime.timedelta:
    seconds = getattr(settings, "API_TOKEN_LIFETIME", settings.SESSION_ABSOLUTE_TIMEOUT)
    return datetime.timedelta(seconds=seconds)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token, refused once older than the token lifetime or when the
    account's password has expired (a new token needs a fresh login)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - token_lifetime():
            raise exceptions.AuthenticationFailed(_("The token has expired. Log in again."))
        if user.password_expired(settings.PASSWORD_MAX_AGE_DAYS):
            raise exceptions.AuthenticationFailed(
                _("Your password has expired. Please set a new one.")
            )
        return user, token


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema, under a name of its own."""

    target_class = ExpiringTokenAuthentication
    name = "expiringTokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                'A token from POST /api/v1/auth/token/, sent as "Token <key>"; '
                "it expires (see expires_at) and a new login replaces it."
            ),
        }


class AuditedRefusals:
    """An APIView mixin: a call the permission classes refuse to a logged-in
    user is an audit row (a failed action), as a 403 page is. (Services record
    their own refusals.)"""

    def permission_denied(self, request, message=None, code=None):
        audit.record_refusal(request)
        super().permission_denied(request, message=message, code=code)
