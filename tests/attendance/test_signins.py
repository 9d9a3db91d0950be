"""Sign-ins: the half-day windows by the server's local clock, in area or not,
the database's first valid sign-in per half, township acceptance, idempotent
client ids, photos without location metadata, coordinate retention, village
points, and the pages (scoped both ways, fixed query counts)."""

from __future__ import annotations

import datetime
import struct
import uuid
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from attendance import geo, signins
from attendance.models import AttendanceSettings, SignIn
from core.choices import Role
from core.models import AuditLog
from teams.choices import EndReason, MemberRole
from tests.conftest import csrf_post
from tests.factories import make_user
from tests.teams.factories import make_cadre, make_team, station

LOCAL = ZoneInfo("Asia/Shanghai")
UTC = datetime.UTC
POINT = (43.6, 121.3)  # tests.factories.make_village's point
METRES_PER_DEGREE = 2 * 3.141592653589793 * geo.EARTH_RADIUS_M / 360
DAY = datetime.date(2026, 3, 10)  # a Tuesday


def local(day: datetime.date, h: int, m: int = 0, s: int = 0, us: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, h, m, s, us, tzinfo=LOCAL)


def north(metres: float) -> tuple[float, float]:
    """A point that many metres north of the village point."""
    return POINT[0] + metres / METRES_PER_DEGREE, POINT[1]


def zh(message) -> str:
    with translation.override("zh-hans"):
        return str(message)


def sign(user, now, metres: float = 0, client_id=None, **extra):
    lat, lng = north(metres)
    return signins.signin_create(
        user=user,
        client_id=client_id or uuid.uuid4(),
        latitude=lat,
        longitude=lng,
        accuracy=12.5,
        now=now,
        **extra,
    )


def add_cadre(
    world, username: str, village, name: str = "赵六", role=Role.CADRE, unit=None, **scope
):
    user = make_user(username, role, **scope)
    cadre = make_cadre(unit or world.unit, name, user=user)
    team = make_team(village) if not village.teams.exists() else village.teams.get()
    station(cadre, team, role=MemberRole.MEMBER)
    return user, cadre


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def st(world):
    """The world's cadre user stationed in 一村 (甲镇), another cadre in 二村 (乙镇)."""
    user = world.users["cadre"]
    cadre = make_cadre(world.unit, "王五", user=user)
    team = make_team(world.village)
    membership = station(cadre, team)
    other_user, other_cadre = add_cadre(world, "cadre2", world.other_village)
    return SimpleNamespace(
        world=world,
        user=user,
        cadre=cadre,
        team=team,
        membership=membership,
        other_user=other_user,
        other_cadre=other_cadre,
    )


@pytest.fixture
def clock(monkeypatch):
    """Set the server's clock for pages and the API: clock.now = <aware datetime>."""
    state = SimpleNamespace(now=local(DAY, 9, 0))
    monkeypatch.setattr(signins, "server_now", lambda: state.now)
    return state


# --- the half-day, by the server's local clock -----------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hour", "minute", "second", "half"),
    [
        (5, 59, 59, ""),
        (6, 0, 0, "am"),
        (11, 59, 59, "am"),
        (12, 0, 0, "pm"),
        (21, 59, 59, "pm"),
        (22, 0, 0, ""),
        (23, 59, 0, ""),
        (0, 1, 0, ""),
    ],
    ids=["05:59:59", "06:00", "11:59:59", "12:00", "21:59:59", "22:00", "23:59", "00:01"],
)
def test_half_day_windows_at_their_edges(st, hour, minute, second, half):
    signin, created = sign(st.user, local(DAY, hour, minute, second))
    assert created
    assert signin.half == half
    assert signin.date == DAY
    assert signin.counts is bool(half)


@pytest.mark.django_db
def test_23_59_and_00_01_local_fall_on_their_local_dates(st):
    late, _ = sign(st.user, local(DAY, 23, 59))
    early, _ = sign(st.user, local(DAY + datetime.timedelta(days=1), 0, 1))
    assert late.date == DAY and late.half == ""
    # 00:01 local is still the previous day in UTC (16:01): the local date counts
    assert early.signed_at.astimezone(UTC).date() == DAY
    assert early.date == DAY + datetime.timedelta(days=1) and early.half == ""


