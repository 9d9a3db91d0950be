"""Writing the audit log. Call :func:`record` inside the transaction of the change
it records, so that a failed audit write rolls the change back."""

from __future__ import annotations

import re
from typing import Any

from django.db import models, transaction

from .choices import AuditAction
from .models import AuditLog
from .net import client_ip

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_text(value: Any, limit: int = 200) -> str:
    """Text safe to store and show: control characters (newlines, escapes) are
    written as visible escapes so a crafted name cannot forge log lines."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text[:limit]


def _clean_detail(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {clean_text(k, 64): _clean_detail(v) for k, v in detail.items()}
    if isinstance(detail, list | tuple):
        return [_clean_detail(v) for v in detail]
    if isinstance(detail, str):
        return clean_text(detail, 1000)
    return detail


def record(
    *,
    action: str,
    actor=None,
    request=None,
    obj: models.Model | None = None,
    success: bool = True,
    username: str | None = None,
    ip_address: str | None = None,
    detail: dict | None = None,
) -> AuditLog:
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "pk", None):
        actor = None
    if username is None:
        username = actor.get_username() if actor is not None else ""
    if ip_address is None:
        ip_address = client_ip(request)
    entry = AuditLog(
        actor=actor,
        username=clean_text(username, 150),
        ip_address=ip_address,
        action=action,
        success=success,
        detail=_clean_detail(detail or {}),
    )
    if obj is not None:
        entry.object_type = obj._meta.label_lower
        entry.object_id = str(obj.pk or "")
        entry.object_repr = clean_text(obj)
    entry.save(force_insert=True)
    return entry


def record_refusal(request) -> None:
    """A refusal of a logged-in user (a 403 page, an API call the permissions
    refuse) as an audit row of a failed action, in its own transaction."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    with transaction.atomic():
        record(
            action=AuditAction.PERMISSION_DENIED,
            request=request,
            success=False,
            detail={"path": request.path[:200], "method": request.method},
        )
