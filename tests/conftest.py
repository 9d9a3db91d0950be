"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium are skipped,
with the reason, when those are not configured; with KAITAI_REQUIRE_ALL=1 (CI)
any skipped test fails the run."""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.factories import PASSWORD, make_world

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or ""


def pytest_collection_modifyitems(config, items):
    is_pg = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_redis = bool(getattr(settings, "REDIS_URL", ""))
    for item in items:
        if "postgres" in item.keywords and not is_pg:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))
        if "browser" in item.keywords and not CHROMIUM:
            item.add_marker(pytest.mark.skip(reason="needs Chromium (apt-get install chromium)"))


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("KAITAI_REQUIRE_ALL") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"KAITAI_REQUIRE_ALL=1: {skipped} test(s) were skipped", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _tasks_in_process(request, monkeypatch):
    """Tasks run in the test's process even when REDIS_URL points at a broker:
    only tests marked celery_worker start a real worker to consume the queue."""
    if request.node.get_closest_marker("celery_worker"):
        return
    from kaitai.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setitem(app.conf, "task_eager_propagates", True)


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def login():
    """login(user) -> a CSRF-enforcing client logged in through the real login form."""

    def _login(user, password: str = PASSWORD) -> Client:
        client = Client(enforce_csrf_checks=True)
        page = client.get("/accounts/login/")
        token = page.cookies["csrftoken"].value
        response = client.post(
            "/accounts/login/",
            {"username": user.username, "password": password, "csrfmiddlewaretoken": token},
        )
        assert response.status_code == 302, response.content.decode()[:500]
        return client

    return _login


def csrf_post(client: Client, url: str, data: dict | None = None, **extra):
    """POST with the CSRF token the way a browser sends it."""
    if "csrftoken" not in client.cookies:
        client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    payload = dict(data or {})
    payload["csrfmiddlewaretoken"] = token
    return client.post(url, payload, **extra)


@pytest.fixture
def db_vendor():
    return connection.vendor