@pytest.mark.django_db
def test_07_59_utc_is_the_afternoon_of_that_local_date(st):
    signin, _ = sign(st.user, datetime.datetime(2026, 3, 10, 7, 59, tzinfo=UTC))
    assert timezone_local_hm(signin.signed_at) == "15:59"
    assert signin.date == datetime.date(2026, 3, 10)
    assert signin.half == "pm" and signin.counts


@pytest.mark.django_db
def test_23_30_utc_is_the_next_local_morning(st):
    # the UTC date (the 10th) would be wrong: it is 07:30 on the 11th in China
    signin, _ = sign(st.user, datetime.datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    assert signin.date == datetime.date(2026, 3, 11)
    assert signin.half == "am" and signin.counts


def timezone_local_hm(value: datetime.datetime) -> str:
    return value.astimezone(LOCAL).strftime("%H:%M")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hour", "minute", "half"),
    [(6, 30, ""), (7, 0, "am"), (12, 30, "am"), (13, 0, "pm"), (19, 59, "pm"), (20, 0, "")],
)
def test_a_county_with_changed_windows(st, hour, minute, half):
    AttendanceSettings.objects.create(
        county=st.world.county,
        morning_start=datetime.time(7, 0),
        morning_end=datetime.time(13, 0),
        afternoon_start=datetime.time(13, 0),
        day_end=datetime.time(20, 0),
    )
    signin, _ = sign(st.user, local(DAY, hour, minute))
    assert signin.half == half


@pytest.mark.django_db
def test_the_device_time_is_kept_but_never_decides(st):
    device = local(DAY, 9, 0)
    signin, _ = sign(st.user, local(DAY, 23, 0), taken_at=device)
    signin.refresh_from_db()
    assert signin.taken_at == device
    assert signin.half == "" and not signin.counts


# --- in area, the first valid sign-in, repeats ------------------------------------------


@pytest.mark.django_db
def test_in_area_counts_and_a_second_one_is_a_repeat(st):
    first, _ = sign(st.user, local(DAY, 8, 0), metres=990)
    second, _ = sign(st.user, local(DAY, 9, 0), metres=10)
    afternoon, _ = sign(st.user, local(DAY, 14, 0))
    assert first.in_area and first.distance_m == 990 and first.counts
    assert second.in_area and not second.counts
    outcome = signins.signin_outcome(second, signins.settings_for(st.world.county.pk))
    assert outcome.repeat and outcome.state == "repeat"
    assert outcome.reason == zh(outcome.reason)  # a sentence, not a code
    assert afternoon.counts
    assert SignIn.objects.filter(cadre=st.cadre, counts=True).count() == 2


@pytest.mark.django_db
def test_the_database_refuses_a_second_counting_row(st):
    from django.db import IntegrityError, transaction

    first, _ = sign(st.user, local(DAY, 8, 0))
    clone = SignIn(
        client_id=uuid.uuid4(),
        cadre=st.cadre,
        village=st.world.village,
        signed_at=first.signed_at,
        date=first.date,
        half=first.half,
        in_area=True,
        counts=True,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


@pytest.mark.django_db
def test_out_of_area_is_kept_marked_and_says_why(st):
    signin, created = sign(st.user, local(DAY, 8, 0), metres=1010)
    assert created and not signin.in_area and not signin.counts
    assert signin.distance_m == 1010
    outcome = signins.signin_outcome(signin, signins.settings_for(st.world.county.pk))
    assert outcome.state == "out_of_area" and not outcome.repeat
    assert "1010" in outcome.reason and "1000" in outcome.reason


@pytest.mark.django_db
def test_the_village_radius_decides(st):
    st.world.village.radius_m = 2000
    st.world.village.save(update_fields=["radius_m"])
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=1500)
    assert signin.in_area and signin.counts


@pytest.mark.django_db
def test_a_village_without_a_radius_of_its_own_has_the_county_default(st):
    st.world.village.radius_m = None
    st.world.village.save(update_fields=["radius_m"])
    inside, _ = sign(st.user, local(DAY, 8, 0), metres=990)
    assert inside.in_area  # the default default: 1000 m
    AttendanceSettings.objects.create(county=st.world.county, default_radius_m=500)
    beyond, _ = sign(st.user, local(DAY, 14, 0), metres=700)
    within, _ = sign(st.user, local(DAY, 15, 0), metres=400)
    assert not beyond.in_area and not beyond.counts
    assert within.in_area and within.counts


