"""The sign-in API: tokens (throttled, audited, django-axes lockout), sign-ins
and help logs with their shapes and status codes, 401/403 in JSON, Chinese
validation errors, scoping both ways, and the OpenAPI schema."""

from __future__ import annotations

import datetime
import json
import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.authtoken.models import Token

from attendance.models import HelpLog, SignIn
from core.models import AuditLog
from tests.attendance import test_signins as base
from tests.attendance.test_signins import (
    DAY,
    add_cadre,
    jpeg_with_location,
    local,
    north,
    sign,
    upload,
)
from tests.factories import PASSWORD

# the shared fixtures of test_signins
clock = base.clock
media = base.media
st = base.st

CJK = re.compile(r"[\u4e00-\u9fff]")
SIGNIN_KEYS = {
    "id",
    "client_id",
    "cadre",
    "cadre_name",
    "village",
    "village_name",
    "signed_at",
    "date",
    "half",
    "distance_m",
    "accuracy",
    "taken_at",
    "in_area",
    "accepted",
    "counts",
    "repeat",
    "state",
    "reason",
    "photo",
}


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()  # throttle counters live in the cache
    yield
    cache.clear()


def api() -> Client:
    return Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")


def get_token(username: str, password: str = PASSWORD, client: Client | None = None):
    return (client or api()).post(
        reverse("api_token"),
        {"username": username, "password": password},
        content_type="application/json",
    )


def token_client(user) -> Client:
    response = get_token(user.username)
    assert response.status_code == 200, response.content
    client = api()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {response.json()['token']}"
    return client


def body(metres: float = 0, client_id=None, **extra) -> dict:
    lat, lng = north(metres)
    data = {
        "client_id": str(client_id or uuid.uuid4()),
        "latitude": lat,
        "longitude": lng,
        "accuracy": 15,
    }
    data.update(extra)
    return data


def post_json(client: Client, url: str, data: dict):
    return client.post(url, json.dumps(data), content_type="application/json")


def zh(message) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


# --- tokens ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_for_username_and_password(st):
    response = get_token("cadre")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"token", "expires_at", "username", "role"}
    assert data["username"] == "cadre" and data["role"] == "cadre"
    assert Token.objects.get(user=st.user).key == data["token"]
    entry = AuditLog.objects.filter(action="login", actor=st.user).latest("pk")
    assert entry.detail == {"via": "api_token"}
    client = api()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {data['token']}"
    assert client.get(reverse("api_signins")).status_code == 200


@pytest.mark.django_db
def test_logging_in_again_ends_the_old_token(st):
    old = get_token("cadre").json()["token"]
    get_token("cadre")
    client = api()
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {old}"
    assert client.get(reverse("api_signins")).status_code == 401


@pytest.mark.django_db
def test_a_wrong_password_says_nothing_about_which_field(world):
    wrong = get_token("cadre", PASSWORD + "x")
    unknown = get_token("nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.json()
        == unknown.json()
        == {"non_field_errors": [zh("The username or password is incorrect.")]}
    )
    assert CJK.search(wrong.json()["non_field_errors"][0])
    assert AuditLog.objects.filter(action="login_failed", username="cadre", success=False).exists()
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_lockout_after_five_failures_even_with_the_right_password(world):
    for _ in range(5):
        assert get_token("cadre", "wrong-password").status_code in (400, 429)
    locked = get_token("cadre")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert CJK.search(locked.json()["detail"])
    assert not Token.objects.exists()
    # the same username from another address is not locked (a NAT'd office)
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert get_token("cadre", client=other).status_code == 200


@pytest.mark.django_db
def test_a_lockout_from_the_login_page_holds_for_the_api(world):
    page = Client()
    for _ in range(5):
        page.post(reverse("login"), {"username": "township", "password": "nope"})
    assert get_token("township").status_code == 429


@pytest.mark.django_db
def test_token_requests_are_throttled_and_audited(world):
    statuses = [get_token("cadre", f"wrong-{i}").status_code for i in range(11)]
    assert statuses[-1] == 429
    response = get_token("county")  # another username is still served
    assert response.status_code == 200
    assert AuditLog.objects.filter(
        action="login_failed", detail__throttled=True, username="cadre"
    ).exists()


