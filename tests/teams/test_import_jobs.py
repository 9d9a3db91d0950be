"""The roster upload pages: upload, check, preview, confirm, apply, cancel,
the error workbook, Celery for big files, and deleting the uploaded files."""

from __future__ import annotations

import datetime
import io
import os
import threading
from functools import partial
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from core.choices import AuditAction
from core.models import AuditLog, ImportJob, ImportJobStatus, User
from teams import services, tasks
from teams.models import Cadre, Membership
from teams.rosters import CADRES
from tests.conftest import csrf_post
from tests.teams.factories import id_number, make_cadre, make_team, station

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- building rosters ------------------------------------------------------------------


def cadre_row(name: str, number: str, phone: str, **changes) -> dict:
    row = {
        "姓名": name,
        "身份证号": number,
        "手机号": phone,
        "派出单位": "县财政局",
        "单位类别": "经济部门",
        "职务": "科员",
        "职级": "科员",
        "学历": "大学本科",
        "所学专业": "农学",
        "是否涉农专业": "是",
        "政治面貌": "中共党员",
        "是否有农村工作经历": "是",
        "是否参加过脱贫攻坚驻村": "否",
        "乡镇": "甲镇",
        "村名称": "一村",
        "驻村身份": "工作队员",
        "驻村开始日期": "2021-03-01",
    }
    row.update(changes)
    return row


def cadres_workbook(rows: list[dict], title: str | None = "甲镇驻村工作队花名册") -> bytes:
    """A roster as a township office saves it: a title row, then the headers."""
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(CADRES.headers)
    for row in rows:
        ws.append([row.get(h, "") for h in CADRES.headers])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def good_rows(n: int = 2, start: int = 100) -> list[dict]:
    names = ["张三", "李四", "王五", "赵六", "孙七", "周八"]
    return [
        cadre_row(names[i % len(names)], id_number(serial=start + i), f"1390000{start + i:04d}")
        for i in range(n)
    ]


def bad_rows() -> list[dict]:
    good = good_rows(1)
    broken = cadre_row("钱九", "150523198001010019", "13900009999")  # bad check digit
    return [*good, broken]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return settings.MEDIA_ROOT


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for the commit (file deletions, queued tasks) as a real
    commit would: the test's own transaction never commits."""
    return partial(django_capture_on_commit_callbacks, execute=True)


def stored_files(media: Path) -> list[str]:
    folder = media / "imports"
    return sorted(os.listdir(folder)) if folder.exists() else []


def upload(client, content: bytes, name: str = "花名册.xlsx", kind: str = "cadres"):
    return csrf_post(
        client,
        reverse("import_list"),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type=XLSX)},
    )


def latest_job() -> ImportJob:
    return ImportJob.objects.latest("pk")


# --- the good path -----------------------------------------------------------------------


def test_upload_preview_confirm_apply(world, login, media, committed):
    client = login(world.users["township"])
    response = upload(client, cadres_workbook(good_rows(2)))
    job = latest_job()
    assert response.status_code == 302
    assert response["Location"] == reverse("import_detail", kwargs={"pk": job.pk})
    assert job.status == ImportJobStatus.PREVIEW
    assert job.township == world.township and job.county == world.county
    assert job.counts == {"new": 2, "changed": 0, "unchanged": 0}
    assert job.total_rows == 2 and not job.errors
    assert len(stored_files(media)) == 1
    assert Cadre.objects.count() == 0  # the check writes nothing

    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="count-new">2<' in page
    assert 'data-testid="confirm"' in page

    with committed():
        response = csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED
    assert job.finished_at is not None and not job.file
    assert Cadre.objects.count() == 2
    assert Membership.objects.current().filter(team__village=world.village).count() == 2
    accounts = User.objects.filter(cadre__isnull=False)
    assert accounts.count() == 2 and not any(u.has_usable_password() for u in accounts)
    assert stored_files(media) == []  # the personal data is gone
    page = client.get(reverse("import_detail", kwargs={"pk": job.pk})).content.decode()
    assert 'data-testid="applied"' in page and 'data-testid="confirm"' not in page

    whats = list(
        AuditLog.objects.filter(object_type="core.importjob")
        .order_by("pk")
        .values_list("detail__what", flat=True)
    )
    assert whats == ["import_upload", "import_check", "import_confirm", "import_apply"]
    # the engine's own row for the written data
    assert AuditLog.objects.filter(detail__roster="cadres").count() == 1


def test_the_same_file_again_changes_nothing(world, login):
    client = login(world.users["township"])
    content = cadres_workbook(good_rows(2))
    upload(client, content)
    csrf_post(client, reverse("import_confirm", kwargs={"pk": latest_job().pk}))
    upload(client, content)
    job = latest_job()
    assert job.status == ImportJobStatus.PREVIEW
    assert job.counts == {"new": 0, "changed": 0, "unchanged": 2}