@pytest.mark.django_db
def test_a_village_without_a_point_is_never_in_area(st):
    village = st.world.village
    village.latitude = village.longitude = None
    village.save(update_fields=["latitude", "longitude"])
    signin, _ = sign(st.user, local(DAY, 8, 0))
    assert signin.distance_m is None and not signin.in_area and not signin.counts
    outcome = signins.signin_outcome(signin, signins.settings_for(st.world.county.pk))
    assert outcome.state == "no_point" and outcome.reason


@pytest.mark.django_db
def test_outside_hours_says_the_windows(st):
    signin, _ = sign(st.user, local(DAY, 22, 30))
    outcome = signins.signin_outcome(signin, signins.settings_for(st.world.county.pk))
    assert outcome.state == "outside_hours"
    assert "06:00" in outcome.reason and "12:00" in outcome.reason and "22:00" in outcome.reason


@pytest.mark.django_db
def test_a_sign_in_writes_an_audit_row_without_coordinates(st):
    signin, _ = sign(st.user, local(DAY, 8, 0))
    entry = AuditLog.objects.get(object_type="attendance.signin", object_id=str(signin.pk))
    assert entry.success and entry.actor == st.user
    assert entry.detail["counts"] is True and entry.detail["half"] == "am"
    text = str(entry.detail)
    assert "43.6" not in text and "121.3" not in text


# --- who may sign in -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_cadre_without_a_current_membership_is_refused(st):
    st.membership.end_date = DAY - datetime.timedelta(days=1)
    st.membership.end_reason = EndReason.values[0]
    st.membership.save()
    with pytest.raises(ValidationError) as caught:
        sign(st.user, local(DAY, 8, 0))
    assert caught.value.code == "no_membership"
    assert not SignIn.objects.filter(cadre=st.cadre).exists()
    # the refusal is an audit row (a failed action)
    assert AuditLog.objects.filter(actor=st.user, success=False, detail__what="signin").exists()


@pytest.mark.django_db
def test_the_last_day_of_a_membership_still_counts(st):
    st.membership.end_date = DAY
    st.membership.end_reason = EndReason.values[0]
    st.membership.save()
    signin, _ = sign(st.user, local(DAY, 8, 0))
    assert signin.counts and signin.membership == st.membership
    with pytest.raises(ValidationError):
        sign(st.user, local(DAY + datetime.timedelta(days=1), 8, 0))


@pytest.mark.django_db
def test_a_membership_starting_tomorrow_does_not_cover_today(world):
    user, cadre = add_cadre(world, "newcomer", world.village)
    cadre.memberships.update(start_date=DAY + datetime.timedelta(days=1))
    with pytest.raises(ValidationError):
        sign(user, local(DAY, 8, 0))


@pytest.mark.django_db
def test_an_account_without_a_cadre_record_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        sign(world.users["cadre"], local(DAY, 8, 0))
    assert caught.value.code == "no_cadre"
    # an office account cannot sign in even if a cadre record names it
    with pytest.raises(ValidationError):
        sign(world.users["township"], local(DAY, 8, 0))


