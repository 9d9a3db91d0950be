"""The monthly audit on a real Celery worker (a separate process on Redis and
the PostgreSQL test database), the way production runs it: the portal's task
and the hourly dispatcher."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache

from attendance import audit
from attendance.models import AttendanceBatch, MonthlyAttendance
from attendance.tasks import audit_month_task, dispatch_monthly_audits
from core.models import AuditLog
from tests.attendance.test_audit import MARCH, both_halves, day, leave, local, stationed
from tests.test_celery_worker import TASK_TIMEOUT, celery_env, spawn, worker  # noqa: F401

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.celery_worker]


def test_a_worker_runs_the_audit_with_progress(world, worker):  # noqa: F811
    cadre = stationed(world)
    both_halves(cadre, [day(2), day(3)])
    leave(cadre, day(4), "am", day(4), "pm")
    job_id = str(uuid.uuid4())  # results outlive a run: never reuse a task id
    audit.job_start(job_id=job_id, county=world.county, user=world.users["county"], month=MARCH)

    result = audit_month_task.apply_async(
        args=[world.county.pk, "2026-03-01"],
        kwargs={"actor_id": world.users["county"].pk},
        task_id=job_id,
    ).get(timeout=TASK_TIMEOUT)

    assert result["rows"] == 1, worker.report()
    row = MonthlyAttendance.objects.get(cadre=cadre)
    assert (row.on_post_days, row.leave_days, row.absent_days) == (
        Decimal("2"),
        Decimal("1"),
        Decimal("19"),
    )
    state = cache.get(audit.progress_key(job_id))
    assert state["state"] == "done" and state["done"] == state["total"] == 2
    assert AuditLog.objects.filter(detail__what="monthly_audit", username="county").count() == 2
    log = worker.output()
    assert f"Task attendance.tasks.audit_month_task[{job_id}] succeeded" in log, log


def test_a_worker_runs_the_dispatched_month_once(world, worker):  # noqa: F811
    cadre = stationed(world)
    both_halves(cadre, [day(2)])
    at = local(day(1, 4), 2, 0)
    # the hour's claims of earlier runs (never cache.clear(): the broker shares Redis)
    cache.delete_many(
        [
            audit._dispatch_key(county.pk, MARCH, at.isoformat())
            for county in (world.county, world.other_county)
        ]
    )
    dispatched = dispatch_monthly_audits.apply(kwargs={"now_iso": at.isoformat()}).get()
    assert [world.county.pk, "2026-03-01"] in dispatched
    # The audits were queued to the worker: wait for the county's batches.
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        if AttendanceBatch.objects.filter(township__county=world.county, month=MARCH).count() == 2:
            break
        time.sleep(0.3)
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == Decimal("1"), worker.report()
    stamp = AttendanceBatch.objects.get(township=world.township).computed_at
    # a duplicate beat run in the same hour queues nothing
    assert dispatch_monthly_audits.apply(kwargs={"now_iso": at.isoformat()}).get() == []
    # and a duplicate message is harmless: the month was computed this hour
    again = audit_month_task.apply_async(
        args=[world.county.pk, "2026-03-01"], kwargs={"scheduled_for": at.isoformat()}
    ).get(timeout=TASK_TIMEOUT)
    assert again == {"skipped": "already computed", "month": "2026-03"}
    assert AttendanceBatch.objects.get(township=world.township).computed_at == stamp
