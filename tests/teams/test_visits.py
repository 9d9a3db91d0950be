"""Household visits: the monthly table (scoped, month boundaries in local time,
cadres under 4 highlighted, unvisited households listed) and recording a visit
with photos (checked by content), through the service with its audit row."""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.choices import AuditAction
from core.models import AuditLog
from teams import services_visits
from teams.models import Visit, VisitPhoto
from tests.attendance.test_signins import (
    GPS_RATIONALS,
    jpeg_with_location,
    png_with_exif,
    webp_with_exif,
)
from tests.conftest import csrf_post
from tests.teams.factories import make_cadre, make_household, pair, visit

pytestmark = pytest.mark.django_db

MAY = datetime.date(2024, 5, 1)
# Small but well-formed images (the checks walk their chunks and segments).
PNG = png_with_exif()
JPEG = jpeg_with_location()
WEBP = webp_with_exif()


@dataclass
class Visits:
    sun: object  # pairing cadre of h1 and h2 (一村, 甲镇)
    wang: object  # pairing cadre of h4 (二村, 乙镇)
    h1: object
    h2: object
    h4: object
    lonely: object  # 一村, no pairing


def visits_world(world) -> Visits:
    """May 2024: 孙 visits h1 on 1, 15 and 31 May (3: under 4; also 30 April and
    1 June, which do not count) and never h2; 王 visits h4 four times."""
    sun = make_cadre(world.unit, "孙七")
    wang = make_cadre(world.other_unit, "王五")
    h1 = make_household(world.village, "钱一")
    h2 = make_household(world.village, "钱二")
    h4 = make_household(world.other_village, "钱四")
    lonely = make_household(world.village, "钱三")
    pair(sun, h1)
    pair(sun, h2)
    pair(wang, h4)
    for day in (datetime.date(2024, 4, 30), MAY, datetime.date(2024, 5, 15)):
        visit(sun, h1, day)
    visit(sun, h1, datetime.date(2024, 5, 31))
    visit(sun, h1, datetime.date(2024, 6, 1))
    for day in (2, 9, 16, 23):
        visit(wang, h4, datetime.date(2024, 5, day))
    return Visits(sun, wang, h1, h2, h4, lonely)


@pytest.fixture
def v(world):
    return visits_world(world)


def monthly(client, **params):
    response = client.get(reverse("visit_monthly"), params)
    assert response.status_code == 200
    return response


# --- the monthly table ------------------------------------------------------------------


def test_monthly_table_for_the_county(world, v, login):
    response = monthly(login(world.users["county"]), month="2024-05")
    rows = {c.name: c for c in response.context["cadres"]}
    assert set(rows) == {"孙七", "王五"}
    assert rows["孙七"].month_visits == 3 and rows["孙七"].under
    assert rows["王五"].month_visits == 4 and not rows["王五"].under
    assert {p.household.head_name: p.month_visits for p in rows["孙七"].month_pairings} == {
        "钱一": 3,
        "钱二": 0,
    }
    assert [p.household.head_name for p in rows["孙七"].unvisited] == ["钱二"]
    assert response.context["summary"] == {
        "cadres": 2,
        "under": 1,
        "households": 3,
        "unvisited": 1,
    }
    page = response.content.decode()
    assert f'data-cadre="{v.sun.pk}" data-under="1"' in page
    assert 'class="table-danger"' in page


def test_monthly_table_is_scoped(world, v, login):
    township = monthly(login(world.users["township"]), month="2024-05")
    assert [c.name for c in township.context["cadres"]] == ["孙七"]
    other = monthly(login(world.users["other_township"]), month="2024-05")
    assert [c.name for c in other.context["cadres"]] == ["王五"]
    assert monthly(login(world.users["far_county"]), month="2024-05").context["cadres"] == []
    unit = monthly(login(world.users["unit"]), month="2024-05")
    assert [c.name for c in unit.context["cadres"]] == ["孙七"]
    assert "王五" not in unit.content.decode()


def test_a_cadre_sees_their_own_row(world, v, login):
    v.wang.user = world.users["cadre"]
    v.wang.save(update_fields=["user"])
    response = monthly(login(world.users["cadre"]), month="2024-05")
    assert [c.name for c in response.context["cadres"]] == ["王五"]


def test_month_boundaries(world, v, login):
    client = login(world.users["county"])
    april = {c.name: c.month_visits for c in monthly(client, month="2024-04").context["cadres"]}
    june = {c.name: c.month_visits for c in monthly(client, month="2024-06").context["cadres"]}
    assert april == {"孙七": 1, "王五": 0}
    assert june == {"孙七": 1, "王五": 0}


def test_default_month_is_this_month_in_shanghai(world, v, login, monkeypatch):
    client = login(world.users["county"])
    # 31 May 16:30 UTC is already 1 June 00:30 in Asia/Shanghai
    instant = datetime.datetime(2024, 5, 31, 16, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: instant)
    response = monthly(client)
    assert response.context["month"] == datetime.date(2024, 6, 1)
    assert {c.name: c.month_visits for c in response.context["cadres"]} == {"孙七": 1, "王五": 0}