@pytest.mark.django_db
def test_the_message_is_chinese(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        sign(world.users["cadre"], local(DAY, 8, 0))
    assert caught.value.messages[0] == zh(caught.value.messages[0])


# --- the same client id --------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_client_id_is_stored_once(st):
    client_id = uuid.uuid4()
    first, created = sign(st.user, local(DAY, 8, 0), client_id=client_id)
    again, created_again = sign(st.user, local(DAY, 8, 5), metres=3000, client_id=client_id)
    assert created and not created_again
    assert again.pk == first.pk and again.counts and again.distance_m == 0
    assert SignIn.objects.filter(client_id=client_id).count() == 1
    assert AuditLog.objects.filter(object_type="attendance.signin").count() == 1


@pytest.mark.django_db
def test_someone_elses_client_id_is_refused(st):
    client_id = uuid.uuid4()
    sign(st.user, local(DAY, 8, 0), client_id=client_id)
    with pytest.raises(ValidationError) as caught:
        sign(st.other_user, local(DAY, 8, 0), client_id=client_id)
    assert "client_id" in caught.value.message_dict
    assert SignIn.objects.filter(cadre=st.other_cadre).count() == 0


@pytest.mark.django_db
def test_bad_coordinates_are_refused(st):
    for lat, lng in [(91, 121), (43, 181), (float("nan"), 121), ("x", 121)]:
        with pytest.raises(ValidationError):
            signins.signin_create(
                user=st.user,
                client_id=uuid.uuid4(),
                latitude=lat,
                longitude=lng,
                now=local(DAY, 8, 0),
            )
    assert not SignIn.objects.exists()


# --- township acceptance -------------------------------------------------------------


@pytest.mark.django_db
def test_out_of_area_then_accepted_counts(st):
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    accepted = signins.signin_accept(
        actor=st.world.users["township"], signin=signin, reason="在村部以外开会"
    )
    assert accepted.accepted and accepted.counts
    assert accepted.accepted_by == st.world.users["township"]
    assert accepted.accept_reason == "在村部以外开会"
    outcome = signins.signin_outcome(accepted, signins.settings_for(st.world.county.pk))
    assert outcome.counts and outcome.reason == ""
    entry = AuditLog.objects.get(detail__what="signin_accept")
    assert entry.success and entry.detail["counts"] is True and entry.object_id == str(signin.pk)


@pytest.mark.django_db
def test_accepting_when_the_half_already_counts_keeps_a_repeat(st):
    out, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    sign(st.user, local(DAY, 9, 0))  # in area: counts
    accepted = signins.signin_accept(actor=st.world.users["township"], signin=out, reason="开会")
    assert accepted.accepted and not accepted.counts
    outcome = signins.signin_outcome(accepted, signins.settings_for(st.world.county.pk))
    assert outcome.repeat
    assert SignIn.objects.filter(cadre=st.cadre, date=DAY, half="am", counts=True).count() == 1


@pytest.mark.django_db
def test_an_accepted_sign_in_makes_later_ones_repeats(st):
    out, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    signins.signin_accept(actor=st.world.users["township"], signin=out, reason="开会")
    later, _ = sign(st.user, local(DAY, 9, 0))
    assert later.in_area and not later.counts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hour", "metres", "reason"),
    [(23, 5000, "开会"), (8, 10, "开会"), (8, 5000, "  ")],
    ids=["outside-hours", "in-area", "no-reason"],
)
def test_what_cannot_be_accepted(st, hour, metres, reason):
    signin, _ = sign(st.user, local(DAY, hour, 0), metres=metres)
    before = signin.counts
    with pytest.raises(ValidationError):
        signins.signin_accept(actor=st.world.users["township"], signin=signin, reason=reason)
    signin.refresh_from_db()
    assert not signin.accepted and signin.counts == before
    assert AuditLog.objects.filter(detail__what="signin_accept", success=False).count() == 1


@pytest.mark.django_db
def test_accepting_twice_is_refused(st):
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    signins.signin_accept(actor=st.world.users["township"], signin=signin, reason="开会")
    with pytest.raises(ValidationError):
        signins.signin_accept(actor=st.world.users["township"], signin=signin, reason="又开会")


@pytest.mark.django_db
def test_only_the_township_office_of_the_village_accepts(st):
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    for key in ("cadre", "leader", "county", "unit", "inspector"):
        with pytest.raises(PermissionDenied):
            signins.signin_accept(actor=st.world.users[key], signin=signin, reason="开会")
    with pytest.raises(Http404):
        signins.signin_accept(actor=st.world.users["other_township"], signin=signin, reason="开会")
    signin.refresh_from_db()
    assert not signin.accepted


# --- photos ----------------------------------------------------------------------------


def tiff_with_gps() -> bytes:
    """A little-endian EXIF TIFF block: IFD0 with an orientation and a GPS pointer,
    a GPS directory with the latitude 43°36'12.34"N."""
    head = b"II*\x00" + struct.pack("<I", 8)
    ifd0 = struct.pack("<H", 2)
    ifd0 += struct.pack("<HHII", 0x0112, 3, 1, 6)  # orientation: rotate 90°
    gps_at = 8 + 2 + 12 * 2 + 4
    ifd0 += struct.pack("<HHII", 0x8825, 4, 1, gps_at)
    ifd0 += struct.pack("<I", 0)
    rationals_at = gps_at + 2 + 12 * 2 + 4
    gps = struct.pack("<H", 2)
    gps += struct.pack("<HHI", 1, 2, 2) + b"N\x00\x00\x00"
    gps += struct.pack("<HHII", 2, 5, 3, rationals_at)
    gps += struct.pack("<I", 0)
    rationals = struct.pack("<IIIIII", 43, 1, 36, 1, 1234, 100)
    return head + ifd0 + gps + rationals


