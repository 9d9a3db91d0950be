"""setup_county and seed_demo; migrations complete; production refuses to start bare."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.choices import AreaLevel, AuditAction, Role, UnitLevel
from core.models import Area, AuditLog, DispatchingUnit, User

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _login(client, username: str, password: str) -> bool:
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def test_setup_county_creates_county_and_office_user(client):
    out = io.StringIO()
    call_command(
        "setup_county",
        "开鲁县",
        code="150523",
        admin="kailu_office",
        password="Tu8#kLm2-Qw9",
        stdout=out,
    )
    county = Area.objects.get(level=AreaLevel.COUNTY, name="开鲁县")
    assert county.code == "150523" and county.kind == "县"
    user = User.objects.get(username="kailu_office")
    assert user.role == Role.COUNTY_OFFICE and user.scope_area == county and user.is_staff
    assert AuditLog.objects.filter(action=AuditAction.USER_CREATE, object_id=str(user.pk)).exists()
    assert _login(client, "kailu_office", "Tu8#kLm2-Qw9")
    assert "开鲁县" in client.get("/").content.decode()


def test_setup_county_banner_and_no_admin():
    call_command("setup_county", "科左中旗", stdout=io.StringIO())
    assert Area.objects.get(name="科左中旗").kind == "旗"
    assert not User.objects.exists()


def test_setup_county_refuses_weak_password_and_writes_nothing():
    with pytest.raises(CommandError):
        call_command("setup_county", "弱县", admin="weak", password="123456", stdout=io.StringIO())
    assert not Area.objects.filter(name="弱县").exists()
    assert not User.objects.filter(username="weak").exists()


def test_setup_county_refuses_bad_code():
    with pytest.raises(CommandError):
        call_command("setup_county", "错县", code="12AB", stdout=io.StringIO())
    assert not Area.objects.filter(name="错县").exists()


def test_seed_demo_builds_kailu_scale_and_is_idempotent(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    county = Area.objects.get(level=AreaLevel.COUNTY)
    assert Area.objects.filter(level=AreaLevel.TOWNSHIP, county=county).count() == 12
    assert Area.objects.filter(level=AreaLevel.VILLAGE, county=county).count() == 254
    units = DispatchingUnit.objects.filter(county=county)
    assert units.filter(level=UnitLevel.COUNTY).count() == 89
    assert units.filter(level=UnitLevel.TOWNSHIP, township__isnull=False).count() == 12
    roles = set(User.objects.values_list("role", flat=True))
    assert roles == {r.value for r in Role if r != Role.PENDING}
    text = out.getvalue()
    assert "demo_county" in text and "Kaitai#2026demo" in text
    call_command("seed_demo", stdout=io.StringIO())
    assert Area.objects.filter(level=AreaLevel.VILLAGE).count() == 254
    # each demo login works and lands on a page
    for username in User.objects.filter(username__startswith="demo_").values_list(
        "username", flat=True
    ):
        assert _login(client, username, "Kaitai#2026demo"), username
        assert client.get("/").status_code == 200, username
        client.post(reverse("logout"))


def test_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", stdout=io.StringIO())


def test_production_settings_refuse_to_start_without_secrets():
    env = dict(os.environ)
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "FIELD_ENCRYPTION_KEY"):
        env.pop(name, None)
    env["DJANGO_SETTINGS_MODULE"] = "kaitai.settings.production"
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "DATABASE_URL" in result.stderr


def test_create_admin_user_makes_one_of_the_three():
    call_command(
        "create_admin_user",
        "audit1",
        role="audit_admin",
        password="Tu8#kLm2-Qw9",
        stdout=io.StringIO(),
    )
    user = User.objects.get(username="audit1")
    assert user.role == Role.AUDIT_ADMIN and user.is_staff and not user.is_superuser
    assert user.must_change_password
    with pytest.raises(CommandError):
        call_command("create_admin_user", "x", role="county_office", password="Tu8#kLm2-Qw9")
