"""Races settled by the database, with real threads on PostgreSQL, each with
its own connection: fifty copies of one submission store one row; fifty
different sign-ins in one half store fifty rows of which exactly one counts;
acceptances and help logs racing each other."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from attendance import helplogs, signins
from attendance.models import HelpLog, SignIn
from core.models import AuditLog, User
from tests.attendance import test_signins as base
from tests.attendance.test_signins import DAY, add_cadre, local, north, sign

# the shared fixtures of test_signins
st = base.st

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def race(n: int, work) -> tuple[list, list]:
    """Run work(i) in n threads released together; (results, errors)."""
    barrier = threading.Barrier(n)
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcome = work(i)
            with lock:
                results.append(outcome)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def test_fifty_identical_submissions_store_one_row(st):
    client_id = uuid.uuid4()
    lat, lng = north(50)
    now = local(DAY, 9, 0)

    def submit(_i):
        user = User.objects.get(pk=st.user.pk)
        signin, created = signins.signin_create(
            user=user, client_id=client_id, latitude=lat, longitude=lng, accuracy=8, now=now
        )
        return signin.pk, created, signin.counts

    results, errors = race(THREADS, submit)
    assert not errors, errors[:3]
    assert len(results) == THREADS
    assert SignIn.objects.filter(client_id=client_id).count() == 1
    stored = SignIn.objects.get(client_id=client_id)
    assert {pk for pk, _, _ in results} == {stored.pk}
    assert sum(created for _, created, _ in results) == 1
    assert all(counts for _, _, counts in results) and stored.counts
    assert AuditLog.objects.filter(object_type="attendance.signin").count() == 1


def test_fifty_different_sign_ins_in_one_half_one_counts(st):
    now = local(DAY, 15, 0)
    lat, lng = north(20)

    def submit(_i):
        user = User.objects.get(pk=st.user.pk)
        signin, created = signins.signin_create(
            user=user, client_id=uuid.uuid4(), latitude=lat, longitude=lng, now=now
        )
        return signin.pk, created, signin.counts

    results, errors = race(THREADS, submit)
    assert not errors, errors[:3]
    assert all(created for _, created, _ in results)
    rows = SignIn.objects.filter(cadre=st.cadre, date=DAY, half="pm")
    assert rows.count() == THREADS
    assert rows.filter(counts=True).count() == 1
    assert sum(counts for _, _, counts in results) == 1
    # the one that counts is the one the callers were told counts
    (winner,) = [pk for pk, _, counts in results if counts]
    assert rows.get(counts=True).pk == winner


def test_many_cadres_at_once_each_get_their_first_sign_in(st):
    users = [add_cadre(st.world, f"r{i}", st.world.village, name=f"干部{i}")[0] for i in range(10)]
    now = local(DAY, 8, 30)

    def submit(i):
        user = User.objects.get(pk=users[i % 10].pk)
        return sign(user, now, metres=5)[0].counts

    results, errors = race(THREADS, submit)
    assert not errors, errors[:3]
    assert sum(results) == 10
    for user in users:
        rows = SignIn.objects.filter(cadre__user=user, date=DAY, half="am")
        assert rows.count() == 5 and rows.filter(counts=True).count() == 1


def test_two_acceptances_in_one_half_one_counts(st):
    far = [sign(st.user, local(DAY, 8, m), metres=4000)[0] for m in (0, 1)]
    second_office = User.objects.create_user(
        username="township2", password="x", role="township_office", scope_area=st.world.township
    )
    offices = [st.world.users["township"].pk, second_office.pk]

    def accept(i):
        actor = User.objects.get(pk=offices[i])
        return signins.signin_accept(actor=actor, signin=far[i], reason="开会").counts

    results, errors = race(2, accept)
    assert not errors, errors
    assert sorted(results) == [False, True]
    rows = SignIn.objects.filter(cadre=st.cadre, date=DAY, half="am")
    assert rows.filter(accepted=True).count() == 2 and rows.filter(counts=True).count() == 1


def test_the_same_sign_in_accepted_twice_at_once_is_accepted_once(st):
    far, _ = sign(st.user, local(DAY, 8, 0), metres=4000)
    actor_pk = st.world.users["township"].pk

    def accept(i):
        actor = User.objects.get(pk=actor_pk)
        return signins.signin_accept(actor=actor, signin=far, reason=f"理由{i}").accept_reason

    results, errors = race(8, accept)
    assert len(results) == 1
    assert len(errors) == 7 and all(isinstance(e, ValidationError) for e in errors)
    far.refresh_from_db()
    assert far.accepted and far.counts and far.accept_reason == results[0]
    assert AuditLog.objects.filter(detail__what="signin_accept", success=True).count() == 1


def test_help_logs_saved_at_once_make_one_log(st):
    now = local(DAY, 21, 0)

    def save(i):
        user = User.objects.get(pk=st.user.pk)
        return helplogs.helplog_save(user=user, date=DAY, content=f"第{i}版", now=now)[1]

    results, errors = race(20, save)
    assert not errors, errors[:3]
    assert sum(results) == 1
    assert HelpLog.objects.filter(cadre=st.cadre, date=DAY).count() == 1