GPS_RATIONALS = struct.pack("<IIIIII", 43, 1, 36, 1, 1234, 100)
SCAN = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00" + b"pixels\x12\x34"


def jpeg_with_location() -> bytes:
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif_body = b"Exif\x00\x00" + tiff_with_gps()
    exif = b"\xff\xe1" + struct.pack(">H", len(exif_body) + 2) + exif_body
    xmp_body = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>exif:GPSLatitude=43,36.2N</x:xmpmeta>"
    xmp = b"\xff\xe1" + struct.pack(">H", len(xmp_body) + 2) + xmp_body
    return b"\xff\xd8" + jfif + exif + xmp + SCAN + b"\xff\xd9"


def png_with_exif() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    exif = chunk(b"eXIf", tiff_with_gps())
    idat = chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + exif + idat + chunk(b"IEND", b"")


def webp_with_exif() -> bytes:
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08 | 0x04]) + bytes(9)
    exif_data = tiff_with_gps()
    exif = b"EXIF" + struct.pack("<I", len(exif_data)) + exif_data + b"\x00" * (len(exif_data) & 1)
    image = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00" + b"\x00"
    body = b"WEBP" + vp8x + image + exif
    return b"RIFF" + struct.pack("<I", len(body)) + body


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_jpeg_loses_its_gps_but_keeps_the_rest():
    original = jpeg_with_location()
    cleaned = signins.check_photo(upload(original)).data
    assert GPS_RATIONALS in original and GPS_RATIONALS not in cleaned
    assert b"GPSLatitude" not in cleaned  # the XMP block is gone
    assert b"JFIF" in cleaned and cleaned.endswith(SCAN + b"\xff\xd9")
    # the orientation stays (photos show the right way up)
    assert struct.pack("<HHII", 0x0112, 3, 1, 6) in cleaned


def test_png_and_webp_lose_their_exif():
    png = signins.check_photo(upload(png_with_exif(), "p.png", "image/png"))
    assert png.kind == "png" and GPS_RATIONALS not in png.data and b"IDAT" in png.data
    webp = signins.check_photo(upload(webp_with_exif(), "p.webp", "image/webp"))
    assert webp.kind == "webp" and GPS_RATIONALS not in webp.data and b"VP8L" in webp.data
    (size,) = struct.unpack("<I", webp.data[4:8])
    assert size == len(webp.data) - 8
    assert webp.data[20] & 0x0C == 0  # VP8X no longer announces EXIF or XMP


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name():
    with pytest.raises(ValidationError):
        signins.check_photo(upload(b"<html><script>alert(1)</script></html>", "x.jpg"))


def test_a_photo_over_5_mb_is_refused():
    big = jpeg_with_location() + b"\x00" * (5 * 1024 * 1024)
    with pytest.raises(ValidationError):
        signins.check_photo(upload(big))


@pytest.mark.django_db
def test_a_sign_in_photo_is_stored_without_location(st, media):
    signin, _ = sign(st.user, local(DAY, 8, 0), photo=upload(jpeg_with_location()))
    signin.refresh_from_db()
    assert signin.photo.name.endswith(f"{signin.client_id}.jpg")
    with signin.photo.open("rb") as stored:
        data = stored.read()
    assert GPS_RATIONALS not in data and data.startswith(b"\xff\xd8")


@pytest.mark.django_db
def test_a_bad_photo_refuses_the_sign_in(st, media):
    with pytest.raises(ValidationError):
        sign(st.user, local(DAY, 8, 0), photo=upload(b"not an image"))
    assert not SignIn.objects.exists()
    assert not any(media.rglob("*.jpg"))


# --- retention of coordinates ----------------------------------------------------------


@pytest.mark.django_db
def test_old_coordinates_are_forgotten_and_distance_kept(st):
    now = local(DAY, 3, 0)
    old, _ = sign(st.user, local(DAY - datetime.timedelta(days=181), 8, 0), metres=300)
    edge, _ = sign(st.user, local(DAY - datetime.timedelta(days=180), 8, 0), metres=300)
    recent, _ = sign(st.user, local(DAY - datetime.timedelta(days=1), 8, 0), metres=300)
    assert signins.signins_forget_locations(now=now) == 1
    old.refresh_from_db()
    edge.refresh_from_db()
    recent.refresh_from_db()
    assert old.latitude is None and old.longitude is None
    assert old.distance_m == 300 and old.in_area and old.counts
    assert edge.latitude is not None and recent.latitude is not None
    entry = AuditLog.objects.get(detail__what="signin_locations_forgotten")
    assert entry.detail["rows"] == 1
    # a second run finds nothing more
    assert signins.signins_forget_locations(now=now) == 0


