"""Cadre account activation: codes issued by the township office, shown once,
stored as a keyed hash, seven days, five wrong tries; the public page where a
cadre sets a first password."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from core.choices import AuditAction, Role
from core.models import AuditLog, User
from teams import services
from tests.conftest import csrf_post
from tests.teams.factories import make_cadre, make_team, mobile, station

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kaitai#Village-2026"


def cadre_with_account(unit, village, name="张三"):
    phone = mobile()
    cadre = make_cadre(unit, name, phone=phone)
    user = User(username=phone, full_name=name, role=Role.CADRE)
    user.set_unusable_password()
    user.save()
    cadre.user = user
    cadre.save(update_fields=["user"])
    team = village.teams.filter(dissolved_on__isnull=True).first() or make_team(village)
    station(cadre, team)
    return cadre


@pytest.fixture
def cadre(world):
    return cadre_with_account(world.unit, world.village)


def issue(world, *cadres, key="township"):
    return services.activation_codes_issue(actor=world.users[key], cadres=list(cadres))


# --- issuing -----------------------------------------------------------------------------


def test_codes_are_random_unambiguous_hashed_and_expire_in_a_week(world, cadre):
    before = timezone.now()
    [(issued, code)] = issue(world, cadre)
    assert issued == cadre
    assert len(code) == 10 and set(code) <= set(services.ACTIVATION_ALPHABET)
    assert not set(code) & set("01OIL")
    user = User.objects.get(pk=cadre.user_id)
    assert user.activation_code_hash and code not in user.activation_code_hash
    assert len(user.activation_code_hash) == 64
    expires = user.activation_expires_at
    assert (
        before + datetime.timedelta(days=7)
        <= expires
        <= timezone.now() + datetime.timedelta(days=7)
    )
    codes = {issue(world, cadre)[0][1] for _ in range(5)}
    assert len(codes) == 5  # random each time


def test_one_audit_row_per_batch_without_the_codes(world, cadre):
    other = cadre_with_account(world.unit, world.village, "李四")
    issued = issue(world, cadre, other)
    row = AuditLog.objects.get(detail__what="activation_codes")
    assert row.action == AuditAction.USER_CHANGE and row.actor == world.users["township"]
    assert row.detail["count"] == 2
    assert sorted(row.detail["users"]) == sorted([cadre.user_id, other.user_id])
    text = str(row.detail) + row.object_repr
    for _, code in issued:
        assert code not in text


def test_a_new_code_replaces_the_old_one(world, cadre):
    [(_, old)] = issue(world, cadre)
    [(_, new)] = issue(world, cadre)
    with pytest.raises(ValidationError):
        services.account_activate(username=cadre.user.username, code=old, password=NEW_PASSWORD)
    services.account_activate(username=cadre.user.username, code=new, password=NEW_PASSWORD)


def test_codes_only_for_cadres_in_scope(world, cadre):
    with pytest.raises(PermissionDenied):
        issue(world, cadre, key="other_township")
    with pytest.raises(PermissionDenied):
        issue(world, cadre, key="far_county")
    for key in ("leader", "unit", "inspector", "cadre"):
        with pytest.raises(PermissionDenied):
            issue(world, cadre, key=key)
    issue(world, cadre, key="county")


def test_no_code_for_an_activated_account_or_a_cadre_without_one(world, cadre):
    [(_, code)] = issue(world, cadre)
    services.account_activate(username=cadre.user.username, code=code, password=NEW_PASSWORD)
    with pytest.raises(ValidationError):
        issue(world, cadre)
    plain = make_cadre(world.unit, "王五")
    station(plain, make_team(world.other_village))
    with pytest.raises(ValidationError):
        issue(world, plain, key="county")


# --- activating ------------------------------------------------------------------------------


def test_activation_sets_the_password_and_clears_the_code(world, cadre):
    [(_, code)] = issue(world, cadre)
    typed = f" {code[:5].lower()}-{code[5:]} "  # as people type it
    user = services.account_activate(
        username=cadre.user.username, code=typed, password=NEW_PASSWORD
    )
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.activation_code_hash and user.activation_expires_at is None
    assert not user.password_expired(90) and not user.must_change_password
    row = AuditLog.objects.get(action=AuditAction.PASSWORD_CHANGE, detail__what="activation")
    assert row.actor == user and row.success
    # a code works once
    with pytest.raises(ValidationError):
        services.account_activate(username=user.username, code=code, password=NEW_PASSWORD + "x")


def test_wrong_code_is_refused_and_audited(world, cadre):
    issue(world, cadre)
    with pytest.raises(ValidationError) as info:
        services.account_activate(
            username=cadre.user.username, code="ABCDEFGHJK", password=NEW_PASSWORD
        )
    assert info.value.messages == [str(services.ACTIVATION_FAILED)]
    row = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED, detail__what="activation")
    assert not row.success and row.username == cadre.user.username
    assert row.detail["reason"] == "wrong_code"
    assert "ABCDEFGHJK" not in str(row.detail)
    assert not User.objects.get(pk=cadre.user_id).has_usable_password()


def test_unknown_user_gets_the_same_answer(world):
    with pytest.raises(ValidationError) as info:
        services.account_activate(username="13999999999", code="ABCDEFGHJK", password=NEW_PASSWORD)
    assert info.value.messages == [str(services.ACTIVATION_FAILED)]
    row = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED, detail__what="activation")
    assert row.detail["reason"] == "no_account"


def test_staff_accounts_cannot_be_taken_over_with_a_code(world):
    township = world.users["township"]
    with pytest.raises(ValidationError):
        services.account_activate(
            username=township.username, code="ABCDEFGHJK", password=NEW_PASSWORD
        )
    township.refresh_from_db()
    assert not township.check_password(NEW_PASSWORD)


def test_expired_code_is_refused(world, cadre):
    [(_, code)] = issue(world, cadre)
    User.objects.filter(pk=cadre.user_id).update(
        activation_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(ValidationError):
        services.account_activate(username=cadre.user.username, code=code, password=NEW_PASSWORD)
    row = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED, detail__what="activation")
    assert row.detail["reason"] == "expired"


def _from(address: str):
    return RequestFactory().post("/activate/", REMOTE_ADDR=address)


def _wrong(username: str, address: str) -> str:
    with pytest.raises(ValidationError) as info:
        services.account_activate(
            username=username, code="WRONGWRONG", password=NEW_PASSWORD, request=_from(address)
        )
    return " ".join(info.value.messages)


def test_five_wrong_codes_lock_out_that_address_only(world, cadre, settings):
    """Keyed on account and address, as logins are: five wrong codes from one
    network cannot lock the cadre out of their own phone, and do not use up
    the code; the right code from the locked address is still refused."""
    [(_, code)] = issue(world, cadre)
    username = cadre.user.username
    for _ in range(services.ACTIVATION_MAX_FAILURES):
        _wrong(username, "10.0.0.9")
    assert AuditLog.objects.filter(
        action=AuditAction.LOCKED_OUT, detail__what="activation", username=username
    ).exists()
    with pytest.raises(ValidationError) as info:
        services.account_activate(
            username=username, code=code, password=NEW_PASSWORD, request=_from("10.0.0.9")
        )
    assert "30" in " ".join(info.value.messages)  # wait 30 minutes
    user = User.objects.get(pk=cadre.user_id)
    assert user.activation_code_hash and not user.has_usable_password()
    services.account_activate(
        username=username, code=code, password=NEW_PASSWORD, request=_from("10.0.0.10")
    )
    assert User.objects.get(pk=cadre.user_id).check_password(NEW_PASSWORD)


def test_the_lockout_ends_after_its_time(world, cadre, settings):
    [(_, code)] = issue(world, cadre)
    username = cadre.user.username
    for _ in range(services.ACTIVATION_MAX_FAILURES):
        _wrong(username, "10.0.0.9")
    assert "30" in _wrong(username, "10.0.0.9")
    # The tries are now older than the lockout time (the audit log itself is append-only).
    settings.AXES_COOLOFF_TIME = datetime.timedelta(0)
    services.account_activate(
        username=username, code=code, password=NEW_PASSWORD, request=_from("10.0.0.9")
    )


def test_an_unknown_number_is_locked_out_the_same(world):
    for _ in range(services.ACTIVATION_MAX_FAILURES):
        _wrong("13900000000", "10.0.0.9")
    assert "30" in _wrong("13900000000", "10.0.0.9")  # nothing tells it has no account


def test_four_wrong_codes_leave_the_code_usable(world, cadre):
    [(_, code)] = issue(world, cadre)
    for _ in range(services.ACTIVATION_MAX_FAILURES - 1):
        with pytest.raises(ValidationError):
            services.account_activate(
                username=cadre.user.username, code="WRONGWRONG", password=NEW_PASSWORD
            )
    services.account_activate(username=cadre.user.username, code=code, password=NEW_PASSWORD)


def test_a_weak_password_is_refused_without_using_up_the_code(world, cadre):
    [(_, code)] = issue(world, cadre)
    with pytest.raises(ValidationError) as info:
        services.account_activate(username=cadre.user.username, code=code, password="12345678")
    assert "password" in info.value.message_dict
    user = User.objects.get(pk=cadre.user_id)
    assert user.activation_code_hash and not user.has_usable_password()
    services.account_activate(username=user.username, code=code, password=NEW_PASSWORD)


# --- pages ----------------------------------------------------------------------------------------


def test_township_issues_and_prints_codes_for_a_village(world, login, cadre):
    done = cadre_with_account(world.unit, world.village, "李四")
    [(_, code)] = issue(world, done)
    services.account_activate(username=done.user.username, code=code, password=NEW_PASSWORD)
    client = login(world.users["township"])
    page = client.get(reverse("activation_codes")).content.decode()
    assert "一村" in page and "二村" not in page

    page = client.get(reverse("activation_codes") + f"?village={world.village.pk}")
    text = page.content.decode()
    assert cadre.name in text and cadre.phone_masked in text
    assert "李四" not in text  # already active

    response = csrf_post(client, reverse("activation_codes"), {"village": world.village.pk})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode()
    codes = re.findall(r'data-testid="code">([A-Z0-9-]+)<', text)
    assert len(codes) == 1
    assert cadre.phone_masked in text and cadre.get_number("phone") not in text
    assert "@media print" in text
    assert reverse("account_activate") in text
    services.account_activate(username=cadre.user.username, code=codes[0], password=NEW_PASSWORD)


def test_activation_page_scoping(world, login, cadre):
    url = reverse("activation_codes")
    for key in ("other_township", "far_county"):
        client = login(world.users[key])
        assert client.get(f"{url}?village={world.village.pk}").status_code == 404
        assert csrf_post(client, url, {"village": world.village.pk}).status_code == 404
    for key in ("leader", "unit", "inspector", "cadre", "sysadmin", "secadmin", "auditadmin"):
        assert login(world.users[key]).get(url).status_code == 403, key
    for key in ("county", "township", "other_township", "far_county"):
        assert login(world.users[key]).get(url).status_code == 200, key
    assert not User.objects.get(pk=cadre.user_id).activation_code_hash


def test_a_cadre_activates_and_logs_in(world, cadre, login):
    [(_, code)] = issue(world, cadre)
    client = Client(enforce_csrf_checks=True)
    url = reverse("account_activate")
    assert client.get(url).status_code == 200  # public
    response = csrf_post(
        client,
        url,
        {
            "username": cadre.user.username,
            "code": code,
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("login")
    logged_in = login(User.objects.get(pk=cadre.user_id), NEW_PASSWORD)
    assert logged_in.get("/").status_code == 200


def test_the_activation_page_shows_failures(world, cadre):
    issue(world, cadre)
    client = Client(enforce_csrf_checks=True)
    url = reverse("account_activate")
    data = {
        "username": cadre.user.username,
        "code": "WRONGWRONG",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    response = csrf_post(client, url, data)
    assert response.status_code == 400
    assert 'data-testid="activation-error"' in response.content.decode()
    response = csrf_post(client, url, {**data, "password2": "different"})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session
    assert client.post(url, data).status_code == 403  # CSRF is enforced
