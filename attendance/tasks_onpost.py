"""Celery tasks of the 200-day check (thin entry points)."""
