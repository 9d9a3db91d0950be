"""The Celery application: JSON only, time limits, schedule from settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaitai.settings.local")

app = Celery("kaitai")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
