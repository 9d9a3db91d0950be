"""Platform promises of docs/security.md: ``check --deploy`` is clean on the
production settings, and DEBUG is off everywhere but local development."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_on_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kaitai.settings.production",
        "SECRET_KEY": "k" * 20 + "-production-like-secret-0123456789-abcdefghijklmnop",
        "ALLOWED_HOSTS": "kaitai.example.gov.cn",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "FIELD_ENCRYPTION_KEY": "f" * 32,
        "DEBUG": "true",  # production ignores it
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_under_test_settings():
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_a_missing_page_is_the_generic_404(world, login):
    response = login(world.users["county"]).get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Traceback" not in page and "urlpatterns" not in page and "kaitai.urls" not in page
