"""Celery discovers ``<app>.tasks``; the attendance tasks live in two modules."""

from celery import shared_task

from .tasks_audit import *  # noqa: F403
from .tasks_onpost import *  # noqa: F403


@shared_task(name="attendance.tasks.forget_signin_locations")
def forget_signin_locations() -> int:
    """Raw sign-in coordinates are kept only for the county's retention period."""
    from . import signins

    return signins.signins_forget_locations()
