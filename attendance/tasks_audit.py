"""Celery tasks of the monthly audit (thin entry points).

Only these two are idempotent enough for ``acks_late`` with
``reject_on_worker_lost``: a month's audit replaces its rows (a redelivered
message gives the same figures; redeliveries are capped in the service), and
the dispatcher claims each county's hour once.
"""

from __future__ import annotations

import datetime

from celery import shared_task

__all__ = ["audit_month_task", "dispatch_monthly_audits"]


@shared_task(
    name="attendance.tasks.audit_month_task",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=False,
)
def audit_month_task(
    self,
    county_id: int,
    month_iso: str,
    township_id: int | None = None,
    actor_id: int | None = None,
    scheduled_for: str | None = None,
) -> dict:
    from .audit import run_audit_job

    return run_audit_job(
        job_id=self.request.id,
        county_id=county_id,
        month_iso=month_iso,
        township_id=township_id,
        actor_id=actor_id,
        scheduled_for=scheduled_for,
    )


@shared_task(
    name="attendance.tasks.dispatch_monthly_audits",
    acks_late=True,
    reject_on_worker_lost=True,
)
def dispatch_monthly_audits(now_iso: str | None = None) -> list[list]:
    """Hourly from beat: start the audit of the month before for each county
    whose audit day and hour are now."""
    from .audit import due_audits, mark_dispatched

    now = datetime.datetime.fromisoformat(now_iso) if now_iso else None
    due = due_audits(now=now)
    for county_id, month, hour in due:
        audit_month_task.delay_on_commit(county_id, month.isoformat(), scheduled_for=hour)
        mark_dispatched(county_id=county_id, month=month, hour=hour)
    return [[county_id, month.isoformat()] for county_id, month, _hour in due]
