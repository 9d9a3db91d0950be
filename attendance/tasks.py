"""Celery discovers ``<app>.tasks``; the attendance tasks live in two modules."""

from .tasks_audit import *  # noqa: F403
from .tasks_onpost import *  # noqa: F403
