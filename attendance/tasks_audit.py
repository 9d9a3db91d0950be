"""Celery tasks of the monthly audit (thin entry points)."""
