"""Audit rows for authentication events (logins, failures, lockouts, logouts)."""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from . import audit
from .choices import AuditAction
from .middleware import SESSION_SEEN, SESSION_STARTED


@receiver(user_logged_in, dispatch_uid="kaitai_audit_login")
def on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now
    with transaction.atomic():
        audit.record(action=AuditAction.LOGIN, actor=user, request=request)


@receiver(user_login_failed, dispatch_uid="kaitai_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    locked = bool(getattr(request, "axes_locked_out", False))
    with transaction.atomic():
        audit.record(
            action=AuditAction.LOGIN_FAILED,
            request=request,
            username=username,
            success=False,
            detail={"locked": locked},
        )


@receiver(user_locked_out, dispatch_uid="kaitai_audit_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    with transaction.atomic():
        audit.record(
            action=AuditAction.LOCKED_OUT,
            request=request,
            username=username or "",
            ip_address=ip_address,
            success=False,
        )


@receiver(user_logged_out, dispatch_uid="kaitai_audit_logout")
def on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    with transaction.atomic():
        audit.record(action=AuditAction.LOGOUT, actor=user, request=request)
