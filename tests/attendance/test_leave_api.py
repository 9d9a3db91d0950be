"""The leave API: create, list, withdraw, return; session (with CSRF) or token
authentication; scope both ways; errors in Chinese."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token

from attendance.choices import LeaveStatus
from attendance.models import LeaveRequest
from core.choices import AuditAction
from core.models import AuditLog
from tests.attendance.test_leave import (
    MON,
    PDF,
    approve,
    approved,
    ask,
    day,
    many,
    setup_leave,
    zh,
)

LIST = "/api/v1/leave-requests/"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def lv(world):
    return setup_leave(world)


def token_client(user) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")


def session_post(client: Client, url: str, data: dict | None = None, **extra):
    """A JSON POST the way a browser client sends it: session cookie + CSRF header."""
    token = client.cookies["csrftoken"].value
    return client.post(
        url, data or {}, content_type="application/json", HTTP_X_CSRFTOKEN=token, **extra
    )


def body(**overrides) -> dict:
    data = {
        "kind": "leave",
        "leave_type": "事假",
        "start_date": MON.isoformat(),
        "start_half": "am",
        "end_date": day(1).isoformat(),
        "end_half": "pm",
        "reason": "家中有事",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_the_urls():
    assert reverse("api_leave_requests") == LIST
    assert reverse("api_leave_request_withdraw", args=[3]) == "/api/v1/leave-requests/3/withdraw/"
    assert reverse("api_leave_request_return", args=[3]) == "/api/v1/leave-requests/3/return/"


@pytest.mark.django_db
def test_create_with_the_session_and_csrf(lv, login):
    client = login(lv.users["cadre"])
    response = session_post(client, LIST, body())
    assert response.status_code == 201, response.content
    data = response.json()
    stored = LeaveRequest.objects.get()
    assert data["id"] == stored.pk
    assert data["status"] == "pending_village"
    assert data["working_days"] == 2.0
    assert data["final_level"] == "township"
    assert data["cadre"] == lv.cadre.pk and data["village"] == lv.world.village.pk
    assert data["decisions"] == [] and data["overdue"] is False
    assert data["attachment_url"] is None
    assert (data["start_half"], data["end_half"]) == ("am", "pm")


@pytest.mark.django_db
def test_the_session_needs_csrf(lv, login):
    client = login(lv.users["cadre"])
    response = client.post(LIST, body(), content_type="application/json")
    assert response.status_code == 403
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_create_with_a_token_and_an_attachment(lv, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = token_client(lv.users["cadre"])
    upload = SimpleUploadedFile("证明.pdf", PDF, content_type="application/pdf")
    response = client.post(LIST, {**body(kind="business", leave_type=""), "attachment": upload})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["kind"] == "business" and data["final_level"] == "township"
    assert data["attachment_url"].endswith(reverse("leave_attachment", args=[data["id"]]))
    assert LeaveRequest.objects.get().attachment.name.endswith(".pdf")


@pytest.mark.django_db
def test_anonymous_gets_401_or_403_in_json(lv, client):
    req = ask(lv.users["cadre"])
    for method, url in (
        ("get", LIST),
        ("post", LIST),
        ("post", reverse("api_leave_request_withdraw", args=[req.pk])),
        ("post", reverse("api_leave_request_return", args=[req.pk])),
    ):
        response = getattr(client, method)(url)
        assert response.status_code in (401, 403), url
        assert response["Content-Type"].startswith("application/json"), url


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": None}, "kind"),
        ({"kind": "vacation"}, "kind"),
        ({"start_date": "2026/03/02"}, "start_date"),
        ({"start_half": "noon"}, "start_half"),
        ({"reason": ""}, "reason"),
        ({"leave_type": "旅游假"}, "leave_type"),
    ],
)
def test_bad_input_is_refused_in_chinese(lv, overrides, field):
    data = {k: v for k, v in body(**overrides).items() if v is not None}
    response = token_client(lv.users["cadre"]).post(LIST, data, content_type="application/json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors
    assert CHINESE.search(" ".join(errors[field])), errors  # DRF's own messages, in zh-hans


@pytest.mark.django_db
def test_the_services_refusals_come_back_as_field_errors(lv, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = token_client(lv.users["cadre"])
    response = client.post(
        LIST, body(end_date=MON.isoformat(), start_half="pm", end_half="am"), "application/json"
    )
    assert response.status_code == 400 and "end_date" in response.json()
    assert client.post(LIST, body(), "application/json").status_code == 201
    overlap = client.post(LIST, body(), "application/json")
    assert overlap.status_code == 400
    assert "non_field_errors" in overlap.json()
    fake = SimpleUploadedFile("a.pdf", b"<html></html>", content_type="application/pdf")
    response = client.post(
        LIST,
        {**body(start_date=day(7).isoformat(), end_date=day(7).isoformat()), "attachment": fake},
    )
    assert response.status_code == 400 and "attachment" in response.json()
    business_type = client.post(
        LIST,
        body(kind="business", start_date=day(14).isoformat(), end_date=day(14).isoformat()),
        "application/json",
    )
    assert business_type.status_code == 400 and "leave_type" in business_type.json()


@pytest.mark.django_db
def test_only_cadres_create(lv):
    for key in ("township", "county", "unit", "inspector"):
        response = token_client(lv.users[key]).post(LIST, body(), "application/json")
        assert response.status_code == 403, key
    assert AuditLog.objects.filter(action=AuditAction.PERMISSION_DENIED, success=False).count() == 4
    assert not LeaveRequest.objects.exists()


@pytest.mark.django_db
def test_the_list_is_scoped(lv):
    u = lv.users
    mine = ask(u["cadre"], start=MON, end=MON)
    theirs = ask(u["cadre2"], start=MON, end=MON)

    def ids(key, query=""):
        response = token_client(u[key]).get(LIST + query)
        assert response.status_code == 200, key
        return sorted(row["id"] for row in response.json()["results"])

    assert ids("cadre") == [mine.pk]
    assert ids("cadre2") == [theirs.pk]
    assert ids("leader") == [mine.pk]
    assert ids("leader2") == [theirs.pk]
    assert ids("township") == [mine.pk]
    assert ids("other_township") == [theirs.pk]
    assert ids("county") == sorted([mine.pk, theirs.pk])
    assert ids("unit") == sorted([mine.pk, theirs.pk])  # both from the unit
    assert ids("far_county") == []
    assert ids("inspector") == [mine.pk]
    assert ids("county", "?status=approved") == []
    assert token_client(u["county"]).get(LIST + "?status=nope").status_code == 400
    assert token_client(u["sysadmin"]).get(LIST).status_code == 403


@pytest.mark.django_db
def test_the_list_shows_decisions_and_the_overdue_flag(lv):
    req = approved(lv, start=MON, end=day(1))
    data = token_client(lv.users["cadre"]).get(LIST).json()["results"][0]
    assert data["id"] == req.pk and data["status"] == "approved"
    assert [d["level"] for d in data["decisions"]] == ["village", "township"]
    assert data["decisions"][0]["approver_name"] == "leader"
    assert data["overdue"] is True  # ended in March 2026, never reported back


@pytest.mark.django_db
def test_the_list_has_a_fixed_number_of_queries(lv, django_assert_max_num_queries):
    client = token_client(lv.users["township"])

    def fill(n, offset):
        for i in range(n):
            approve(
                lv.users["leader"],
                ask(lv.users["cadre"], start=day(offset + 7 * i), end=day(offset + 7 * i)),
            )

    fill(2, 0)
    with django_assert_max_num_queries(10) as small:
        assert client.get(LIST).status_code == 200
    many(lv, 20, day(14))
    with django_assert_max_num_queries(10) as large:
        assert len(client.get(LIST).json()["results"]) == 22
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.django_db
def test_withdraw(lv, login):
    req = ask(lv.users["cadre"])
    url = reverse("api_leave_request_withdraw", args=[req.pk])
    missing = reverse("api_leave_request_withdraw", args=[987654])
    # cadre2 and leader2 cannot see it: the same 404 as a missing one
    for key in ("cadre2", "leader2"):
        client = token_client(lv.users[key])
        assert client.post(url).status_code == client.post(missing).status_code == 404, key
    # the village's leader sees it but is not the applicant
    refused = token_client(lv.users["leader"]).post(url)
    assert refused.status_code == 403
    assert refused.json()["detail"] == zh(_("Only the applicant can do this."))
    # the township may not withdraw at all
    assert token_client(lv.users["township"]).post(url).status_code == 403
    response = session_post(login(lv.users["cadre"]), url)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    again = token_client(lv.users["cadre"]).post(url)
    assert again.status_code == 400 and "non_field_errors" in again.json()


@pytest.mark.django_db
def test_report_the_return(lv):
    req = approved(lv, start=MON, end=day(1))
    url = reverse("api_leave_request_return", args=[req.pk])
    client = token_client(lv.users["cadre"])
    future = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(url, {"returned_on": future}, "application/json")
    assert response.status_code == 400 and "returned_on" in response.json()
    assert token_client(lv.users["cadre2"]).post(url).status_code == 404
    response = client.post(url, {"returned_on": day(2).isoformat()}, "application/json")
    assert response.status_code == 200
    assert response.json()["returned_on"] == day(2).isoformat()
    assert response.json()["overdue"] is False
    # a pending request cannot be reported back; the day defaults to today
    pending = ask(lv.users["cadre"], start=day(7), end=day(7))
    response = client.post(reverse("api_leave_request_return", args=[pending.pk]))
    assert response.status_code == 400
    pending.refresh_from_db()
    assert pending.returned_on is None and pending.status == LeaveStatus.PENDING_VILLAGE


@pytest.mark.django_db
def test_the_schema_documents_the_endpoints(lv, login):
    try:
        url = reverse("api_schema")
    except NoReverseMatch:
        pytest.skip("no schema URL yet")
    response = login(lv.users["county"]).get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/leave-requests/" in text
    assert "/api/v1/leave-requests/{id}/withdraw/" in text
    assert "/api/v1/leave-requests/{id}/return/" in text