def test_a_job_cannot_be_applied_twice(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(2)))
    job = latest_job()
    url = reverse("import_confirm", kwargs={"pk": job.pk})
    csrf_post(client, url)
    response = csrf_post(client, url, follow=True)
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED
    assert AuditLog.objects.filter(detail__what="import_confirm", success=True).count() == 1
    refused = AuditLog.objects.get(detail__what="import_confirm", success=False)
    assert refused.actor == world.users["township"] and refused.object_id == str(job.pk)
    assert AuditLog.objects.filter(detail__roster="cadres").count() == 1
    # and the service refuses it outright
    with pytest.raises(ValidationError):
        services.import_job_confirm(actor=world.users["township"], job=job)


def test_cancel_deletes_the_file_and_stops_the_job(world, login, media, committed):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(2)))
    job = latest_job()
    assert stored_files(media)
    with committed():
        response = csrf_post(client, reverse("import_cancel", kwargs={"pk": job.pk}))
    assert response.status_code == 302 and response["Location"] == reverse("import_list")
    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED and not job.file
    assert stored_files(media) == []
    # nothing can be applied after a cancel
    csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED
    assert Cadre.objects.count() == 0
    assert AuditLog.objects.filter(detail__what="import_cancel", actor=world.users["township"])


def test_an_applied_job_cannot_be_cancelled(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    csrf_post(client, reverse("import_cancel", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED


def test_county_office_imports_for_the_county(world, login):
    client = login(world.users["county"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    assert job.township is None and job.status == ImportJobStatus.PREVIEW
    csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED


def test_the_list_shows_the_scopes_jobs(world, login):
    upload(login(world.users["township"]), cadres_workbook(good_rows(1)), name="甲镇.xlsx")
    upload(login(world.users["other_township"]), cadres_workbook([]), name="乙镇.xlsx")
    own = login(world.users["township"]).get(reverse("import_list")).content.decode()
    assert "甲镇.xlsx" in own and "乙镇.xlsx" not in own
    county = login(world.users["county"]).get(reverse("import_list")).content.decode()
    assert "甲镇.xlsx" in county and "乙镇.xlsx" in county
    far = login(world.users["far_county"]).get(reverse("import_list")).content.decode()
    assert "甲镇.xlsx" not in far


def test_the_list_runs_a_fixed_number_of_queries(world, login, django_assert_max_num_queries):
    client = login(world.users["county"])
    for _ in range(3):
        upload(client, cadres_workbook(good_rows(1)))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("import_list")).status_code == 200
    for _ in range(5):
        upload(client, cadres_workbook(good_rows(1)))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("import_list")).status_code == 200


def test_the_admin_import_preselects_the_roster(world, login):
    page = login(world.users["township"]).get(reverse("import_list") + "?kind=pairings")
    assert '<option value="pairings" selected>' in page.content.decode()


# --- errors ---------------------------------------------------------------------------------


def test_errors_are_listed_by_row_and_column_and_nothing_is_written(world, login, media):
    client = login(world.users["township"])
    upload(client, cadres_workbook(bad_rows()))
    job = latest_job()
    assert job.status == ImportJobStatus.INVALID
    assert job.errors and all({"row", "column", "message"} <= set(e) for e in job.errors)
    error = next(e for e in job.errors if e["column"] == "身份证号")
    assert error["row"] == 4  # title row, header row, one good row
    page = client.get(reverse("import_detail", kwargs={"pk": job.pk})).content.decode()
    assert 'data-testid="error-table"' in page
    assert f"<td>{error['row']}</td><td>身份证号</td>" in page
    assert 'data-testid="confirm"' not in page and 'data-testid="error-workbook"' in page
    # confirming is refused
    csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID
    assert Cadre.objects.count() == 0
    assert stored_files(media)  # kept for the error workbook until cancelled or purged


def test_error_workbook_marks_the_bad_cells(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(bad_rows()))
    job = latest_job()
    response = client.get(reverse("import_errors", kwargs={"pk": job.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    comments = [c.comment.text for row in ws.iter_rows() for c in row if c.comment]
    assert any("校验" in text or "身份证" in text for text in comments), comments
    export = AuditLog.objects.get(action=AuditAction.EXPORT, detail__what="import_errors")
    assert export.actor == world.users["township"] and export.detail["rows"] == len(job.errors)


def test_no_error_workbook_without_errors(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    response = client.get(reverse("import_errors", kwargs={"pk": latest_job().pk}))
    assert response.status_code == 404


def test_a_file_that_is_not_what_its_name_says_fails_and_is_deleted(world, login, media, committed):
    client = login(world.users["township"])
    with committed():
        upload(client, b"<html><body><table><tr><td>x</td></tr></table></body></html>")
    job = latest_job()
    assert job.status == ImportJobStatus.FAILED
    assert job.message
    assert stored_files(media) == []
    page = client.get(reverse("import_detail", kwargs={"pk": job.pk})).content.decode()
    assert 'data-testid="job-message"' in page


def test_wrong_extension_and_oversize_files_are_refused(world, login, media):
    client = login(world.users["township"])
    response = upload(client, b"hello", name="roster.txt")
    assert response.status_code == 400
    big = b"0" * (10 * 1024 * 1024 + 1)
    response = upload(client, big, name="big.csv")
    assert response.status_code == 400
    assert "10 MB" in response.content.decode() or "10" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert stored_files(media) == []


def test_data_changed_since_the_preview_makes_the_apply_refuse(world, login, media):
    client = login(world.users["township"])
    rows = good_rows(1)
    upload(client, cadres_workbook(rows))
    job = latest_job()
    assert job.status == ImportJobStatus.PREVIEW
    # meanwhile the cadre is stationed in another township's village
    cadre = make_cadre(world.unit, rows[0]["姓名"], number=rows[0]["身份证号"])
    station(cadre, make_team(world.other_village))
    csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID and job.errors
    assert job.message
    assert stored_files(media)  # kept for the error workbook
    assert Cadre.objects.count() == 1


# --- scope -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["other_township", "far_county"])
def test_another_scope_cannot_see_or_touch_a_job(world, login, media, key):
    owner = login(world.users["township"])
    upload(owner, cadres_workbook(bad_rows()))
    job = latest_job()
    outsider = login(world.users[key])
    for name in ("import_detail", "import_progress", "import_errors"):
        assert outsider.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404, name
        assert outsider.get(reverse(name, kwargs={"pk": 987654})).status_code == 404, name
    for name in ("import_confirm", "import_cancel"):
        assert csrf_post(outsider, reverse(name, kwargs={"pk": job.pk})).status_code == 404, name
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INVALID and job.file


def test_another_townships_good_job_cannot_be_confirmed(world, login):
    upload(login(world.users["township"]), cadres_workbook(good_rows(1)))
    job = latest_job()
    response = csrf_post(
        login(world.users["other_township"]), reverse("import_confirm", kwargs={"pk": job.pk})
    )
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEW and Cadre.objects.count() == 0


def test_the_county_sees_its_townships_jobs(world, login):
    upload(login(world.users["township"]), cadres_workbook(good_rows(1)))
    job = latest_job()
    county = login(world.users["county"])
    assert county.get(reverse("import_detail", kwargs={"pk": job.pk})).status_code == 200


@pytest.mark.parametrize("key", ["unit", "leader", "cadre", "inspector", "sysadmin", "auditadmin"])
def test_roles_without_import_permission_get_403(world, login, key):
    client = login(world.users[key])
    assert client.get(reverse("import_list")).status_code == 403
    response = csrf_post(
        client,
        reverse("import_list"),
        {"kind": "cadres", "file": SimpleUploadedFile("a.xlsx", b"x", content_type=XLSX)},
    )
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("key", ["county", "township", "other_township", "far_county"])
def test_offices_reach_the_upload_page(world, login, key):
    assert login(world.users[key]).get(reverse("import_list")).status_code == 200


def test_anonymous_users_are_sent_to_log_in(world, client):
    job = ImportJob.objects.create(
        kind="cadres",
        county=world.county,
        township=world.township,
        created_by=world.users["township"],
        original_name="a.xlsx",
    )
    for url in (
        reverse("import_list"),
        reverse("import_errors", kwargs={"pk": job.pk}),
        reverse("activation_codes"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_confirm_and_cancel_are_post_only_and_need_csrf(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    assert client.get(reverse("import_confirm", kwargs={"pk": job.pk})).status_code == 405
    assert client.post(reverse("import_confirm", kwargs={"pk": job.pk})).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEW


# --- big files: Celery with a progress bar --------------------------------------------------------


def test_a_big_file_is_checked_and_applied_by_celery(
    world, login, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "SYNC_MAX_BYTES", {})
    queued = []
    for task in (tasks.check_import_job, tasks.apply_import_job):
        original = task.delay_on_commit

        def spy(*args, _original=original, _name=task.name):
            queued.append((_name, args))
            return _original(*args)

        monkeypatch.setattr(task, "delay_on_commit", spy)
    client = login(world.users["township"])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, cadres_workbook(good_rows(3)))
    job = latest_job()
    assert queued == [("teams.tasks.check_import_job", (job.pk,))]  # ids only
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEW  # eager Celery without Redis

    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(client, reverse("import_confirm", kwargs={"pk": job.pk}))
    assert queued[-1] == ("teams.tasks.apply_import_job", (job.pk, world.users["township"].pk))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED and Cadre.objects.count() == 3


def test_the_progress_bar_polls_until_the_stage_is_over(world, login):
    job = ImportJob.objects.create(
        kind="cadres",
        county=world.county,
        township=world.township,
        created_by=world.users["township"],
        original_name="big.xlsx",
        status=ImportJobStatus.VALIDATING,
    )
    cache.set(services.progress_key(job.pk), {"stage": "check", "done": 250, "total": 1000})
    client = login(world.users["township"])
    page = client.get(reverse("import_detail", kwargs={"pk": job.pk})).content.decode()
    progress_url = reverse("import_progress", kwargs={"pk": job.pk})
    assert f'hx-get="{progress_url}"' in page and "25%" in page
    fragment = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "HX-Redirect" not in fragment
    assert "250 / 1000" in fragment.content.decode()

    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.PREVIEW)
    fragment = client.get(progress_url, HTTP_HX_REQUEST="true")
    assert fragment["HX-Redirect"] == reverse("import_detail", kwargs={"pk": job.pk})
    assert "hx-get" not in fragment.content.decode()


def test_tasks_are_idempotent(world, login):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    tasks.check_import_job.delay(job.pk)  # already checked: left alone
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEW
    tasks.apply_import_job.delay(job.pk)  # not confirmed: nothing happens
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEW and Cadre.objects.count() == 0
    services.import_job_confirm(actor=world.users["township"], job=job)
    tasks.apply_import_job.delay(job.pk)
    tasks.apply_import_job.delay(job.pk)  # a redelivery
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED and Cadre.objects.count() == 1
    assert AuditLog.objects.filter(detail__roster="cadres").count() == 1


def test_a_job_that_keeps_failing_is_not_retried_forever(world, login, media, committed):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    services.import_job_confirm(actor=world.users["township"], job=job)
    for _ in range(services.MAX_ATTEMPTS):
        services._attempt(job.pk, "apply")  # earlier deliveries that died
    with committed():
        services.import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and not job.file
    assert stored_files(media) == []
    assert Cadre.objects.count() == 0


# --- abandoned files ---------------------------------------------------------------------------


def test_purge_deletes_files_of_abandoned_jobs(world, login, media, committed):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)), name="old.xlsx")
    old = latest_job()
    upload(client, cadres_workbook(bad_rows()), name="fresh.xlsx")
    fresh = latest_job()
    ImportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )
    # a stray file nobody refers to (a crash between commit and delete)
    stray = Path(media) / "imports" / "stray.xlsx"
    stray.write_bytes(b"x")
    past = (timezone.now() - datetime.timedelta(days=2)).timestamp()
    os.utime(stray, (past, past))
    assert len(stored_files(media)) == 3

    with committed():
        assert tasks.purge_abandoned_imports.delay().get() == 2

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ImportJobStatus.CANCELLED and not old.file
    assert fresh.status == ImportJobStatus.INVALID and fresh.file
    assert stored_files(media) == [os.path.basename(fresh.file.name)]
    row = AuditLog.objects.get(detail__what="import_purge")
    assert row.detail["jobs"] == [old.pk] and row.actor is None


def test_purge_fails_a_job_stuck_applying(world, login, media, committed):
    client = login(world.users["township"])
    upload(client, cadres_workbook(good_rows(1)))
    job = latest_job()
    services.import_job_confirm(actor=world.users["township"], job=job)
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    with committed():
        services.import_jobs_purge()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and not job.file
    assert stored_files(media) == []
    # a late redelivery cannot resurrect it
    services.import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.FAILED and Cadre.objects.count() == 0


# --- real concurrency (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_confirms_at_once_apply_once(settings, tmp_path):
    from tests.factories import make_world

    world = make_world()
    actor = world.users["township"]
    job = services.import_job_create(
        actor=actor,
        kind="cadres",
        upload=SimpleUploadedFile("a.xlsx", cadres_workbook(good_rows(2)), content_type=XLSX),
    )
    services.import_job_check(job_id=job.pk)
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm():
        try:
            barrier.wait()
            services.import_job_confirm(actor=User.objects.get(pk=actor.pk), job=job)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    services.import_job_apply(job_id=job.pk)
    services.import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLIED and Cadre.objects.count() == 2
    assert AuditLog.objects.filter(detail__roster="cadres").count() == 1
