"""The monthly audit's workflow: township submits, county files (备案), a filed
month is locked until the county office reopens it (logged); each step checks
the actor, the scope and the state under a row lock."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from attendance.audit import audit_month
from attendance.batches import batch_file, batch_reopen, batch_submit
from attendance.choices import BatchStatus
from attendance.models import AttendanceBatch
from core.models import AuditLog
from tests.attendance.test_audit import MARCH, stationed


@pytest.fixture
def batch(world):
    stationed(world)
    audit_month(actor=None, county=world.county, month=MARCH)
    return AttendanceBatch.objects.get(township=world.township, month=MARCH)


def steps(batch):
    return list(
        AuditLog.objects.filter(
            object_type="attendance.attendancebatch",
            object_id=str(batch.pk),
            detail__step__in=["submit", "file", "reopen"],
        )
        .order_by("pk")
        .values_list("detail__step", "detail__from", "detail__to", "username")
    )


@pytest.mark.django_db
def test_submit_file_reopen(world, batch):
    batch = batch_submit(actor=world.users["township"], batch=batch)
    assert batch.status == BatchStatus.SUBMITTED and batch.submitted_by == world.users["township"]
    batch = batch_file(actor=world.users["county"], batch=batch)
    assert batch.status == BatchStatus.FILED and batch.filed_at is not None
    batch = batch_reopen(actor=world.users["county"], batch=batch, reason="补录请假")
    assert batch.status == BatchStatus.DRAFT and batch.reopened_count == 1
    assert batch.filed_at is None and batch.submitted_at is None
    assert steps(batch) == [
        ("submit", "draft", "submitted", "township"),
        ("file", "submitted", "filed", "county"),
        ("reopen", "filed", "draft", "county"),
    ]
    reopen = AuditLog.objects.get(detail__step="reopen")
    assert reopen.detail["reason"] == "补录请假" and reopen.detail["was_filed_by"]


@pytest.mark.django_db
def test_steps_in_the_wrong_state_are_refused(world, batch):
    with pytest.raises(ValidationError):
        batch_file(actor=world.users["county"], batch=batch)  # not submitted
    with pytest.raises(ValidationError):
        batch_reopen(actor=world.users["county"], batch=batch, reason="x")  # not filed
    batch_submit(actor=world.users["township"], batch=batch)
    with pytest.raises(ValidationError):
        batch_submit(actor=world.users["township"], batch=batch)  # twice
    batch_file(actor=world.users["county"], batch=batch)
    with pytest.raises(ValidationError):
        batch_file(actor=world.users["county"], batch=batch)  # twice
    with pytest.raises(ValidationError):
        batch_submit(actor=world.users["township"], batch=batch)  # filed: locked
    assert [s[0] for s in steps(batch)] == ["submit", "file"]


@pytest.mark.django_db
def test_reopening_needs_a_reason(world, batch):
    batch_submit(actor=world.users["township"], batch=batch)
    batch_file(actor=world.users["county"], batch=batch)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as error:
            batch_reopen(actor=world.users["county"], batch=batch, reason=reason)
        assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError):
        batch_reopen(actor=world.users["county"], batch=batch, reason="长" * 301)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FILED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "who"),
    [
        ("submit", "other_township"),
        ("submit", "county"),
        ("submit", "leader"),
        ("submit", "inspector"),
        ("file", "township"),
        ("file", "far_county"),
        ("file", "inspector"),
        ("reopen", "township"),
        ("reopen", "far_county"),
    ],
)
def test_each_step_belongs_to_one_office(world, batch, step, who):
    if step in ("file", "reopen"):
        batch_submit(actor=world.users["township"], batch=batch)
    if step == "reopen":
        batch_file(actor=world.users["county"], batch=batch)
    before = AttendanceBatch.objects.get(pk=batch.pk).status
    action = {"submit": batch_submit, "file": batch_file, "reopen": batch_reopen}[step]
    kwargs = {"reason": "原因"} if step == "reopen" else {}
    with pytest.raises(PermissionDenied):
        action(actor=world.users[who], batch=batch, **kwargs)
    assert AttendanceBatch.objects.get(pk=batch.pk).status == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_county_staff_filing_at_once_file_once(world):
    stationed(world)
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch)
    barrier = threading.Barrier(2)
    outcomes = []

    def file_it():
        try:
            barrier.wait()
            batch_file(actor=world.users["county"], batch=batch.pk)
            outcomes.append("filed")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=file_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["filed", "refused"]
    assert [s[0] for s in steps(batch)] == ["submit", "file"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_filing_while_the_audit_re_runs_never_files_stale_rows(world):
    """The audit's township transaction and the filing lock the same batch row:
    whichever comes second sees the other's result."""
    stationed(world)
    audit_month(actor=None, county=world.county, month=MARCH)
    batch = AttendanceBatch.objects.get(township=world.township, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch)
    barrier = threading.Barrier(2)
    outcomes = {}

    def rerun():
        try:
            barrier.wait()
            audit_month(actor=None, county=world.county, month=MARCH, township=world.township)
            outcomes["audit"] = "ran"
        except ValidationError:
            outcomes["audit"] = "locked"
        finally:
            connection.close()

    def file_it():
        try:
            barrier.wait()
            batch_file(actor=world.users["county"], batch=batch.pk)
            outcomes["file"] = "filed"
        except ValidationError:
            outcomes["file"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=rerun), threading.Thread(target=file_it)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batch.refresh_from_db()
    # Either the re-run came first (a draft again, so filing is refused), or
    # the filing came first (the re-run is locked out): never both.
    assert (outcomes, batch.status) in [
        ({"audit": "ran", "file": "refused"}, BatchStatus.DRAFT),
        ({"audit": "locked", "file": "filed"}, BatchStatus.FILED),
    ]