@pytest.mark.django_db
def test_each_county_keeps_coordinates_as_long_as_it_says(st):
    AttendanceSettings.objects.create(county=st.world.county, location_retention_days=30)
    far_user, _far = add_cadre(st.world, "farcadre", st.world.far_village, unit=st.world.far_unit)
    mine, _ = sign(st.user, local(DAY - datetime.timedelta(days=31), 8, 0))
    far, _ = sign(far_user, local(DAY - datetime.timedelta(days=31), 8, 0))
    assert signins.signins_forget_locations(now=local(DAY, 3, 0)) == 1
    mine.refresh_from_db()
    far.refresh_from_db()
    assert mine.latitude is None
    assert far.latitude is not None  # the other county keeps the default 180 days
    assert signins.signins_forget_locations(older_than_days=7, now=local(DAY, 3, 0)) == 1


# --- village points ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_gcj02_point_is_stored_in_wgs84(world):
    g_lat, g_lng = geo.wgs84_to_gcj02(43.61, 121.31)
    village = signins.village_point_set(
        actor=world.users["township"],
        village=world.village,
        latitude=g_lat,
        longitude=g_lng,
        system="gcj02",
        radius_m=800,
    )
    village.refresh_from_db()
    assert village.latitude == Decimal("43.610000") and village.longitude == Decimal("121.310000")
    assert village.radius_m == 800
    entry = AuditLog.objects.get(detail__what="village_point")
    assert entry.detail["system"] == "gcj02"
    assert entry.detail["before"]["latitude"] == "43.600000"
    assert entry.detail["after"]["latitude"] == "43.610000"


@pytest.mark.django_db
def test_a_wgs84_point_is_stored_as_given(world):
    village = signins.village_point_set(
        actor=world.users["county"],
        village=world.other_village,
        latitude=43.5,
        longitude=121.25,
        system="wgs84",
    )
    assert (village.latitude, village.longitude) == (Decimal("43.500000"), Decimal("121.250000"))
    assert village.radius_m == 1000


@pytest.mark.django_db
def test_village_points_are_scoped(world):
    with pytest.raises(Http404):
        signins.village_point_set(
            actor=world.users["other_township"],
            village=world.village,
            latitude=43.5,
            longitude=121.2,
            system="wgs84",
        )
    with pytest.raises(Http404):
        signins.village_point_set(
            actor=world.users["far_county"],
            village=world.village,
            latitude=43.5,
            longitude=121.2,
            system="wgs84",
        )
    for key in ("leader", "cadre", "unit", "inspector"):
        with pytest.raises(PermissionDenied):
            signins.village_point_set(
                actor=world.users[key],
                village=world.village,
                latitude=43.5,
                longitude=121.2,
                system="wgs84",
            )


@pytest.mark.django_db
def test_a_point_outside_china_or_a_bad_system_is_refused(world):
    for lat, lng, system in [(60, 121, "wgs84"), (43.5, 121.2, "bd09")]:
        with pytest.raises(ValidationError):
            signins.village_point_set(
                actor=world.users["township"],
                village=world.village,
                latitude=lat,
                longitude=lng,
                system=system,
            )
    world.village.refresh_from_db()
    assert world.village.latitude == Decimal("43.600000")


