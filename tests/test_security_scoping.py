"""Scope and authentication holes found by trying them with the test client:
rows of a cadre's earlier or later stations, an API token past its lifetime,
and the login page's ``next``. Each is tested both ways."""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from attendance.choices import ApprovalLevel, LeaveStatus
from attendance.models import HelpLog, LeaveRequest, SignIn
from tests.factories import PASSWORD
from tests.teams.factories import make_cadre, make_team, station

MOVED_ON = datetime.date(2025, 12, 31)
BEFORE = datetime.date(2025, 6, 2)  # stationed in 一村 (甲镇)
AFTER = datetime.date(2026, 3, 2)  # stationed in 二村 (乙镇)


def token_client(user, *, age: datetime.timedelta = datetime.timedelta(0)) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - age)
    return Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token.key}")


@pytest.fixture
def moved(world):
    """A cadre stationed in 一村 (甲镇) until the end of 2025, in 二村 (乙镇) since."""
    cadre = make_cadre(world.unit, "钱七")
    earlier = station(
        cadre,
        make_team(world.village),
        start=datetime.date(2025, 1, 1),
        end_date=MOVED_ON,
        end_reason="调整",
    )
    later = station(cadre, make_team(world.other_village), start=datetime.date(2026, 1, 1))
    return cadre, earlier, later


def _leave(cadre, membership, day) -> LeaveRequest:
    return LeaveRequest.objects.create(
        cadre=cadre,
        membership=membership,
        kind="leave",
        leave_type="病假",
        start_date=day,
        end_date=day,
        working_days=1,
        reason="就医",
        status=LeaveStatus.PENDING_TOWNSHIP,
        final_level=ApprovalLevel.TOWNSHIP,
    )


@pytest.mark.django_db
def test_leave_api_lists_only_requests_made_in_the_area(world, moved):
    cadre, earlier, later = moved
    old = _leave(cadre, earlier, BEFORE)
    new = _leave(cadre, later, AFTER)

    def ids(key):
        response = token_client(world.users[key]).get("/api/v1/leave-requests/")
        assert response.status_code == 200, key
        return sorted(row["id"] for row in response.json()["results"])

    # the request made in 乙镇 is not 甲镇's business (its reason is health data)
    assert ids("township") == [old.pk]
    assert ids("leader") == [old.pk]
    assert ids("inspector") == [old.pk]
    assert ids("other_township") == [new.pk]
    assert ids("county") == sorted([old.pk, new.pk])
    assert ids("unit") == sorted([old.pk, new.pk])
    assert ids("far_county") == []


@pytest.mark.django_db
def test_help_logs_of_another_station_are_not_shown(world, moved):
    cadre, _, _ = moved
    old = HelpLog.objects.create(cadre=cadre, date=BEFORE, content="走访一村")
    new = HelpLog.objects.create(cadre=cadre, date=AFTER, content="走访二村")

    def ids(key, month):
        response = token_client(world.users[key]).get(f"/api/v1/help-logs/?month={month}")
        assert response.status_code == 200, key
        return [row["id"] for row in response.json()["results"]]

    assert ids("township", "2026-03") == []
    assert ids("leader", "2026-03") == []
    assert ids("other_township", "2026-03") == [new.pk]
    assert ids("township", "2025-06") == [old.pk]
    assert ids("other_township", "2025-06") == []
    assert ids("county", "2026-03") == [new.pk]


@pytest.mark.django_db
def test_admin_sign_ins_and_help_logs_stay_in_the_area(world, moved, login):
    cadre, earlier, later = moved
    signed = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    signin = SignIn.objects.create(
        client_id=uuid.uuid4(),
        cadre=cadre,
        membership=later,
        village=world.other_village,
        signed_at=signed,
        date=AFTER,
        half="am",
    )
    log = HelpLog.objects.create(cadre=cadre, date=AFTER, content="走访二村")
    township = login(world.users["township"])
    other = login(world.users["other_township"])
    for name, obj in (("signin", signin), ("helplog", log)):
        changelist = reverse(f"admin:attendance_{name}_changelist")
        change = reverse(f"admin:attendance_{name}_change", args=[obj.pk])
        missing = reverse(f"admin:attendance_{name}_change", args=[987654])
        assert "钱七" not in township.get(changelist).content.decode(), name
        assert "钱七" in other.get(changelist).content.decode(), name
        assert other.get(change).status_code == 200, name
        refused, absent = township.get(change), township.get(missing)
        assert refused.status_code == absent.status_code == 302, name
        assert refused["Location"] == absent["Location"], name


@pytest.mark.django_db
def test_monthly_api_refuses_an_expired_token(world, settings):
    url = "/api/v1/attendance/monthly/?month=2026-03"
    stale = token_client(world.users["county"], age=datetime.timedelta(days=2))
    assert stale.get(url).status_code == 401
    fresh = token_client(world.users["county"])
    assert fresh.get(url).status_code == 200


@pytest.mark.django_db
def test_monthly_api_refuses_a_token_of_an_expired_password(world):
    user = world.users["county"]
    client = token_client(user)
    user.password_changed_at = timezone.now() - datetime.timedelta(days=365)
    user.save(update_fields=["password_changed_at"])
    assert client.get("/api/v1/attendance/monthly/?month=2026-03").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example/", "https:evil.example"],
)
def test_login_next_cannot_leave_the_site(world, target):
    response = Client().post(
        f"/accounts/login/?next={target}",
        {"username": "county", "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    assert "evil" not in response["Location"]


@pytest.mark.django_db
def test_login_next_on_the_site_is_followed(world):
    response = Client().post(
        "/accounts/login/?next=/cadres/",
        {"username": "county", "password": PASSWORD, "next": "/cadres/"},
    )
    assert response["Location"] == "/cadres/"
