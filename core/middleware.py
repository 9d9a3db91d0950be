"""Session lifetime and password age; login is required by Django's own
LoginRequiredMiddleware (deny by default, allow-list with @login_not_required)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from . import audit
from .choices import AuditAction

SESSION_STARTED = "kaitai_started"
SESSION_SEEN = "kaitai_seen"


class SessionLifetimeMiddleware:
    """Ends a session idle for SESSION_IDLE_TIMEOUT or older than
    SESSION_ABSOLUTE_TIMEOUT, whatever the cookie says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            started = request.session.get(SESSION_STARTED, now)
            seen = request.session.get(SESSION_SEEN, now)
            reason = None
            if now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                reason = "absolute"
            elif now - seen > settings.SESSION_IDLE_TIMEOUT:
                reason = "idle"
            if reason:
                with transaction.atomic():
                    audit.record(
                        action=AuditAction.SESSION_EXPIRED,
                        actor=user,
                        request=request,
                        detail={"reason": reason},
                    )
                logout(request)
                messages.info(request, _("Your session has ended. Please log in again."))
                return redirect(f"{reverse('login')}?next={request.path}")
            request.session.setdefault(SESSION_STARTED, now)
            request.session[SESSION_SEEN] = now
        return self.get_response(request)


class PasswordExpiryMiddleware:
    """Sends a user whose password is too old (or was set by someone else) to
    the password change page before anything else."""

    exempt_names = {"password_change", "password_change_done", "logout", "health"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not user.password_expired(settings.PASSWORD_MAX_AGE_DAYS):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in self.exempt_names:
            return None
        messages.warning(request, _("Your password has expired. Please set a new one."))
        return redirect("password_change")
