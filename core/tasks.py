"""Celery tasks of the core app: thin entry points."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "kaitai:celery:heartbeat"


@shared_task(name="core.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Beat sends this every CELERY_HEARTBEAT_SECONDS; a worker that runs it
    stamps the cache, so the portal can tell the background jobs are alive."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, stamp, timeout=24 * 3600)
    return stamp


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> int:
    from .models import UserSession

    deleted, _ = UserSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