@pytest.mark.django_db
def test_administrators_and_expired_passwords_get_no_token(world):
    for key in ("sysadmin", "secadmin", "auditadmin"):
        response = get_token(world.users[key].username)
        assert response.status_code == 403, key
    user = world.users["township"]
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    response = get_token("township")
    assert response.status_code == 403
    assert response.json()["detail"] == zh("Your password has expired. Please set a new one.")
    assert not Token.objects.exists()


@pytest.mark.django_db
def test_an_old_token_expires(st, settings):
    client = token_client(st.user)
    token = Token.objects.get(user=st.user)
    Token.objects.filter(pk=token.pk).update(
        created=token.created - datetime.timedelta(seconds=settings.SESSION_ABSOLUTE_TIMEOUT + 1)
    )
    response = client.get(reverse("api_signins"))
    assert response.status_code == 401
    assert response.json()["detail"] == zh("The token has expired. Log in again.")


@pytest.mark.django_db
def test_the_token_endpoint_needs_no_login_and_answers_json(world):
    response = api().get(reverse("api_token"))
    assert response.status_code == 405 and response["Content-Type"] == "application/json"


# --- sign-ins ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_gets_401_json_not_a_login_page(world):
    for name in ("api_signins", "api_help_logs"):
        response = api().get(reverse(name))
        assert response.status_code == 401, name
        assert response["WWW-Authenticate"] == "Token"
        assert CJK.search(response.json()["detail"])
        assert post_json(api(), reverse(name), {}).status_code == 401


@pytest.mark.django_db
def test_sign_in_answers_201_then_200_for_the_same_client_id(st, clock):
    clock.now = local(DAY, 9, 30)
    client = token_client(st.user)
    data = body(metres=120, taken_at="2026-03-10T09:29:55+08:00")
    first = post_json(client, reverse("api_signins"), data)
    assert first.status_code == 201, first.content
    got = first.json()
    assert set(got) == SIGNIN_KEYS
    assert got["client_id"] == data["client_id"]
    assert got["date"] == "2026-03-10" and got["half"] == "am"
    assert got["distance_m"] == 120 and got["in_area"] and got["counts"]
    assert not got["repeat"] and got["state"] == "counts" and got["reason"] == ""
    assert got["cadre"] == st.cadre.pk and got["village"] == st.world.village.pk
    assert got["signed_at"].startswith("2026-03-10T09:30:00")
    assert got["photo"] is None
    assert "latitude" not in got and "longitude" not in got
    again = post_json(client, reverse("api_signins"), data)
    assert again.status_code == 200 and again.json() == got
    assert SignIn.objects.count() == 1


@pytest.mark.django_db
def test_repeat_out_of_area_and_outside_hours_say_why(st, clock):
    client = token_client(st.user)
    clock.now = local(DAY, 8, 0)
    assert post_json(client, reverse("api_signins"), body()).json()["counts"]
    repeat = post_json(client, reverse("api_signins"), body()).json()
    assert repeat["repeat"] and not repeat["counts"] and repeat["state"] == "repeat"
    assert CJK.search(repeat["reason"]) or repeat["reason"]
    clock.now = local(DAY, 14, 0)
    out = post_json(client, reverse("api_signins"), body(metres=2500)).json()
    assert not out["in_area"] and not out["counts"] and not out["repeat"]
    assert out["state"] == "out_of_area" and "2500" in out["reason"]
    clock.now = local(DAY, 22, 0)
    late = post_json(client, reverse("api_signins"), body()).json()
    assert late["half"] == "" and late["state"] == "outside_hours" and not late["repeat"]


@pytest.mark.django_db
def test_the_device_time_never_decides_the_half(st, clock):
    clock.now = local(DAY, 22, 30)
    client = token_client(st.user)
    got = post_json(
        client, reverse("api_signins"), body(taken_at="2026-03-10T09:00:00+08:00")
    ).json()
    assert got["half"] == "" and not got["counts"]
    assert got["taken_at"].startswith("2026-03-10T09:00:00")