# --- pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_shows_todays_halves(st, login, clock):
    clock.now = local(DAY, 14, 0)
    sign(st.user, local(DAY, 8, 0))
    page = login(st.user).get(reverse("signin_page"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="half-am" data-state="counts"' in html
    assert 'data-testid="half-pm" data-state="open"' in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "signin.js" in html and "cdn" not in html.lower()
    config = page.context["config"]
    assert config["api"] == reverse("api_signins") and config["csrf"]


@pytest.mark.django_db
def test_the_sign_in_page_says_when_one_cannot_sign_in(world, login, clock):
    page = login(world.users["cadre"]).get(reverse("signin_page"))
    assert page.status_code == 200
    assert 'data-testid="signin-unavailable"' in page.content.decode()
    assert 'data-testid="signin-button"' not in page.content.decode()


@pytest.mark.django_db
def test_the_sign_in_page_is_for_cadres_and_team_leaders(world, login, clock):
    add_cadre(world, "leader2", world.village, role=Role.TEAM_LEADER, scope_area=world.village)
    from core.models import User

    leader = User.objects.get(username="leader2")
    assert login(leader).get(reverse("signin_page")).status_code == 200
    for key in ("county", "township", "unit", "inspector", "sysadmin", "auditadmin"):
        assert login(world.users[key]).get(reverse("signin_page")).status_code == 403, key


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 12])
def test_the_sign_in_page_runs_a_fixed_number_of_queries(
    st, login, clock, django_assert_max_num_queries, count
):
    clock.now = local(DAY, 15, 0)
    for i in range(count):
        sign(st.user, local(DAY, 8, i), photo=None)
    client = login(st.user)
    # session, user, membership with cadre, village and settings, sign-ins,
    # help log, session save and the savepoint around it
    with django_assert_max_num_queries(8):
        assert client.get(reverse("signin_page")).status_code == 200


def make_signins(st, n: int, day=DAY):
    for i in range(n):
        user, _cadre = add_cadre(st.world, f"c{n}_{i}", st.world.village, name=f"干部{i}")
        sign(user, local(day, 8, 0), metres=5000 if i % 2 else 10)


@pytest.mark.django_db
def test_the_list_shows_only_the_township_of_the_user(st, login):
    sign(st.user, local(DAY, 8, 0))
    sign(st.other_user, local(DAY, 8, 0))
    url = f"{reverse('signin_list')}?date={DAY.isoformat()}"
    mine = login(st.world.users["township"]).get(url).content.decode()
    assert "王五" in mine and "赵六" not in mine
    theirs = login(st.world.users["other_township"]).get(url).content.decode()
    assert "赵六" in theirs and "王五" not in theirs
    county = login(st.world.users["county"]).get(url).content.decode()
    assert "王五" in county and "赵六" in county
    assert "王五" not in login(st.world.users["far_county"]).get(url).content.decode()
    # a cadre sees their own only
    own = login(st.user).get(url).content.decode()
    assert "王五" in own and "赵六" not in own
    assert login(st.world.users["sysadmin"]).get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 20])
def test_the_list_runs_a_fixed_number_of_queries(st, login, django_assert_max_num_queries, count):
    make_signins(st, count)
    client = login(st.world.users["township"])
    url = f"{reverse('signin_list')}?date={DAY.isoformat()}"
    # session, user, scope area, count, page, county settings, session save
    with django_assert_max_num_queries(9):
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="accept-form"') == count // 2


@pytest.mark.django_db
def test_accepting_from_the_list(st, login):
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    client = login(st.world.users["township"])
    url = reverse("signin_accept", kwargs={"pk": signin.pk})
    # without the CSRF token the browser's post is refused
    assert client.post(url, {"reason": "开会"}).status_code == 403
    response = csrf_post(client, url, {"reason": "在乡里开会"})
    assert response.status_code == 302
    signin.refresh_from_db()
    assert signin.accepted and signin.counts and signin.accept_reason == "在乡里开会"


@pytest.mark.django_db
def test_accepting_is_scoped_both_ways(st, login):
    signin, _ = sign(st.user, local(DAY, 8, 0), metres=5000)
    url = reverse("signin_accept", kwargs={"pk": signin.pk})
    other = login(st.world.users["other_township"])
    assert csrf_post(other, url, {"reason": "x"}).status_code == 404
    missing = reverse("signin_accept", kwargs={"pk": 987654})
    assert csrf_post(other, missing, {"reason": "x"}).status_code == 404
    for key in ("cadre", "leader", "county"):
        assert csrf_post(login(st.world.users[key]), url, {"reason": "x"}).status_code == 403
    signin.refresh_from_db()
    assert not signin.accepted
    assert login(st.world.users["township"]).get(url).status_code == 405


