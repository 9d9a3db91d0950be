"""The roster upload in a real browser (Debian's Chromium driven by Playwright,
as in tests/test_browser.py): upload, preview, confirm, applied; errors shown
by row and column with the marked workbook to download; the progress bar
polling with htmx until the preview is ready."""

from __future__ import annotations

import io
import os

import pytest
from django.core.cache import cache
from openpyxl import load_workbook

from core.models import ImportJob, ImportJobStatus
from teams import services
from teams.models import Cadre
from tests.factories import make_world
from tests.teams.test_import_jobs import XLSX, bad_rows, cadres_workbook, good_rows
from tests.test_browser import browser, log_in, screenshot, text_of  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db):
    return make_world()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    return settings.MEDIA_ROOT


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 1280, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def _upload(page, content: bytes, name: str) -> None:
    page.goto("/imports/")
    page.locator("select[name=kind]").select_option("cadres")
    page.locator("input[name=file]").set_input_files(
        {"name": name, "mimeType": XLSX, "buffer": content}
    )
    with page.expect_navigation():
        page.get_by_test_id("upload").click()


def _files(media) -> list[str]:
    folder = media / "imports"
    return os.listdir(folder) if folder.exists() else []


def test_township_uploads_previews_and_confirms(page, world, media):
    log_in(page, world.users["township"].username)
    _upload(page, cadres_workbook(good_rows(2)), "甲镇花名册.xlsx")

    assert text_of(page, "count-new") == "2"
    assert text_of(page, "count-changed") == "0"
    assert text_of(page, "count-unchanged") == "0"
    assert page.get_by_test_id("error-table").count() == 0
    assert Cadre.objects.count() == 0
    screenshot(page, "import-preview")

    with page.expect_navigation():
        page.get_by_test_id("confirm").click()
    page.get_by_test_id("applied").wait_for(state="visible")
    assert page.get_by_test_id("job-status").get_attribute("data-status") == "applied"
    assert page.get_by_test_id("confirm").count() == 0
    screenshot(page, "import-applied")

    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.APPLIED and not job.file
    assert Cadre.objects.count() == 2
    assert _files(media) == []


def test_township_sees_errors_and_downloads_the_marked_workbook(page, world, media, tmp_path):
    log_in(page, world.users["township"].username)
    _upload(page, cadres_workbook(bad_rows()), "有错误的花名册.xlsx")

    table = page.get_by_test_id("error-table")
    table.wait_for(state="visible")
    cells = [c.strip() for c in table.locator("tbody tr").first.locator("td").all_inner_texts()]
    assert cells[0] == "4" and cells[1] == "身份证号", cells
    assert page.get_by_test_id("confirm").count() == 0
    screenshot(page, "import-errors")

    with page.expect_download() as info:
        page.get_by_test_id("error-workbook").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "errors.xlsx"
    download.save_as(saved)
    ws = load_workbook(io.BytesIO(saved.read_bytes())).worksheets[0]
    assert any(cell.comment for row in ws.iter_rows() for cell in row)

    with page.expect_navigation():
        page.get_by_test_id("cancel").click()
    assert ImportJob.objects.get().status == ImportJobStatus.CANCELLED
    assert _files(media) == []
    assert Cadre.objects.count() == 0


def test_the_progress_bar_polls_until_the_preview_is_ready(page, world, media):
    job = ImportJob.objects.create(
        kind="cadres",
        county=world.county,
        township=world.township,
        created_by=world.users["township"],
        original_name="大花名册.xlsx",
        status=ImportJobStatus.VALIDATING,
    )
    cache.set(services.progress_key(job.pk), {"stage": "check", "done": 400, "total": 1000})
    log_in(page, world.users["township"].username)
    page.goto(f"/imports/{job.pk}/")
    progress = page.get_by_test_id("import-progress")
    progress.wait_for(state="visible")
    assert "40%" in progress.inner_text()
    screenshot(page, "import-progress")

    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.PREVIEW,
        total_rows=1000,
        processed_rows=1000,
        counts={"new": 990, "changed": 10, "unchanged": 0},
    )
    page.get_by_test_id("count-new").wait_for(state="visible")  # htmx reloaded the page
    assert text_of(page, "count-new") == "990"
    assert page.get_by_test_id("import-progress").count() == 0
