"""The audit administrator searches and exports the log; exports are audited."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core import audit
from core.choices import AuditAction
from core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_search_filters_by_username_and_action(world, login):
    audit.record(action=AuditAction.LOGIN_FAILED, username="alice", success=False)
    audit.record(action=AuditAction.LOGIN_FAILED, username="bob", success=False)
    client = login(world.users["auditadmin"])
    page = client.get(reverse("audit_log"), {"username": "alice", "action": "login_failed"})
    body = page.content.decode()
    assert "alice" in body and "bob" not in body


def test_export_is_excel_escaped_and_audited(world, login):
    audit.record(action=AuditAction.LOGIN_FAILED, username="=HYPERLINK(1)", success=False)
    client = login(world.users["auditadmin"])
    response = client.get(reverse("audit_log_export"), {"action": "login_failed"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "用户名", "IP地址", "操作")
    usernames = [row[1] for row in rows[1:]]
    assert "'=HYPERLINK(1)" in usernames
    assert all(row[3] == "登录失败" or row[3] for row in rows[1:])
    entry = AuditLog.objects.filter(action=AuditAction.EXPORT).get()
    assert entry.actor == world.users["auditadmin"]
    assert entry.detail["rows"] == len(rows) - 1
    assert entry.detail["filters"] == {"action": "login_failed"}


def test_others_are_refused_and_the_refusal_is_audited(world, login):
    client = login(world.users["sysadmin"])
    assert client.get(reverse("audit_log_export")).status_code == 403
    denied = AuditLog.objects.get(action=AuditAction.PERMISSION_DENIED)
    assert not denied.success and denied.actor == world.users["sysadmin"]


def test_admin_audit_log_is_read_only(world, login):
    audit.record(action=AuditAction.LOGIN, username="x")
    entry = AuditLog.objects.get(username="x")
    client = login(world.users["auditadmin"])
    assert client.get(reverse("admin:core_auditlog_changelist")).status_code == 200
    assert client.get(reverse("admin:core_auditlog_delete", args=[entry.pk])).status_code == 403
    assert client.get(reverse("admin:core_auditlog_add")).status_code == 403