@pytest.mark.django_db
def test_sign_in_photos_are_scoped_both_ways(st, login, media):
    signin, _ = sign(st.user, local(DAY, 8, 0), photo=upload(jpeg_with_location()))
    url = reverse("signin_photo", kwargs={"pk": signin.pk})
    for key in ("township", "county"):
        response = login(st.world.users[key]).get(url)
        assert response.status_code == 200, key
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, no-store"
    assert login(st.user).get(url).status_code == 200
    for key in ("other_township", "far_county"):
        assert login(st.world.users[key]).get(url).status_code == 404, key
    assert login(st.other_user).get(url).status_code == 404
    assert (
        login(st.world.users["township"])
        .get(reverse("signin_photo", kwargs={"pk": 987654}))
        .status_code
        == 404
    )
    assert login(st.world.users["sysadmin"]).get(url).status_code == 403


@pytest.mark.django_db
def test_the_point_page_converts_gcj02(world, login):
    client = login(world.users["township"])
    url = reverse("village_point", kwargs={"pk": world.village.pk})
    page = client.get(url)
    assert page.status_code == 200 and "43.600000" in page.content.decode()
    g_lat, g_lng = geo.wgs84_to_gcj02(43.62, 121.33)
    response = csrf_post(
        client,
        url,
        {
            "system": "gcj02",
            "latitude": f"{g_lat:.7f}",
            "longitude": f"{g_lng:.7f}",
            "radius_m": "",
        },
    )
    assert response.status_code == 302
    world.village.refresh_from_db()
    assert abs(float(world.village.latitude) - 43.62) < 0.000002
    assert abs(float(world.village.longitude) - 121.33) < 0.000002
    assert world.village.radius_m == 1000


@pytest.mark.django_db
def test_the_point_page_shows_errors(world, login):
    client = login(world.users["township"])
    url = reverse("village_point", kwargs={"pk": world.village.pk})
    response = csrf_post(client, url, {"system": "wgs84", "latitude": "99", "longitude": "121"})
    assert response.status_code == 200
    assert response.context["form"].errors["latitude"]
    world.village.refresh_from_db()
    assert world.village.latitude == Decimal("43.600000")


@pytest.mark.django_db
def test_the_point_page_needs_the_permission(world, login):
    url = reverse("village_point", kwargs={"pk": world.village.pk})
    for key in ("leader", "cadre", "unit", "inspector"):
        assert login(world.users[key]).get(url).status_code == 403, key
    assert login(world.users["county"]).get(url).status_code == 200


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login_page(st, client, media):
    from attendance import helplogs

    signin, _ = sign(st.user, local(DAY, 8, 0), photo=upload(jpeg_with_location()))
    log, _ = helplogs.helplog_save(
        user=st.user,
        date=DAY,
        content="日志",
        photos=[upload(jpeg_with_location())],
        now=local(DAY, 20, 0),
    )
    urls = [
        reverse("signin_page"),
        reverse("signin_list"),
        reverse("signin_accept", kwargs={"pk": signin.pk}),
        reverse("signin_photo", kwargs={"pk": signin.pk}),
        reverse("helplog_page"),
        reverse("helplog_photo", kwargs={"uuid": log.photos.get().uuid}),
        reverse("village_point", kwargs={"pk": st.world.village.pk}),
    ]
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/accounts/login/?next="), url
    signin.refresh_from_db()
    assert not signin.accepted


@pytest.mark.django_db
def test_a_township_does_not_follow_a_cadre_who_moved_away(st, login, media):
    before, _ = sign(st.user, local(DAY, 8, 0), photo=upload(jpeg_with_location()))
    # the cadre moves from 一村 (甲镇) to 二村 (乙镇)
    st.membership.end_date = DAY
    st.membership.end_reason = EndReason.values[0]
    st.membership.save()
    station(st.cadre, st.world.other_village.teams.get(), start=DAY + datetime.timedelta(days=1))
    after, _ = sign(st.user, local(DAY + datetime.timedelta(days=1), 8, 0), metres=5000)
    assert after.village == st.world.other_village

    township, other = st.world.users["township"], st.world.users["other_township"]
    assert list(signins.signin_list(user=township)) == [before]
    assert list(signins.signin_list(user=other)) == [after]
    assert set(signins.signin_list(user=st.user)) == {before, after}
    # the old township cannot accept it or see its photo; the new one can
    with pytest.raises(Http404):
        signins.signin_accept(actor=township, signin=after, reason="开会")
    photo = reverse("signin_photo", kwargs={"pk": before.pk})
    assert login(other).get(photo).status_code == 404
    assert login(township).get(photo).status_code == 200
    assert signins.signin_accept(actor=other, signin=after, reason="开会").counts
