"""In a real browser: a township approver logs in, opens the admin console,
approves a request from its page and sees it gone from their list; a cadre
asks for leave through the form."""

from __future__ import annotations

import pytest

from attendance.choices import LeaveStatus
from attendance.models import LeaveRequest
from tests.attendance.test_leave import MON, approve, ask, day, setup_leave
from tests.factories import make_world
from tests.test_browser import browser, log_in, page, screenshot  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db):
    # Committed rows, so the live server's thread sees them.
    return make_world()


def test_a_township_approver_approves_in_the_admin(page, world, live_server):  # noqa: F811
    lv = setup_leave(world)
    waiting = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=day(1)))
    other = approve(lv.users["leader2"], ask(lv.users["cadre2"], start=MON, end=MON))
    assert waiting.status == other.status == LeaveStatus.PENDING_TOWNSHIP

    log_in(page, "township")
    page.goto("/admin/attendance/leaverequest/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1  # 乙镇's request is not here
    assert "张三" in rows.first.inner_text() and "李四" not in page.content()
    screenshot(page, "leave-admin-queue")

    with page.expect_navigation():
        rows.first.locator("th a, td a").first.click()
    assert f"/admin/attendance/leaverequest/{waiting.pk}/change/" in page.url
    assert "leader" in page.locator(".field-decision_history").inner_text()
    screenshot(page, "leave-admin-request")
    with page.expect_navigation():
        page.get_by_test_id("approve").click()

    assert page.url.split("?")[0].endswith("/admin/attendance/leaverequest/")
    assert "张三" in page.locator("ul.messagelist").inner_text()
    assert (
        page.locator("#result_list").count() == 0
        or "张三" not in page.locator("#result_list").inner_text()
    )
    screenshot(page, "leave-admin-approved")
    waiting.refresh_from_db()
    assert waiting.status == LeaveStatus.APPROVED
    assert list(waiting.decisions.values_list("approver__username", flat=True)) == [
        "leader",
        "township",
    ]


def test_a_township_approver_rejects_with_a_reason(page, world, live_server):  # noqa: F811
    lv = setup_leave(world)
    waiting = approve(lv.users["leader"], ask(lv.users["cadre"], start=MON, end=MON))
    log_in(page, "township")
    page.goto(f"/admin/attendance/leaverequest/{waiting.pk}/change/")
    with page.expect_navigation():
        page.get_by_test_id("reject").click()
    page.locator("textarea[name=reason]").fill("农忙时节，暂缓")
    with page.expect_navigation():
        page.get_by_test_id("confirm-reject").click()
    waiting.refresh_from_db()
    assert waiting.status == LeaveStatus.REJECTED
    assert waiting.decisions.last().reason == "农忙时节，暂缓"


def test_a_cadre_asks_for_leave(page, world, live_server):  # noqa: F811
    setup_leave(world)
    log_in(page, "cadre")
    page.goto("/attendance/leave/")
    with page.expect_navigation():
        page.get_by_test_id("new-request").click()
    page.locator("select[name=leave_type]").select_option("病假")
    page.locator("input[name=start_date]").fill(MON.isoformat())
    page.locator("input[name=end_date]").fill(day(1).isoformat())
    page.locator("select[name=end_half]").select_option("am")
    page.locator("textarea[name=reason]").fill("发烧就医")
    # official business hides the leave type
    page.locator("input[name=kind][value=business]").check()
    assert page.locator("#leave-type-row").is_hidden()
    page.locator("input[name=kind][value=leave]").check()
    assert page.locator("#leave-type-row").is_visible()
    with page.expect_navigation():
        page.locator("form[data-testid=leave-form] button[type=submit]").click()
    assert page.url.endswith("/attendance/leave/")
    created = LeaveRequest.objects.get()
    assert created.working_days == 1.5 and created.leave_type == "病假"
    assert page.get_by_test_id(f"leave-row-{created.pk}").is_visible()
    screenshot(page, "leave-list-cadre")