@pytest.mark.django_db
def test_validation_errors_are_chinese(st, clock):
    client = token_client(st.user)
    response = post_json(client, reverse("api_signins"), {"latitude": 91, "longitude": "东经"})
    assert response.status_code == 400
    errors = response.json()
    assert errors["client_id"] == ["该字段是必填项。"]
    assert set(errors) == {"client_id", "latitude", "longitude"}
    for messages in errors.values():
        assert all(CJK.search(m) for m in messages), messages
    bad_uuid = post_json(client, reverse("api_signins"), body(client_id="not-a-uuid"))
    assert bad_uuid.json()["client_id"] == ["必须是有效的 UUID。"]
    assert not SignIn.objects.exists()


@pytest.mark.django_db
def test_a_cadre_without_a_membership_is_told_why(world, clock):
    client = token_client(world.users["cadre"])  # no cadre record
    response = post_json(client, reverse("api_signins"), body())
    assert response.status_code == 400
    (message,) = response.json()["non_field_errors"]
    assert message == zh(
        "Your account is not linked to a cadre record, so you cannot sign in. "
        "Ask your township office."
    )


@pytest.mark.django_db
def test_offices_cannot_sign_in_and_it_is_audited(st, clock):
    client = token_client(st.world.users["township"])
    response = post_json(client, reverse("api_signins"), body())
    assert response.status_code == 403 and CJK.search(response.json()["detail"])
    assert AuditLog.objects.filter(
        action="denied", actor=st.world.users["township"], success=False
    ).exists()


@pytest.mark.django_db
def test_a_photo_in_multipart(st, clock, media):
    client = token_client(st.user)
    data = body()
    data["photo"] = upload(jpeg_with_location())
    response = client.post(reverse("api_signins"), data)
    assert response.status_code == 201, response.content
    photo = response.json()["photo"]
    assert photo.endswith(reverse("signin_photo", kwargs={"pk": response.json()["id"]}))
    data["photo"] = upload(b"GIF89a not allowed", "x.gif")
    data["client_id"] = str(uuid.uuid4())
    refused = client.post(reverse("api_signins"), data)
    assert refused.status_code == 400
    assert refused.json()["photo"] == [
        zh("%(name)s is not a JPEG, PNG or WebP image.") % {"name": "x.gif"}
    ]
    assert SignIn.objects.count() == 1


@pytest.mark.django_db
def test_the_browser_session_needs_its_csrf_token(st, clock, login):
    client = login(st.user)
    assert post_json(client, reverse("api_signins"), body()).status_code == 403
    token = client.cookies["csrftoken"].value
    response = client.post(
        reverse("api_signins"),
        json.dumps(body()),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 201


@pytest.mark.django_db
def test_listing_is_scoped_both_ways(st, clock):
    sign(st.user, local(DAY, 8, 0))
    sign(st.other_user, local(DAY, 8, 0))
    url = f"{reverse('api_signins')}?date={DAY.isoformat()}"

    def names(user):
        response = token_client(user).get(url)
        assert response.status_code == 200
        return sorted(r["cadre_name"] for r in response.json()["results"])

    assert names(st.world.users["township"]) == ["王五"]
    assert names(st.world.users["other_township"]) == ["赵六"]
    assert names(st.world.users["county"]) == ["王五", "赵六"]
    assert names(st.world.users["far_county"]) == []
    assert names(st.user) == ["王五"]  # a cadre sees their own only
    assert names(st.other_user) == ["赵六"]
    # asking for another cadre by id gives nothing, not their rows
    other = token_client(st.user).get(f"{url}&cadre={st.other_cadre.pk}").json()
    assert other["count"] == 0 and other["results"] == []
    assert token_client(st.world.users["unit"]).get(url).status_code == 403


@pytest.mark.django_db
def test_list_shape_and_default_day(st, clock):
    sign(st.user, local(DAY, 8, 0))
    response = token_client(st.user).get(f"{reverse('api_signins')}?date=2026-03-10")
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 1 and set(data["results"][0]) == SIGNIN_KEYS
    bad = token_client(st.user).get(f"{reverse('api_signins')}?date=10/03/2026")
    assert bad.status_code == 400 and CJK.search(bad.json()["date"][0])


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 20])
def test_listing_runs_a_fixed_number_of_queries(st, clock, django_assert_max_num_queries, count):
    for i in range(count):
        user, _ = add_cadre(st.world, f"api{count}_{i}", st.world.village, name=f"干部{i}")
        sign(user, local(DAY, 8, 0), metres=3000 if i % 2 else 0)
    client = token_client(st.world.users["township"])
    url = f"{reverse('api_signins')}?date={DAY.isoformat()}"
    # token + user, the user's scope area, count, page, county settings
    with django_assert_max_num_queries(5):
        response = client.get(url)
    assert response.json()["count"] == count


