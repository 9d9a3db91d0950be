"""Help logs: one a day per cadre, today or yesterday only, text and up to nine
photos (checked by content, without location metadata); the page and its
photos, scoped both ways."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from attendance import helplogs
from attendance.models import HelpLog, HelpLogPhoto
from core.models import AuditLog
from tests.attendance import test_signins as base
from tests.attendance.test_signins import (
    DAY,
    GPS_RATIONALS,
    jpeg_with_location,
    local,
    upload,
)
from tests.conftest import csrf_post

# the shared fixtures of test_signins
clock = base.clock
media = base.media
st = base.st

UTC = datetime.UTC


def save(user, day=DAY, content="走访了三户脱贫户，了解春耕准备情况。", photos=(), now=None):
    return helplogs.helplog_save(
        user=user, date=day, content=content, photos=photos, now=now or local(DAY, 20, 0)
    )


@pytest.mark.django_db
def test_write_and_rewrite_todays_log(st, media):
    log, created = save(st.user, photos=[upload(jpeg_with_location())])
    assert created and log.cadre == st.cadre and log.photos.count() == 1
    again, created_again = save(
        st.user, content="补充：下午参加村两委会议。", photos=[upload(jpeg_with_location())]
    )
    assert not created_again and again.pk == log.pk
    again.refresh_from_db()
    assert again.content == "补充：下午参加村两委会议。"
    assert again.photos.count() == 2
    actions = list(
        AuditLog.objects.filter(detail__what="helplog", success=True)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "change"]
    # the content is not copied into the audit log (it names households)
    assert "脱贫户" not in str(AuditLog.objects.filter(detail__what="helplog").values("detail"))


@pytest.mark.django_db
def test_the_database_keeps_one_log_a_day(st):
    save(st.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        HelpLog.objects.create(cadre=st.cadre, date=DAY, content="又一篇")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "allowed"),
    [(0, True), (-1, True), (-2, False), (1, False), (-30, False)],
    ids=["today", "yesterday", "day-before", "tomorrow", "last-month"],
)
def test_only_today_or_yesterday(st, offset, allowed):
    day = DAY + datetime.timedelta(days=offset)
    if allowed:
        log, _ = save(st.user, day=day)
        assert log.date == day
    else:
        with pytest.raises(ValidationError) as caught:
            save(st.user, day=day)
        assert "date" in caught.value.message_dict
        assert not HelpLog.objects.exists()
        assert AuditLog.objects.filter(detail__what="helplog", success=False).count() == 1


@pytest.mark.django_db
def test_at_00_01_yesterday_is_the_previous_local_date(st):
    now = local(DAY, 0, 1)  # 16:01 UTC of the day before
    assert helplogs.writable_days(now) == [DAY, DAY - datetime.timedelta(days=1)]
    log, _ = save(st.user, day=DAY - datetime.timedelta(days=1), now=now)
    assert log.date == DAY - datetime.timedelta(days=1)


@pytest.mark.django_db
def test_at_23_59_local_today_is_still_that_date(st):
    now = local(DAY, 23, 59)
    assert helplogs.writable_days(now)[0] == DAY
    with pytest.raises(ValidationError):
        save(st.user, day=DAY + datetime.timedelta(days=1), now=now)


@pytest.mark.django_db
def test_07_59_utc_is_15_59_local_on_that_date(st):
    now = datetime.datetime(2026, 3, 10, 7, 59, tzinfo=UTC)
    assert helplogs.writable_days(now)[0] == datetime.date(2026, 3, 10)
    # 16:30 UTC is 00:30 the next local day
    assert helplogs.writable_days(datetime.datetime(2026, 3, 10, 16, 30, tzinfo=UTC))[0] == (
        datetime.date(2026, 3, 11)
    )


@pytest.mark.django_db
def test_empty_or_too_long_content_is_refused(st):
    for content in ("   ", "字" * (helplogs.MAX_CONTENT + 1)):
        with pytest.raises(ValidationError) as caught:
            save(st.user, content=content)
        assert "content" in caught.value.message_dict


@pytest.mark.django_db
def test_without_a_membership_or_a_cadre_record_no_log(st, world):
    with pytest.raises(ValidationError):
        save(world.users["leader"])  # no cadre record
    with pytest.raises(ValidationError):
        save(world.users["township"])  # an office has no help log
    st.cadre.memberships.update(start_date=DAY + datetime.timedelta(days=1))
    with pytest.raises(ValidationError):
        save(st.user)
    assert not HelpLog.objects.exists()


@pytest.mark.django_db
def test_at_most_nine_photos(st, media):
    with pytest.raises(ValidationError) as caught:
        save(st.user, photos=[upload(jpeg_with_location()) for _ in range(10)])
    assert "photos" in caught.value.message_dict
    assert not HelpLog.objects.exists()
    save(st.user, photos=[upload(jpeg_with_location()) for _ in range(5)])
    with pytest.raises(ValidationError) as caught:
        save(st.user, photos=[upload(jpeg_with_location()) for _ in range(5)])
    assert "photos" in caught.value.message_dict
    assert HelpLogPhoto.objects.count() == 5
    # the refused save changed nothing, and left no files behind
    assert HelpLog.objects.get().content.startswith("走访")
    assert len(list(media.rglob("*.jpg"))) == 5
    save(st.user, photos=[upload(jpeg_with_location()) for _ in range(4)])
    assert HelpLogPhoto.objects.count() == 9


@pytest.mark.django_db
def test_photos_are_checked_and_lose_their_location(st, media):
    with pytest.raises(ValidationError) as caught:
        save(st.user, photos=[upload(b"MZ\x90\x00 not an image", "p.jpg")])
    assert "photos" in caught.value.message_dict
    with pytest.raises(ValidationError):
        save(st.user, photos=[upload(jpeg_with_location() + b"\x00" * (5 * 1024 * 1024))])
    log, _ = save(st.user, photos=[upload(jpeg_with_location(), "IMG_0001.JPG")])
    photo = log.photos.get()
    assert photo.image.name.endswith(f"{photo.uuid}.jpg")  # not the uploaded name
    with photo.image.open("rb") as stored:
        assert GPS_RATIONALS not in stored.read()


# --- the page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_saves_todays_log(st, login, clock, media):
    clock.now = local(DAY, 20, 0)
    client = login(st.user)
    page = client.get(reverse("helplog_page"))
    assert page.status_code == 200
    assert [c[0] for c in page.context["form"].fields["date"].choices] == [
        DAY.isoformat(),
        (DAY - datetime.timedelta(days=1)).isoformat(),
    ]
    assert client.post(reverse("helplog_page"), {"date": DAY.isoformat()}).status_code == 403
    response = csrf_post(
        client,
        reverse("helplog_page"),
        {
            "date": DAY.isoformat(),
            "content": "入户走访五户。",
            "photos": [
                upload(jpeg_with_location(), "a.jpg"),
                upload(jpeg_with_location(), "b.jpg"),
            ],
        },
    )
    assert response.status_code == 302
    log = HelpLog.objects.get(cadre=st.cadre, date=DAY)
    assert log.content == "入户走访五户。" and log.photos.count() == 2
    again = client.get(response["Location"])
    assert "入户走访五户。" in again.content.decode()
    assert again.content.decode().count("/attendance/helplog/photos/") >= 2


@pytest.mark.django_db
def test_the_page_shows_errors_and_keeps_nothing(st, login, clock, media):
    clock.now = local(DAY, 20, 0)
    client = login(st.user)
    response = csrf_post(
        client,
        reverse("helplog_page"),
        {"date": DAY.isoformat(), "content": "写了", "photos": [upload(b"nope", "x.jpg")]},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["photos"]
    old = (DAY - datetime.timedelta(days=2)).isoformat()
    response = csrf_post(client, reverse("helplog_page"), {"date": old, "content": "补写"})
    assert response.status_code == 200 and response.context["form"].errors["date"]
    assert not HelpLog.objects.exists()


@pytest.mark.django_db
def test_the_page_is_for_cadres_and_team_leaders(world, login, clock):
    # a cadre account without a cadre record sees why it cannot write
    page = login(world.users["cadre"]).get(reverse("helplog_page"))
    assert page.status_code == 200 and 'data-testid="helplog-unavailable"' in page.content.decode()
    assert login(world.users["leader"]).get(reverse("helplog_page")).status_code == 200
    for key in ("county", "township", "unit", "inspector", "sysadmin"):
        assert login(world.users[key]).get(reverse("helplog_page")).status_code == 403, key


@pytest.mark.django_db
@pytest.mark.parametrize("days", [1, 12])
def test_the_page_runs_a_fixed_number_of_queries(
    st, login, clock, media, django_assert_max_num_queries, days
):
    clock.now = local(DAY, 20, 0)
    for n in range(days):
        HelpLog.objects.create(
            cadre=st.cadre, date=DAY - datetime.timedelta(days=n), content="日志"
        )
    save(st.user, photos=[upload(jpeg_with_location()) for _ in range(3)])
    client = login(st.user)
    # session, user, cadre, logs of today and yesterday + their photos,
    # recent logs + their photos, session save (+ savepoint)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("helplog_page")).status_code == 200


@pytest.mark.django_db
def test_help_log_photos_are_scoped_both_ways(st, login, media):
    log, _ = save(st.user, photos=[upload(jpeg_with_location())])
    url = reverse("helplog_photo", kwargs={"uuid": log.photos.get().uuid})
    for user in (st.user, st.world.users["township"], st.world.users["county"]):
        response = login(user).get(url)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "image/jpeg"
    for user in (st.world.users["other_township"], st.world.users["far_county"], st.other_user):
        assert login(user).get(url).status_code == 404, user
    missing = reverse("helplog_photo", kwargs={"uuid": "00000000-0000-4000-8000-000000000000"})
    assert login(st.world.users["township"]).get(missing).status_code == 404
    assert login(st.world.users["sysadmin"]).get(url).status_code == 403
