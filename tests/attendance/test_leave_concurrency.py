"""Real concurrency on PostgreSQL: threads with their own connections decide the
same request at the same moment. The row lock and the status re-check inside
the transaction let exactly one through; the others get a clear refusal."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from attendance import leave as svc
from attendance.choices import LeaveStatus
from attendance.models import LeaveDecision, LeaveRequest
from core.choices import AuditAction, Role
from core.models import AuditLog, User
from tests.attendance.test_leave import MON, approve, ask, day, setup_leave
from tests.factories import make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls: list) -> list[tuple[str, str]]:
    """Run each call in its own thread and connection, all released at once;
    [("ok" | "refused", detail)] in the order of the calls."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            results[index] = ("ok", "")
        except (PermissionDenied, ValidationError) as exc:
            results[index] = ("refused", svc.refusal_message(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[index] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(r is not None and r[0] != "error" for r in results), results
    return results


def decide(username: str, pk: int, decision: str = "approve", reason: str = ""):
    def call():
        actor = User.objects.get(username=username)
        svc.leave_decide(actor=actor, request=LeaveRequest(pk=pk), decision=decision, reason=reason)

    return call


@pytest.fixture
def lv(world):
    lv = setup_leave(world)
    for n in range(3, 9):
        make_user(f"township{n}", Role.TOWNSHIP_OFFICE, scope_area=world.township)
    return lv


def test_eight_officers_approve_the_same_request_at_once(lv):
    req = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=day(1)))
    assert req.status == LeaveStatus.PENDING_TOWNSHIP
    officers = ["township", "township2", *[f"township{n}" for n in range(3, 9)]]
    results = race([decide(name, req.pk) for name in officers])
    assert sorted(r[0] for r in results) == ["ok"] + ["refused"] * 7
    refusals = {r[1] for r in results if r[0] == "refused"}
    assert all(text for text in refusals)
    assert LeaveDecision.objects.filter(request=req, level="township").count() == 1
    req.refresh_from_db()
    assert req.status == LeaveStatus.APPROVED
    rows = AuditLog.objects.filter(object_type="attendance.leaverequest", object_id=str(req.pk))
    assert rows.filter(action=AuditAction.OBJECT_CHANGE, success=True).count() == 2  # 2 levels
    assert rows.filter(success=False, detail__event=svc.EVENT_DECIDE).count() == 7


def test_approve_and_reject_at_once(lv):
    req = ask(lv.users["cadre"], start=MON, end=day(4))  # needs the county
    req = approve(lv.users["township"], approve(lv.users["leader"], req))
    results = race(
        [
            decide("county", req.pk, "approve"),
            decide("county", req.pk, "reject", "不同意"),
        ]
    )
    req.refresh_from_db()
    assert LeaveDecision.objects.filter(request=req, level="county").count() == 1
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    expected = LeaveStatus.APPROVED if results[0][0] == "ok" else LeaveStatus.REJECTED
    assert req.status == expected


def test_withdraw_and_approve_at_once(lv):
    req = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=MON))

    def withdraw():
        svc.leave_withdraw(user=User.objects.get(username="cadre"), request=LeaveRequest(pk=req.pk))

    results = race([withdraw, decide("township", req.pk)])
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    req.refresh_from_db()
    township = LeaveDecision.objects.filter(request=req, level="township").count()
    if results[0][0] == "ok":
        assert req.status == LeaveStatus.WITHDRAWN and township == 0
    else:
        assert req.status == LeaveStatus.APPROVED and township == 1


def test_a_decision_waits_for_the_lock_and_then_sees_the_new_status(lv):
    """One officer holds the row (mid-decision); the other blocks on it and,
    once the first commits, re-reads the status and is refused."""
    req = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=MON))
    locked = threading.Event()
    released_at: list[float] = []
    finished_at: list[float] = []
    outcome: list = []

    def holder():
        try:
            with transaction.atomic():
                LeaveRequest.objects.select_for_update().get(pk=req.pk)
                locked.set()
                time.sleep(0.5)
                svc.leave_decide(
                    actor=User.objects.get(username="township"),
                    request=LeaveRequest(pk=req.pk),
                    decision="approve",
                )
                released_at.append(time.monotonic())
        finally:
            connection.close()

    def second():
        try:
            assert locked.wait(timeout=10)
            svc.leave_decide(
                actor=User.objects.get(username="township2"),
                request=LeaveRequest(pk=req.pk),
                decision="approve",
            )
            outcome.append("ok")
        except ValidationError as exc:
            outcome.append(svc.refusal_message(exc))
        finally:
            finished_at.append(time.monotonic())
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcome and outcome[0] != "ok"
    assert finished_at[0] >= released_at[0]  # it waited for the holder's commit
    req.refresh_from_db()
    assert req.status == LeaveStatus.APPROVED
    assert list(req.decisions.values_list("approver__username", flat=True)) == [
        "leader",
        "township",
    ]


def test_overlapping_requests_sent_at_once_store_one(lv):
    def create():
        svc.leave_request_create(
            user=User.objects.get(username="cadre"),
            kind="leave",
            leave_type="事假",
            start_date=MON,
            start_half="am",
            end_date=day(1),
            end_half="pm",
            reason="同时提交",
        )

    results = race([create] * 6)
    assert sorted(r[0] for r in results) == ["ok"] + ["refused"] * 5
    assert LeaveRequest.objects.filter(cadre=lv.cadre).count() == 1
