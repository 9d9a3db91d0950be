"""The monthly audit's pages, exports, JSON API and command: scoping both ways,
buttons per role, the record book's cells, query counts."""

from __future__ import annotations

import io
import json
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token

from attendance.audit import FIGURES, audit_month, month_figures
from attendance.batches import batch_file, batch_submit
from attendance.choices import BatchStatus, LeaveKind
from attendance.models import AttendanceBatch, MonthlyAttendance
from core.models import AuditLog
from tests.attendance.test_audit import (
    MARCH,
    both_halves,
    day,
    leave,
    local,
    log,
    sign,
    stationed,
    team_of,
)
from tests.conftest import csrf_post
from tests.factories import make_village
from tests.teams.factories import station

RESULTS = "/attendance/audit/"
SUBSIDY = "/attendance/subsidy/"
API = "/api/v1/attendance/monthly/"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """A cache key prefix of the test's own (never cache.clear(): on Redis that
    would flush a database shared with the broker)."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def audited(world):
    """张三 in 一村 (甲镇) with an absence-heavy month, 李四 in 二村 (乙镇) fully
    on post, and a far county cadre; March audited."""
    zhang = stationed(world, "张三")
    both_halves(zhang, [day(2), day(3)])
    leave(zhang, day(4), "am", day(4), "pm")
    li = stationed(world, "李四", village=world.other_village)
    both_halves(li, [day(n) for n in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16)])
    far = stationed(world, "王五", village=world.far_village)
    far.unit = world.far_unit
    far.county = world.other_county
    far.save()
    audit_month(actor=None, county=world.county, month=MARCH)
    audit_month(actor=None, county=world.other_county, month=MARCH)
    return {"zhang": zhang, "li": li, "far": far}


def batch_of(township) -> AttendanceBatch:
    return AttendanceBatch.objects.get(township=township, month=MARCH)


# --- results ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_county_overview_lists_its_townships(world, login, audited):
    page = login(world.users["county"]).get(RESULTS, {"month": "2026-03"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "甲镇" in html and "乙镇" in html and "丙镇" not in html
    assert f'data-township="{world.township.pk}" data-status="draft"' in html


@pytest.mark.django_db
def test_township_results_show_its_rows_with_absences_highlighted(world, login, audited):
    page = login(world.users["township"]).get(RESULTS, {"month": "2026-03"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "张三" in html and "李四" not in html and "王五" not in html
    assert f'<tr class="table-danger" data-cadre="{audited["zhang"].pk}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "township", "status"),
    [
        ("county", "township", 200),
        ("county", "other_township", 200),
        ("county", "far_township", 404),
        ("township", "township", 200),
        ("township", "other_township", 404),
        ("other_township", "township", 404),
        ("inspector", "township", 200),
        ("inspector", "other_township", 404),
        ("leader", "township", 200),
        ("leader", "other_township", 404),
        ("far_county", "township", 404),
        ("far_county", "far_township", 200),
        ("unit", "township", 403),
        ("cadre", "township", 403),
        ("auditadmin", "township", 403),
    ],
)
def test_results_scoping_both_ways(world, login, audited, who, township, status):
    area = getattr(world, township)
    response = login(world.users[who]).get(RESULTS, {"month": "2026-03", "township": area.pk})
    assert response.status_code == status
    missing = login(world.users[who]).get(RESULTS, {"month": "2026-03", "township": 987654})
    assert missing.status_code == (403 if status == 403 else 404)


@pytest.mark.django_db
def test_a_team_leader_sees_only_the_villages_rows(world, login, audited):
    neighbour = make_village(world.township, "四村")
    stationed(world, "赵六", village=neighbour)
    audit_month(actor=None, county=world.county, month=MARCH)
    html = login(world.users["leader"]).get(RESULTS, {"month": "2026-03"}).content.decode()
    assert "张三" in html and "赵六" not in html
    # the township's batch is not in a leader's scope: no status, no buttons
    assert 'data-testid="batch"' not in html and 'data-testid="submit"' not in html
    township_html = login(world.users["township"]).get(RESULTS, {"month": "2026-03"})
    assert "赵六" in township_html.content.decode()


@pytest.mark.django_db
def test_results_filter_and_sort(world, login, audited):
    neighbour = make_village(world.township, "四村")
    full = stationed(world, "赵六", village=neighbour)
    both_halves(full, [day(n) for n in range(1, 32) if n not in (1, 7, 8, 14, 15, 21, 22, 28, 29)])
    audit_month(actor=None, county=world.county, month=MARCH)
    client = login(world.users["township"])
    absent = client.get(RESULTS, {"month": "2026-03", "status": "absent"}).content.decode()
    assert "张三" in absent and "赵六" not in absent
    village = client.get(RESULTS, {"month": "2026-03", "village": neighbour.pk}).content.decode()
    assert "赵六" in village and "张三" not in village
    ordered = client.get(RESULTS, {"month": "2026-03", "sort": "-on_post"}).content.decode()
    assert ordered.index("赵六") < ordered.index("张三")
    ordered = client.get(RESULTS, {"month": "2026-03", "sort": "on_post"}).content.decode()
    assert ordered.index("张三") < ordered.index("赵六")
    # an unknown sort key falls back to the default order, never into the query
    assert (
        client.get(RESULTS, {"month": "2026-03", "sort": "cadre__id_number_enc"}).status_code == 200
    )


@pytest.mark.django_db
def test_a_bad_month_is_reported_and_the_default_used(world, login, audited):
    page = login(world.users["township"]).get(RESULTS, {"month": "2026-13"})
    assert page.status_code == 200
    assert 'class="alert alert-warning"' in page.content.decode()


@pytest.mark.django_db
def test_buttons_follow_the_role_and_the_state(world, login, audited):
    params = {"month": "2026-03", "township": world.township.pk}
    township = login(world.users["township"])
    county = login(world.users["county"])
    assert 'data-testid="submit"' in township.get(RESULTS, params).content.decode()
    county_html = county.get(RESULTS, params).content.decode()
    assert 'data-testid="submit"' not in county_html and 'data-testid="file"' not in county_html
    assert 'data-testid="run"' in county_html

    batch_submit(actor=world.users["township"], batch=batch_of(world.township))
    assert 'data-testid="file"' in county.get(RESULTS, params).content.decode()
    township_html = township.get(RESULTS, params).content.decode()
    assert 'data-testid="submit"' not in township_html and 'data-testid="file"' not in township_html

    batch_file(actor=world.users["county"], batch=batch_of(world.township))
    county_html = county.get(RESULTS, params).content.decode()
    assert 'data-testid="reopen"' in county_html and 'data-testid="run"' not in county_html
    assert 'data-testid="reopen"' not in township.get(RESULTS, params).content.decode()


def _grow(world, n: int) -> None:
    for i in range(n):
        cadre = stationed(world, f"干部{i}")
        both_halves(cadre, [day(2)])
        leave(cadre, day(3), "am", day(3), "pm", kind=LeaveKind.BUSINESS)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 25])
def test_results_page_query_count_is_fixed(world, login, django_assert_max_num_queries, size):
    _grow(world, size)
    audit_month(actor=None, county=world.county, month=MARCH)
    batch_submit(actor=world.users["township"], batch=batch_of(world.township))
    client = login(world.users["township"])
    with django_assert_max_num_queries(14):
        response = client.get(RESULTS, {"month": "2026-03"})
    assert response.content.decode().count("data-cadre=") == size
    county = login(world.users["county"])
    with django_assert_max_num_queries(14):
        county.get(RESULTS, {"month": "2026-03", "township": world.township.pk})
    with django_assert_max_num_queries(12):
        county.get(RESULTS, {"month": "2026-03"})


# --- the workflow through the pages -------------------------------------------------------


@pytest.mark.django_db
def test_submit_file_reopen_through_the_pages(world, login, audited):
    batch = batch_of(world.township)
    township = login(world.users["township"])
    county = login(world.users["county"])
    response = csrf_post(township, reverse("audit_batch_submit", args=[batch.pk]))
    assert response.status_code == 302 and f"township={world.township.pk}" in response["Location"]
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED

    assert csrf_post(county, reverse("audit_batch_file", args=[batch.pk])).status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FILED

    # no reason: refused with a message, still filed
    csrf_post(county, reverse("audit_batch_reopen", args=[batch.pk]), {"reason": " "})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FILED
    csrf_post(county, reverse("audit_batch_reopen", args=[batch.pk]), {"reason": "漏录公出"})
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT and batch.reopened_count == 1
    steps = set(
        AuditLog.objects.filter(
            object_type="attendance.attendancebatch",
            object_id=str(batch.pk),
            detail__step__in=["submit", "file", "reopen"],
        ).values_list("detail__step", "username")
    )
    assert steps == {("submit", "township"), ("file", "county"), ("reopen", "county")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "who", "status"),
    [
        ("audit_batch_submit", "other_township", 404),
        ("audit_batch_submit", "county", 403),
        ("audit_batch_submit", "leader", 403),
        ("audit_batch_file", "township", 403),
        ("audit_batch_file", "far_county", 404),
        ("audit_batch_reopen", "township", 403),
        ("audit_batch_reopen", "far_county", 404),
        ("audit_batch_reopen", "unit", 403),
    ],
)
def test_batch_actions_both_ways(world, login, audited, name, who, status):
    batch = batch_of(world.township)
    client = login(world.users[who])
    assert csrf_post(client, reverse(name, args=[batch.pk]), {"reason": "x"}).status_code == status
    if status == 404:
        missing = csrf_post(client, reverse(name, args=[987654]), {"reason": "x"})
        assert missing.status_code == 404
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


@pytest.mark.django_db
def test_batch_actions_need_post_and_csrf(world, login, audited):
    batch = batch_of(world.township)
    client = login(world.users["township"])
    assert client.get(reverse("audit_batch_submit", args=[batch.pk])).status_code == 405
    assert client.post(reverse("audit_batch_submit", args=[batch.pk])).status_code == 403
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


@pytest.mark.django_db
def test_a_wrong_step_shows_a_message(world, login, audited):
    batch = batch_of(world.township)
    county = login(world.users["county"])
    response = csrf_post(county, reverse("audit_batch_file", args=[batch.pk]), follow=True)
    assert response.status_code == 200
    assert "alert-danger" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DRAFT


# --- running from the portal ----------------------------------------------------------------


@pytest.mark.django_db
def test_county_staff_run_the_audit_and_follow_its_progress(
    world, login, django_capture_on_commit_callbacks
):
    cadre = stationed(world)
    sign(cadre, local(day(2), 9))
    client = login(world.users["county"])
    assert client.get("/attendance/audit/run/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(client, "/attendance/audit/run/", {"month": "2026-03"})
    assert response.status_code == 302
    progress = response["Location"]
    page = client.get(progress).content.decode()
    assert 'data-state="done"' in page and 'data-testid="results-link"' in page
    assert "/attendance/audit/?month=2026-03" in page
    partial = client.get(progress, HTTP_HX_REQUEST="true")
    assert partial.content.decode().startswith('<div id="audit-progress"')
    assert MonthlyAttendance.objects.get(cadre=cadre).on_post_days == Decimal("0.5")
    entry = AuditLog.objects.filter(detail__what="monthly_audit").first()
    assert entry.username == "county"
    # the job belongs to the county: others get 404
    assert login(world.users["far_county"]).get(progress).status_code == 404
    assert login(world.users["township"]).get(progress).status_code == 403
    assert (
        client.get(
            reverse("audit_progress", args=["00000000-0000-0000-0000-000000000000"])
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_progress_while_running(world, login):
    from attendance import audit

    client = login(world.users["county"])
    audit.job_start(
        job_id="7b0c9a3e-0000-4000-8000-000000000001",
        county=world.county,
        user=world.users["county"],
        month=MARCH,
    )
    audit._job_update("7b0c9a3e-0000-4000-8000-000000000001", state="running", done=1, total=2)
    html = client.get(
        "/attendance/audit/run/7b0c9a3e-0000-4000-8000-000000000001/"
    ).content.decode()
    assert 'hx-trigger="every 1s"' in html and "50%" in html


@pytest.mark.django_db
def test_one_township_from_the_portal(world, login, django_capture_on_commit_callbacks):
    stationed(world)
    client = login(world.users["county"])
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(
            client, "/attendance/audit/run/", {"month": "2026-03", "township": world.township.pk}
        )
    assert response.status_code == 302
    assert list(AttendanceBatch.objects.values_list("township_id", flat=True)) == [
        world.township.pk
    ]
    assert f"township={world.township.pk}" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_run_refuses_a_filed_month_and_an_unfinished_one(world, login, audited):
    batch_submit(actor=world.users["township"], batch=batch_of(world.township))
    batch_file(actor=world.users["county"], batch=batch_of(world.township))
    client = login(world.users["county"])
    page = csrf_post(client, "/attendance/audit/run/", {"month": "2026-03"})
    assert page.status_code == 200 and "甲镇" in page.content.decode()
    assert 'data-testid="form-error"' in page.content.decode()
    from django.utils import timezone

    this_month = timezone.localdate().strftime("%Y-%m")
    page = csrf_post(client, "/attendance/audit/run/", {"month": this_month})
    assert 'data-testid="form-error"' in page.content.decode()
    page = csrf_post(client, "/attendance/audit/run/", {"month": "2026-13"})
    assert 'data-testid="form-error"' in page.content.decode()
    page = csrf_post(
        client, "/attendance/audit/run/", {"month": "2026-03", "township": world.far_township.pk}
    )
    assert 'data-testid="form-error"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["township", "inspector", "leader", "unit", "cadre", "sysadmin"])
def test_only_county_staff_may_run(world, login, who):
    client = login(world.users[who])
    assert client.get("/attendance/audit/run/").status_code == 403
    assert csrf_post(client, "/attendance/audit/run/", {"month": "2026-03"}).status_code == 403
    assert not AttendanceBatch.objects.exists()


# --- the record book ----------------------------------------------------------------------------


def _book(client, team, month="2026-03"):
    response = client.get(reverse("audit_record_book", args=[team.pk]), {"month": month})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content)).active


@pytest.mark.django_db
def test_record_book_cells(world, login):
    team = team_of(world.village)
    zhang = stationed(world, "张三")
    late = stationed(world, "李四", start=day(16))
    sign(zhang, local(day(2), 8))  # morning √, afternoon ×
    both_halves(zhang, [day(3)])
    leave(zhang, day(4), "pm", day(5), "am")
    leave(zhang, day(6), "am", day(6), "pm", kind=LeaveKind.BUSINESS)
    sign(zhang, local(day(7), 9))  # Saturday: blank
    log(zhang, day(3))
    ws = _book(login(world.users["township"]), team)

    assert ws["A1"].value == "甲镇一村驻村工作队出勤记录本"
    assert "2026年3月" in ws["A2"].value and "22" in ws["A2"].value
    headers = [c.value for c in ws[3]]
    assert headers[:3] == ["序号", "姓名", "驻村身份"]
    assert headers[3] == "1日" and headers[33] == "31日"
    assert headers[-5:] == ["应出勤(天)", "在岗(天)", "其中因公(天)", "请假(天)", "缺勤(天)"]
    assert ws.cell(row=4, column=4).value == "日"  # 1 March 2026 is a Sunday
    rows = {ws.cell(row=r, column=2).value: r for r in range(5, 7)}
    z = rows["张三"]

    def cell(row, n):
        return ws.cell(row=row, column=3 + n).value or ""  # openpyxl reads "" back as None

    assert cell(z, 1) == ""  # Sunday
    assert cell(z, 2) == "√\n×"
    assert cell(z, 3) == "√\n√"
    assert cell(z, 4) == "×\n假"
    assert cell(z, 5) == "假\n×"
    assert cell(z, 6) == "公\n公"
    assert cell(z, 7) == ""  # Saturday, even with a sign-in
    assert cell(z, 9) == "×\n×"
    totals = [ws.cell(row=z, column=c).value for c in range(35, 40)]
    # on post: 2 March morning, 3 March, 6 March on business; leave: 4 pm and 5 am
    assert [float(v) for v in totals] == [22, 2.5, 1, 1, 18.5]
    figures = {r["cadre_id"]: r for r in month_figures(county=world.county, month=MARCH)}
    assert float(totals[1]) == float(figures[zhang.pk]["on_post_days"])
    assert float(totals[4]) == float(figures[zhang.pk]["absent_days"])

    li = rows["李四"]
    assert cell(li, 13) == ""  # before the membership
    assert cell(li, 16) == "×\n×"
    assert float(ws.cell(row=li, column=35).value) == 12

    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    entry = AuditLog.objects.get(detail__what="attendance_record_book")
    assert entry.detail["rows"] == 2 and entry.username == "township"
    assert late.pk != zhang.pk


@pytest.mark.django_db
def test_record_book_one_row_per_member_after_a_role_change(world, login):
    cadre = stationed(world, "张三", end_date=day(10), end_reason="调整")
    station(cadre, team_of(world.village), role="工作队长", start=day(10))
    ws = _book(login(world.users["county"]), team_of(world.village))
    names = [ws.cell(row=r, column=2).value for r in range(5, 8)]
    assert names.count("张三") == 1
    assert ws.cell(row=5, column=3).value == "工作队长"
    assert float(ws.cell(row=5, column=35).value) == 22


@pytest.mark.django_db
def test_record_book_escapes_formulas(world, login):
    stationed(world, "=HYPERLINK(1)")
    ws = _book(login(world.users["county"]), team_of(world.village))
    assert ws.cell(row=5, column=2).value == "'=HYPERLINK(1)"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["unit", "cadre"])
def test_record_book_needs_permission(world, login, who):
    response = login(world.users[who]).get(
        reverse("audit_record_book", args=[team_of(world.village).pk])
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_record_book_query_count(world, login, django_assert_max_num_queries):
    team = team_of(world.village)
    client = login(world.users["township"])
    _book(client, team)
    _grow(world, 1)
    with django_assert_max_num_queries(14):
        _book(client, team)
    _grow(world, 15)
    with django_assert_max_num_queries(14):
        _book(client, team)


# --- the subsidy statement -----------------------------------------------------------------------


@pytest.mark.django_db
def test_subsidy_statement_page(world, login, audited):
    html = login(world.users["county"]).get(SUBSIDY, {"month": "2026-03"}).content.decode()
    zhang, li = audited["zhang"], audited["li"]
    assert "张三" in html and "李四" in html and "王五" not in html
    assert zhang.id_number_masked in html and zhang.get_number("id_number") not in html
    assert 'data-testid="amount-total">780.00<' in html  # (2 + 11) × 60
    assert 'data-testid="unfiled"' in html
    township = login(world.users["township"]).get(SUBSIDY, {"month": "2026-03"}).content.decode()
    assert "张三" in township and "李四" not in township
    assert li.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "township", "status"),
    [
        ("county", "other_township", 200),
        ("township", "other_township", 404),
        ("far_county", "township", 404),
        ("auditadmin", "township", 403),
        ("sysadmin", "township", 403),
    ],
)
def test_subsidy_scoping(world, login, audited, who, township, status):
    params = {"month": "2026-03", "township": getattr(world, township).pk}
    assert login(world.users[who]).get(SUBSIDY, params).status_code == status


@pytest.mark.django_db
def test_a_cadre_sees_only_their_own_subsidy(world, login, audited):
    zhang = audited["zhang"]
    zhang.user = world.users["cadre"]
    zhang.save(update_fields=["user"])
    html = login(world.users["cadre"]).get(SUBSIDY, {"month": "2026-03"}).content.decode()
    assert "张三" in html and "李四" not in html


@pytest.mark.django_db
def test_subsidy_export(world, login, audited):
    response = login(world.users["county"]).get(SUBSIDY, {"month": "2026-03", "export": "xlsx"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value == "2026年3月驻村工作队员生活补助发放表"
    assert [c.value for c in ws[3]][:9] == [
        "序号",
        "姓名",
        "身份证号",
        "派出单位",
        "乡镇",
        "村",
        "在岗天数",
        "标准(元/天)",
        "金额(元)",
    ]
    body = {ws.cell(row=r, column=2).value: r for r in range(4, 6)}
    zhang = body["张三"]
    assert ws.cell(row=zhang, column=3).value == audited["zhang"].id_number_masked
    assert float(ws.cell(row=zhang, column=7).value) == 2
    assert float(ws.cell(row=zhang, column=8).value) == 60
    assert float(ws.cell(row=zhang, column=9).value) == 120
    assert ws.cell(row=6, column=1).value == "合计"
    assert float(ws.cell(row=6, column=7).value) == 13
    assert float(ws.cell(row=6, column=9).value) == 780
    assert ws.page_setup.orientation == "landscape"
    entry = AuditLog.objects.get(detail__what="subsidy_statement")
    assert entry.detail["rows"] == 2 and entry.action == "export"


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 30])
def test_subsidy_page_query_count(world, login, django_assert_max_num_queries, size):
    _grow(world, size)
    audit_month(actor=None, county=world.county, month=MARCH)
    client = login(world.users["county"])
    with django_assert_max_num_queries(11):
        response = client.get(SUBSIDY, {"month": "2026-03"})
    assert response.content.decode().count("data-cadre=") == size


# --- the JSON API -------------------------------------------------------------------------------

KEYS = {"cadre", "id_number", *FIGURES}


@pytest.mark.django_db
def test_api_rows_have_exactly_the_figures(world, login, audited):
    response = login(world.users["township"]).get(
        API, {"month": "2026-03", "area": world.township.pk}
    )
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 1 and set(rows[0]) == KEYS
    row = rows[0]
    zhang = audited["zhang"]
    assert row["cadre"] == zhang.pk
    assert row["id_number"] == zhang.id_number_masked
    assert row["working_days"] == 22.0 and row["on_post_days"] == 2.0 and row["leave_days"] == 1.0
    assert row["absent_days"] == 19.0 and row["days_without_log"] == 2
    assert '"working_days":22.0' in response.content.decode()
    entry = AuditLog.objects.get(detail__what="attendance_monthly_api")
    assert entry.action == "export" and entry.detail["revealed"] is False


@pytest.mark.django_db
def test_api_full_numbers_for_the_reveal_permission_are_audited(world, login, audited):
    response = login(world.users["county"]).get(API, {"month": "2026-03", "area": world.county.pk})
    rows = {r["cadre"]: r for r in response.json()}
    assert set(rows) == {audited["zhang"].pk, audited["li"].pk}
    assert rows[audited["zhang"].pk]["id_number"] == audited["zhang"].get_number("id_number")
    entry = AuditLog.objects.get(detail__what="attendance_monthly_api")
    assert entry.action == "reveal" and entry.detail["rows"] == 2
    assert audited["zhang"].get_number("id_number") not in json.dumps(entry.detail)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "area", "status", "count"),
    [
        ("county", "village", 200, 1),
        ("county", "other_township", 200, 1),
        ("county", None, 200, 2),
        ("county", "other_county", 404, 0),
        ("county", "far_village", 404, 0),
        ("township", "other_township", 404, 0),
        ("township", "county", 404, 0),
        ("township", None, 200, 1),
        ("far_county", "county", 404, 0),
        ("far_county", None, 200, 1),
        ("leader", "village", 200, 1),
        ("leader", "other_village", 404, 0),
        ("unit", None, 200, 2),
        ("unit", "township", 404, 0),
        ("auditadmin", None, 403, 0),
    ],
)
def test_api_scoping_both_ways(world, login, audited, who, area, status, count):
    params = {"month": "2026-03"}
    if area:
        params["area"] = getattr(world, area).pk
    response = login(world.users[who]).get(API, params)
    assert response.status_code == status
    if status == 200:
        assert len(response.json()) == count
    if area:
        missing = login(world.users[who]).get(API, {"month": "2026-03", "area": 987654})
        assert missing.status_code == (403 if status == 403 else 404)


@pytest.mark.django_db
def test_api_token_authentication(world, client, audited):
    token = Token.objects.create(user=world.users["township"])
    response = client.get(API, {"month": "2026-03"}, HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and len(response.json()) == 1
    anonymous = client.get(API, {"month": "2026-03"})
    assert anonymous.status_code in (401, 403)
    assert anonymous["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_api_bad_input_in_chinese(world, login, audited):
    client = login(world.users["county"])
    missing = client.get(API)
    assert missing.status_code == 400
    assert missing.json()["month"] == ["该字段是必填项。"]
    bad = client.get(API, {"month": "2026/03"})
    assert bad.status_code == 400 and "日期格式错误" in bad.json()["month"][0]
    assert "YYYY-MM" in bad.json()["month"][0]
    area = client.get(API, {"month": "2026-03", "area": "abc"})
    assert area.status_code == 400 and area.json()["area"] == ["请填写合法的整数值。"]


@pytest.mark.django_db
def test_api_query_count_is_fixed(world, login, django_assert_max_num_queries):
    _grow(world, 2)
    audit_month(actor=None, county=world.county, month=MARCH)
    client = login(world.users["township"])
    with django_assert_max_num_queries(10):
        small = client.get(API, {"month": "2026-03"})
    _grow(world, 20)
    audit_month(actor=None, county=world.county, month=MARCH)
    with django_assert_max_num_queries(10):
        large = client.get(API, {"month": "2026-03"})
    assert len(small.json()) == 2 and len(large.json()) == 22


# --- the command --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_counts_per_township(world):
    stationed(world, "张三")
    stationed(world, "李四", village=world.other_village)
    stationed(world, "孙七", village=world.other_village)
    out = io.StringIO()
    call_command("audit_attendance", "--month", "2026-03", "--county", "测试县", stdout=out)
    text = out.getvalue()
    assert "甲镇：1 人" in text and "乙镇：2 人" in text and "合计 3 人" in text
    assert AuditLog.objects.filter(detail__via="command").count() == 2


@pytest.mark.django_db
def test_command_one_township(world):
    stationed(world, "张三")
    out = io.StringIO()
    call_command(
        "audit_attendance",
        "--month",
        "2026-03",
        "--county",
        "测试县",
        "--township",
        "甲镇",
        stdout=out,
    )
    assert "甲镇：1 人" in out.getvalue() and "乙镇" not in out.getvalue()


@pytest.mark.django_db
def test_command_errors_are_chinese(world, audited):
    batch_submit(actor=world.users["township"], batch=batch_of(world.township))
    batch_file(actor=world.users["county"], batch=batch_of(world.township))
    with pytest.raises(CommandError, match="甲镇 2026年03月的月度考勤已备案"):
        call_command("audit_attendance", "--month", "2026-03", "--county", "测试县")
    with pytest.raises(CommandError, match="月份格式不对"):
        call_command("audit_attendance", "--month", "2026-3x", "--county", "测试县")
    with pytest.raises(CommandError, match="没有名为“无此镇”的乡镇"):
        call_command(
            "audit_attendance", "--month", "2026-03", "--county", "测试县", "--township", "无此镇"
        )
    with pytest.raises(CommandError, match="请用 --county 指定"):
        call_command("audit_attendance", "--month", "2026-03")
    with pytest.raises(CommandError, match="尚未结束"):
        call_command("audit_attendance", "--month", "2099-01", "--county", "测试县")


@pytest.mark.django_db
def test_command_exit_status_is_non_zero(world, audited):
    """Run through manage.py: a CommandError exits with 1 and the message on stderr."""
    from django.core.management import ManagementUtility

    batch_submit(actor=world.users["township"], batch=batch_of(world.township))
    batch_file(actor=world.users["county"], batch=batch_of(world.township))
    utility = ManagementUtility(
        ["manage.py", "audit_attendance", "--month", "2026-03", "--county", "测试县"]
    )
    err = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code == 1
    assert "已备案" in err.getvalue()