def test_a_bad_month_shows_this_month(world, v, login):
    response = monthly(login(world.users["county"]), month="2024-13")
    assert response.context["month"] == timezone.localdate().replace(day=1)


def test_under_four_only_and_filters(world, v, login):
    client = login(world.users["county"])
    under = monthly(client, month="2024-05", under="on")
    assert [c.name for c in under.context["cadres"]] == ["孙七"]
    by_township = monthly(client, month="2024-05", township=world.other_township.pk)
    assert [c.name for c in by_township.context["cadres"]] == ["王五"]
    by_unit = monthly(client, month="2024-05", unit=world.unit.pk)
    assert [c.name for c in by_unit.context["cadres"]] == ["孙七"]


def test_only_current_pairings(world, v, login):
    ended = pair(v.wang, make_household(world.other_village, "钱五"))
    ended.end_date = datetime.date(2024, 4, 1)
    ended.save()
    rows = monthly(login(world.users["county"]), month="2024-05").context["cadres"]
    wang = next(c for c in rows if c.name == "王五")
    assert [p.household.head_name for p in wang.month_pairings] == ["钱四"]


def test_monthly_export(world, v, login):
    response = login(world.users["county"]).get(
        reverse("visit_monthly"), {"month": "2024-05", "export": "xlsx"}
    )
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0] == [
        "帮扶干部",
        "派出单位",
        "本月走访次数",
        "乡镇",
        "村名称",
        "户主姓名",
        "本户走访次数",
    ]
    body = sorted((r[0], r[5], r[2], r[6]) for r in rows[1:])
    assert body == [("孙七", "钱一", 3, 3), ("孙七", "钱二", 3, 0), ("王五", "钱四", 4, 4)]
    entry = AuditLog.objects.get(action=AuditAction.EXPORT)
    assert entry.detail["filters"]["month"] == "2024-05" and entry.detail["rows"] == 3


@pytest.mark.parametrize("key", ["sysadmin", "auditadmin", "secadmin"])
def test_monthly_needs_permission(world, login, key):
    assert login(world.users[key]).get(reverse("visit_monthly")).status_code == 403


# --- recording a visit ------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def photo(name="a.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def as_cadre(world, cadre):
    cadre.user = world.users["cadre"]
    cadre.save(update_fields=["user"])
    return world.users["cadre"]


def test_a_cadre_chooses_only_their_paired_households(world, v, login):
    as_cadre(world, v.sun)
    response = login(world.users["cadre"]).get(reverse("visit_create"))
    assert response.status_code == 200
    choices = set(response.context["form"].fields["household"].queryset)
    assert choices == {v.h1, v.h2}


def test_a_team_leader_chooses_the_villages_paired_households(world, v, login):
    response = login(world.users["leader"]).get(reverse("visit_create"))
    assert set(response.context["form"].fields["household"].queryset) == {v.h1, v.h2}


