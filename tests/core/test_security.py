"""The security baseline: lockout, password rules, sessions, CSRF, audit rows,
the three separated administrators."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import services
from core.choices import ADMIN_ROLES, AuditAction, Role
from core.middleware import SESSION_SEEN, SESSION_STARTED
from core.models import AuditLog, User, UserSession
from core.roles import ROLE_PERMISSIONS
from tests.conftest import csrf_post
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1", **extra):
    return csrf_post(
        client,
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def _actions(username: str) -> list[str]:
    return list(
        AuditLog.objects.filter(username=username).order_by("pk").values_list("action", flat=True)
    )


# --- lockout ---------------------------------------------------------------


def test_five_failures_lock_username_from_that_address(world):
    user = world.users["township"]
    client = Client(enforce_csrf_checks=True)
    for _ in range(5):
        response = _attempt(client, user.username, "wrong-password")
    assert response.status_code == 429
    # the right password is refused while locked, with a message in Chinese
    response = _attempt(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session
    actions = _actions(user.username)
    assert actions.count(AuditAction.LOGIN_FAILED) >= 5
    assert AuditAction.LOCKED_OUT in actions
    assert AuditAction.LOGIN not in actions
    assert not AuditLog.objects.filter(action=AuditAction.LOCKED_OUT, success=True).exists()


def test_lockout_is_per_username_and_address(world):
    user = world.users["township"]
    for _ in range(5):
        _attempt(Client(enforce_csrf_checks=True), user.username, "wrong", ip="10.0.0.1")
    # the same office NAT address, another user: not locked
    other = world.users["other_township"]
    assert _attempt(Client(enforce_csrf_checks=True), other.username, PASSWORD).status_code == 302
    # the same user from another address: not locked either
    assert (
        _attempt(
            Client(enforce_csrf_checks=True), user.username, PASSWORD, ip="10.0.0.2"
        ).status_code
        == 302
    )


def test_forwarded_for_cannot_dodge_the_lock(world):
    user = world.users["township"]
    for n in range(6):
        _attempt(
            Client(enforce_csrf_checks=True),
            user.username,
            "wrong",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    response = _attempt(
        Client(enforce_csrf_checks=True),
        user.username,
        PASSWORD,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 429


def test_four_failures_then_success_resets(world):
    user = world.users["township"]
    client = Client(enforce_csrf_checks=True)
    for _ in range(4):
        assert _attempt(client, user.username, "wrong").status_code == 200
    assert _attempt(client, user.username, PASSWORD).status_code == 302


def test_security_admin_unlocks_and_it_is_audited(world, login):
    from axes.models import AccessAttempt

    user = world.users["township"]
    for _ in range(5):
        _attempt(Client(enforce_csrf_checks=True), user.username, "wrong")
    attempt = AccessAttempt.objects.get(username=user.username)
    secadmin = login(world.users["secadmin"])
    response = csrf_post(
        secadmin,
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "unlock", "_selected_action": [attempt.pk]},
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    entry = AuditLog.objects.get(action=AuditAction.UNLOCK)
    assert entry.actor == world.users["secadmin"]
    assert entry.detail["username"] == user.username
    assert _attempt(Client(enforce_csrf_checks=True), user.username, PASSWORD).status_code == 302


def test_only_security_admin_can_unlock(world, login):
    for key in ("sysadmin", "auditadmin", "county"):
        response = login(world.users[key]).get(reverse("admin:axes_accessattempt_changelist"))
        assert response.status_code == 403, key


# --- login messages and CSRF ------------------------------------------------


def test_failure_message_does_not_say_which_field(world):
    unknown = _attempt(Client(enforce_csrf_checks=True), "nobody-here", "whatever", ip="10.0.0.9")
    wrong = _attempt(Client(enforce_csrf_checks=True), "county", "wrong", ip="10.0.0.8")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()


def test_inactive_user_gets_the_same_message(world):
    user = world.users["county"]
    user.is_active = False
    user.save()
    response = _attempt(Client(enforce_csrf_checks=True), user.username, PASSWORD)
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_login_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "county", "password": PASSWORD})
    assert response.status_code == 403


def test_login_page_is_chinese(client):
    page = client.get(reverse("login")).content.decode()
    assert "登录" in page and "用户名" in page and "密码" in page


# --- passwords --------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Ab1!short",  # 9 characters
        "abcdefghijkl",  # one class
        "abcdefgh1234",  # two classes
        "Password1234",  # common (three classes, long enough)
        "zhangwei2024X!",  # too similar to the username
    ],
)
def test_password_rules_refuse(password):
    user = User(username="zhangwei2024", full_name="张伟", role=Role.CADRE)
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_password_rules_accept_a_good_one():
    user = User(username="zhangwei2024", full_name="张伟", role=Role.CADRE)
    validate_password("Tu8#kLm2-Qw", user)


def test_password_older_than_90_days_must_be_changed(world, login):
    user = world.users["county"]
    client = login(user)
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change")
    # changing it lets the user in again, and is audited
    response = csrf_post(
        client,
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Fresh#Pass-2027",
            "new_password2": "Fresh#Pass-2027",
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditLog.objects.filter(action=AuditAction.PASSWORD_CHANGE, actor=user).exists()


def test_password_younger_than_90_days_is_fine(world, login):
    user = world.users["county"]
    client = login(user)
    User.objects.filter(pk=user.pk).update(password_changed_at=timezone.now() - timedelta(days=89))
    assert client.get("/").status_code == 200


# --- sessions ---------------------------------------------------------------


def test_login_gives_a_new_session_key(world):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.cookies["sessionid"].value
    _attempt(client, "county", PASSWORD)
    after = client.cookies["sessionid"].value
    assert before != after
    assert not UserSession.objects.filter(session_key=before).exists()


def _age_session(client: Client, **seconds_ago) -> None:
    session = client.session
    now = time.time()
    if "started" in seconds_ago:
        session[SESSION_STARTED] = now - seconds_ago["started"]
    if "seen" in seconds_ago:
        session[SESSION_SEEN] = now - seconds_ago["seen"]
    session.save()


def test_idle_session_times_out_after_30_minutes(world, login):
    client = login(world.users["county"])
    _age_session(client, seen=29 * 60)
    assert client.get("/").status_code == 200
    _age_session(client, seen=31 * 60)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.get("/").status_code == 302
    assert AuditLog.objects.filter(action=AuditAction.SESSION_EXPIRED).exists()


def test_session_ends_after_12_hours_even_when_active(world, login):
    client = login(world.users["county"])
    _age_session(client, started=11 * 3600 + 3000, seen=10)
    assert client.get("/").status_code == 200
    _age_session(client, started=12 * 3600 + 10, seen=10)
    assert client.get("/").status_code == 302


def test_server_side_session_expiry_is_sliding(world, login, settings):
    client = login(world.users["county"])
    key = client.cookies["sessionid"].value
    row = UserSession.objects.get(session_key=key)
    expected = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_TIMEOUT)
    assert abs((row.expire_date - expected).total_seconds()) < 60
    assert row.user == world.users["county"]


def test_logout_kills_the_session(world, login):
    client = login(world.users["county"])
    key = client.cookies["sessionid"].value
    stolen = Client()
    stolen.cookies["sessionid"] = key
    assert stolen.get("/").status_code == 200
    response = csrf_post(client, reverse("logout"))
    assert response.status_code == 302
    assert not UserSession.objects.filter(session_key=key).exists()
    assert stolen.get("/").status_code == 302
    assert _actions("county")[-1] == AuditAction.LOGOUT


def test_logout_by_get_is_not_allowed(world, login):
    client = login(world.users["county"])
    assert client.get(reverse("logout")).status_code == 405


def test_deactivation_ends_every_session(world, login):
    user = world.users["county"]
    first, second = login(user), login(user)
    user.is_active = False
    services.user_update(actor=world.users["sysadmin"], user=user, changed=["is_active"])
    assert not UserSession.objects.filter(user=user).exists()
    assert first.get("/").status_code == 302
    assert second.get("/").status_code == 302


# --- audit rows -------------------------------------------------------------


def test_login_success_and_failure_are_audited_with_ip(world):
    _attempt(Client(enforce_csrf_checks=True), "county", "wrong", ip="192.0.2.10")
    _attempt(Client(enforce_csrf_checks=True), "county", PASSWORD, ip="192.0.2.11")
    failed = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.username == "county" and not failed.success
    assert failed.ip_address == "192.0.2.10"
    ok = AuditLog.objects.get(action=AuditAction.LOGIN)
    assert ok.actor == world.users["county"] and ok.success and ok.ip_address == "192.0.2.11"
    assert ok.created_at.tzinfo is not None
    # no password anywhere in the log
    assert not AuditLog.objects.filter(detail__icontains="wrong").exists()


def test_forged_username_cannot_forge_log_lines(world):
    _attempt(Client(enforce_csrf_checks=True), "evil\nadmin login ok\x1b[2J", "x")
    entry = AuditLog.objects.get(action=AuditAction.LOGIN_FAILED)
    assert "\n" not in entry.username and "\x1b" not in entry.username
    assert entry.username.startswith("evil\\x0a")


def test_audit_log_cannot_be_changed_by_the_application(world):
    services.password_changed(user=world.users["county"])
    entry = AuditLog.objects.get()
    entry.username = "someone-else"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(username="x")


def test_database_refuses_to_update_audit_rows(world):
    services.password_changed(user=world.users["county"])
    with pytest.raises(Exception) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditlog SET username = 'x'")
    assert "append-only" in str(excinfo.value)


@pytest.mark.postgres
def test_database_refuses_to_delete_recent_audit_rows(world):
    services.password_changed(user=world.users["county"])
    with pytest.raises(Exception) as excinfo, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditlog")
    assert "kept" in str(excinfo.value)


def test_audit_write_failure_rolls_back_the_change(world, monkeypatch):
    """The audit row is part of the change: if it cannot be written, nothing is."""
    from core import audit

    user = world.users["county"]

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.user_assign_role(
            actor=world.users["secadmin"], user=user, role=Role.INSPECTOR, scope_area=world.county
        )
    user.refresh_from_db()
    assert user.role == Role.COUNTY_OFFICE


# --- three separated administrators -----------------------------------------


def test_admin_roles_hold_disjoint_permissions():
    sets = [ROLE_PERMISSIONS[role] for role in ADMIN_ROLES]
    for i, first in enumerate(sets):
        assert first, ADMIN_ROLES[i]
        for second in sets[i + 1 :]:
            assert not first & second


def test_role_permissions_exist():
    from django.contrib.auth.models import Permission

    known = {
        f"{app}.{code}"
        for app, code in Permission.objects.values_list("content_type__app_label", "codename")
    }
    for role, perms in ROLE_PERMISSIONS.items():
        assert perms <= known, (role, perms - known)


def test_admin_roles_have_no_business_data(world, login):
    for key in ("sysadmin", "secadmin", "auditadmin"):
        client = login(world.users[key])
        assert client.get(reverse("area_detail", args=[world.county.pk])).status_code == 404


def test_user_cannot_hold_two_roles_and_nobody_is_superuser(world):
    user = world.users["sysadmin"]
    assert user.get_all_permissions() == set(ROLE_PERMISSIONS[Role.SYSTEM_ADMIN])
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_superuser=True)
    with pytest.raises(ValidationError):
        User.objects.create_superuser("root2", password=PASSWORD, role=Role.SYSTEM_ADMIN)


def test_groups_and_user_permissions_grant_nothing(world):
    from django.contrib.auth.models import Group, Permission

    cadre = world.users["cadre"]
    group = Group.objects.create(name="sneaky")
    group.permissions.add(Permission.objects.get(codename="view_auditlog"))
    cadre.groups.add(group)
    cadre.user_permissions.add(Permission.objects.get(codename="change_user"))
    cadre = User.objects.get(pk=cadre.pk)
    assert not cadre.has_perm("core.view_auditlog")
    assert not cadre.has_perm("core.change_user")


def test_security_admin_assigns_roles_not_to_self(world, login):
    secadmin = world.users["secadmin"]
    target = world.users["cadre"]
    client = login(secadmin)
    url = reverse("admin:core_roleassignment_change", args=[target.pk])
    response = csrf_post(
        client,
        url,
        {"role": Role.TOWNSHIP_OFFICE, "scope_area": world.township.pk, "scope_unit": ""},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.TOWNSHIP_OFFICE and target.is_staff
    entry = AuditLog.objects.get(action=AuditAction.ROLE_CHANGE)
    assert entry.detail["before"]["role"] == Role.CADRE
    own = client.get(reverse("admin:core_roleassignment_change", args=[secadmin.pk]))
    assert own.status_code in (302, 403) or "readonly" in own.content.decode()
    response = csrf_post(
        client,
        reverse("admin:core_roleassignment_change", args=[secadmin.pk]),
        {"role": Role.AUDIT_ADMIN, "scope_area": "", "scope_unit": ""},
    )
    secadmin.refresh_from_db()
    assert secadmin.role == Role.SECURITY_ADMIN


def test_scope_must_match_role(world):
    with pytest.raises(ValidationError):
        services.user_assign_role(
            actor=world.users["secadmin"],
            user=world.users["cadre"],
            role=Role.TOWNSHIP_OFFICE,
            scope_area=world.county,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=world.users["cadre"].pk).update(role=Role.COUNTY_OFFICE)


def test_system_admin_creates_accounts_without_roles(world, login):
    client = login(world.users["sysadmin"])
    response = csrf_post(
        client,
        reverse("admin:core_user_add"),
        {
            "username": "newclerk",
            "full_name": "新 职员",
            "email": "",
            "password1": "Clerk#Start-2026",
            "password2": "Clerk#Start-2026",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="newclerk")
    assert user.role == Role.PENDING and user.must_change_password
    assert AuditLog.objects.filter(action=AuditAction.USER_CREATE, object_id=str(user.pk)).exists()
    # the system administrator cannot reach role assignment
    assert client.get(reverse("admin:core_roleassignment_changelist")).status_code == 403


def test_new_user_is_created_with_a_fresh_password_to_change(world):
    user = make_user("plain", Role.CADRE)
    assert not user.password_expired(90)