# --- help logs ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_help_logs_201_then_200_and_listed(st, clock, media):
    clock.now = local(DAY, 20, 0)
    client = token_client(st.user)
    first = client.post(
        reverse("api_help_logs"),
        {"date": "2026-03-10", "content": "走访五户。", "photos": [upload(jpeg_with_location())]},
    )
    assert first.status_code == 201, first.content
    got = first.json()
    assert set(got) == {
        "id",
        "cadre",
        "cadre_name",
        "date",
        "content",
        "photos",
        "created_at",
        "updated_at",
    }
    assert len(got["photos"]) == 1 and set(got["photos"][0]) == {"id", "url"}
    second = post_json(client, reverse("api_help_logs"), {"date": "2026-03-10", "content": "改了"})
    assert second.status_code == 200 and second.json()["id"] == got["id"]
    assert second.json()["content"] == "改了" and len(second.json()["photos"]) == 1
    listed = client.get(f"{reverse('api_help_logs')}?date=2026-03-10").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == got["id"]
    month = client.get(f"{reverse('api_help_logs')}?month=2026-03").json()
    assert month["count"] == 1
    assert client.get(f"{reverse('api_help_logs')}?month=2026-04").json()["count"] == 0


@pytest.mark.django_db
def test_help_log_errors_are_chinese(st, clock):
    clock.now = local(DAY, 20, 0)
    client = token_client(st.user)
    old = post_json(client, reverse("api_help_logs"), {"date": "2026-03-01", "content": "补写"})
    assert old.status_code == 400
    assert old.json()["date"] == [zh("A help log can be written only for today or yesterday.")]
    empty = post_json(client, reverse("api_help_logs"), {"date": "2026-03-10"})
    assert empty.json()["content"] == ["该字段是必填项。"]
    bad_month = client.get(f"{reverse('api_help_logs')}?month=March")
    assert bad_month.status_code == 400
    assert not HelpLog.objects.exists()


@pytest.mark.django_db
def test_help_logs_are_scoped_both_ways(st, clock):
    clock.now = local(DAY, 20, 0)
    post_json(
        token_client(st.user), reverse("api_help_logs"), {"date": "2026-03-10", "content": "我的"}
    )
    post_json(
        token_client(st.other_user),
        reverse("api_help_logs"),
        {"date": "2026-03-10", "content": "他的"},
    )
    url = f"{reverse('api_help_logs')}?date=2026-03-10"

    def contents(user):
        return sorted(r["content"] for r in token_client(user).get(url).json()["results"])

    assert contents(st.user) == ["我的"]
    assert contents(st.other_user) == ["他的"]
    assert contents(st.world.users["township"]) == ["我的"]
    assert contents(st.world.users["other_township"]) == ["他的"]
    assert contents(st.world.users["county"]) == ["他的", "我的"]
    assert contents(st.world.users["far_county"]) == []
    # an office cannot write one
    response = post_json(
        token_client(st.world.users["township"]),
        reverse("api_help_logs"),
        {"date": "2026-03-10", "content": "代写"},
    )
    assert response.status_code == 403


# --- the schema --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_endpoints_are_in_the_openapi_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert {"post"} <= set(paths["/api/v1/auth/token/"])
    assert {"get", "post"} <= set(paths["/api/v1/signins/"])
    assert {"get", "post"} <= set(paths["/api/v1/help-logs/"])
    post = paths["/api/v1/signins/"]["post"]
    assert {"200", "201", "400"} <= set(post["responses"])
    assert "multipart/form-data" in post["requestBody"]["content"]
    listed = paths["/api/v1/signins/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "Paginated" in listed["schema"]["$ref"]
    schemes = schema["components"]["securitySchemes"]
    assert any(
        s.get("type") == "apiKey" and s.get("name") == "Authorization" for s in schemes.values()
    )
    # the token endpoint itself needs no authentication
    assert paths["/api/v1/auth/token/"]["post"].get("security") in (None, [], [{}])
    assert paths["/api/v1/signins/"]["post"]["security"]