def test_a_cadre_records_a_visit_with_photos(world, v, login, media):
    as_cadre(world, v.sun)
    client = login(world.users["cadre"])
    today = timezone.localdate()
    response = csrf_post(
        client,
        reverse("visit_create"),
        {
            "date": today.isoformat(),
            "household": v.h2.pk,
            "content": "了解春耕准备",
            "photos": [photo("a.png"), photo("b.JPG", JPEG, "image/jpeg"), photo("c.webp", WEBP)],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('visit_monthly')}?month={today:%Y-%m}"
    created = Visit.objects.get(content="了解春耕准备")
    assert created.cadre == v.sun and created.household == v.h2 and created.date == today
    names = sorted(p.image.name.rsplit(".", 1)[1] for p in created.photos.all())
    assert names == ["jpg", "png", "webp"]
    assert all((media / p.image.name).is_file() for p in created.photos.all())
    entry = AuditLog.objects.get(action=AuditAction.OBJECT_CREATE, object_id=str(created.pk))
    assert entry.username == "cadre" and entry.detail["photos"] == 3
    # the visit counts in the month
    rows = monthly(client, month=f"{today:%Y-%m}").context["cadres"]
    assert rows[0].month_visits >= 1


def test_a_cadre_cannot_record_for_another_household(world, v, login, media):
    as_cadre(world, v.sun)
    client = login(world.users["cadre"])
    for household in (v.h4, v.lonely):
        response = csrf_post(
            client,
            reverse("visit_create"),
            {"date": "2024-05-02", "household": household.pk, "content": "走访"},
        )
        assert response.status_code == 200
        assert response.context["form"].errors["household"]
    assert not Visit.objects.filter(content="走访").exists()


def test_a_team_leader_records_for_the_pairing_cadre(world, v, login, media):
    client = login(world.users["leader"])
    response = csrf_post(
        client,
        reverse("visit_create"),
        {"date": "2024-05-20", "household": v.h2.pk, "content": "陪同走访"},
    )
    assert response.status_code == 302
    created = Visit.objects.get(content="陪同走访")
    assert created.cadre == v.sun
    assert AuditLog.objects.get(object_id=str(created.pk)).username == "leader"
    other = csrf_post(
        client,
        reverse("visit_create"),
        {"date": "2024-05-20", "household": v.h4.pk, "content": "越界"},
    )
    assert other.status_code == 200 and not Visit.objects.filter(content="越界").exists()


@pytest.mark.parametrize("key", ["unit", "inspector", "sysadmin", "auditadmin"])
def test_recording_needs_the_permission(world, v, login, key):
    assert login(world.users[key]).get(reverse("visit_create")).status_code == 403


def test_a_cadre_without_pairings_is_told_so(world, login):
    response = login(world.users["cadre"]).get(reverse("visit_create"))
    assert response.status_code == 200
    assert not response.context["form"].fields["household"].queryset.exists()


@pytest.mark.parametrize(
    "files, message",
    [
        ([photo("page.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")], "JPEG"),
        ([photo("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml")], "JPEG"),
        ([photo("big.png", PNG + b"\x00" * (5 * 1024 * 1024))], "5 MB"),
        ([photo(f"{n}.png") for n in range(6)], "5"),
    ],
    ids=["html-named-jpg", "svg", "over-5mb", "six-photos"],
)
def test_photos_are_checked(world, v, login, media, files, message):
    as_cadre(world, v.sun)
    response = csrf_post(
        login(world.users["cadre"]),
        reverse("visit_create"),
        {"date": "2024-05-02", "household": v.h1.pk, "content": "带照片", "photos": files},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["photos"])
    assert message in errors
    assert not Visit.objects.filter(content="带照片").exists()
    assert not any(media.rglob("*.*"))


def test_dates_are_checked(world, v, login, media):
    as_cadre(world, v.sun)
    client = login(world.users["cadre"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    future = csrf_post(
        client,
        reverse("visit_create"),
        {"date": tomorrow.isoformat(), "household": v.h1.pk, "content": "未来"},
    )
    assert future.context["form"].errors["date"]
    before = csrf_post(
        client,
        reverse("visit_create"),
        {"date": "2020-01-01", "household": v.h1.pk, "content": "结对前"},
    )
    assert before.status_code == 200 and before.context["form"].errors["date"]
    assert not Visit.objects.filter(content__in=["未来", "结对前"]).exists()


# --- the service ------------------------------------------------------------------------


def test_service_checks_permission_and_scope(world, v, media):
    with pytest.raises(PermissionDenied):
        services_visits.visit_create(
            actor=world.users["unit"], household=v.h1, date=MAY, content="x", photos=[]
        )
    with pytest.raises(ValidationError):
        services_visits.visit_create(
            actor=world.users["township"], household=v.h4, date=MAY, content="x", photos=[]
        )
    with pytest.raises(ValidationError):  # no pairing cadre
        services_visits.visit_create(
            actor=world.users["township"], household=v.lonely, date=MAY, content="x", photos=[]
        )
    with pytest.raises(ValidationError):
        services_visits.visit_create(
            actor=world.users["township"], household=v.h1, date=MAY, content="  ", photos=[]
        )
    assert not Visit.objects.filter(content="x").exists()


def test_a_failed_audit_write_undoes_the_visit_and_its_photos(world, v, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(services_visits.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services_visits.visit_create(
            actor=world.users["township"],
            household=v.h1,
            date=MAY,
            content="回滚",
            photos=[photo()],
        )
    assert not Visit.objects.filter(content="回滚").exists()
    assert not VisitPhoto.objects.exists()
    assert not [p for p in media.rglob("*") if p.is_file()]


# --- photos are served only in scope ----------------------------------------------------


def test_photos_are_served_in_scope_only(world, v, login, media):
    created = services_visits.visit_create(
        actor=world.users["township"], household=v.h1, date=MAY, content="照片", photos=[photo()]
    )
    stored = created.photos.get()
    url = reverse("visit_photo", args=[stored.pk])
    for key in ("county", "township", "leader", "unit"):
        response = login(world.users[key]).get(url)
        assert response.status_code == 200, key
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    for key in ("other_township", "far_county", "cadre"):
        assert login(world.users[key]).get(url).status_code == 404, key
    assert (
        login(world.users["county"]).get(reverse("visit_photo", args=[987654])).status_code == 404
    )
    assert login(world.users["sysadmin"]).get(url).status_code == 403


def test_visit_photos_lose_their_location(world, v, media):
    created = services_visits.visit_create(
        actor=world.users["township"],
        household=v.h1,
        date=MAY,
        content="了解生产情况",
        photos=[photo("a.jpg", JPEG, "image/jpeg"), photo("b.png", PNG)],
    )
    for stored in VisitPhoto.objects.filter(visit=created):
        with stored.image.open("rb") as handle:
            data = handle.read()
        assert GPS_RATIONALS not in data and b"GPSLatitude" not in data
