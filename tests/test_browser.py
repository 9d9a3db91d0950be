"""End-to-end checks in a real browser (Debian's Chromium driven by Playwright).

Each role logs in through the login form, exactly as a person would, and sees
its own home page; a screenshot per role goes to test-output/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

import tests.conftest
from core.choices import Role
from tests.factories import PASSWORD, make_world

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def zh(message) -> str:
    """A message (a msgid or a lazy label) as the zh-hans catalogue renders
    it, whatever the catalogue says."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API keeps an event loop running in this thread; the
    # ORM calls the tests make around it are still plain synchronous code.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=tests.conftest.CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                browser.close()


@pytest.fixture
def world(transactional_db):
    # Committed rows, so the live server's thread sees them.
    return make_world()


@pytest.fixture
def page(browser, live_server):
    # A fresh context (cookies, storage) per test; Chinese, as users have it.
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def log_in(page, username: str, password: str = PASSWORD):
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


def text_of(page, testid: str) -> str:
    locator = page.get_by_test_id(testid)
    locator.wait_for(state="visible")
    return " ".join(locator.inner_text().split())


def first_column(page, testid: str) -> list[str]:
    table = page.get_by_test_id(testid)
    table.wait_for(state="visible")
    return [cell.strip() for cell in table.locator("tbody tr td:first-child").all_inner_texts()]


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


ROLES = [
    "county",
    "township",
    "unit",
    "leader",
    "cadre",
    "inspector",
    "sysadmin",
    "secadmin",
    "auditadmin",
]


@pytest.mark.parametrize("key", ROLES)
def test_each_role_logs_in_and_sees_its_home(page, world, live_server, key):
    user = world.users[key]
    log_in(page, user.username)

    assert page.url == f"{live_server.url}/", f"{key} ended on {page.url}"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    role_label = zh(Role(user.role).label)
    whoami = text_of(page, "whoami")
    assert whoami.startswith(f"{user.full_name} · {role_label}"), whoami

    title = text_of(page, "page-title")
    if key == "county":
        assert sorted(first_column(page, "township-table")) == sorted(["甲镇", "乙镇"])
        assert world.county.name in title
    elif key in ("township", "inspector"):
        villages = first_column(page, "village-table")
        assert "一村" in villages
        assert "二村" not in villages
        assert "甲镇" in title
    elif key == "leader":
        assert "一村" in title
    elif key == "unit":
        assert "县财政局" in title
    else:
        # Cadre and the three administrators land on the role home page.
        assert role_label in title

    screenshot(page, key)


def test_wrong_password_shows_error_and_stays_on_login(page, world, live_server):
    log_in(page, world.users["county"].username, PASSWORD + "-wrong")

    assert page.url.startswith(f"{live_server.url}/accounts/login/"), page.url
    error = text_of(page, "login-error")
    assert error == zh("The username or password is incorrect.")
    assert page.get_by_test_id("whoami").count() == 0
    assert page.locator("input[name=username]").input_value() == "county"
    screenshot(page, "wrong-password")


def test_township_user_gets_404_for_other_townships_village(page, world, live_server):
    log_in(page, world.users["township"].username)
    assert page.url == f"{live_server.url}/"

    response = page.goto(f"/areas/{world.other_village.pk}/")
    assert response is not None
    assert response.status == 404
    assert zh("The page you asked for does not exist.") in page.locator("main").inner_text()
    assert "二村" not in page.content()
    assert page.get_by_test_id("page-title").count() == 0
    screenshot(page, "township-404")

    # Their own village is still there.
    response = page.goto(f"/areas/{world.village.pk}/")
    assert response is not None and response.status == 200
    assert "一村" in text_of(page, "page-title")


def test_the_menus_open_and_lead_to_their_pages(page, world, live_server):
    log_in(page, world.users["county"].username)
    page.get_by_role("button", name="驻村队伍").click()
    with page.expect_navigation():
        page.get_by_role("link", name="干部", exact=True).click()
    assert page.url == f"{live_server.url}/cadres/"
    page.get_by_role("button", name="考勤管理").click()
    with page.expect_navigation():
        page.get_by_role("link", name="200天在岗").click()
    assert page.url.startswith(f"{live_server.url}/attendance/")


def test_on_a_phone_the_menu_folds_away(browser, world, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        log_in(page, world.users["cadre"].username)
        assert not page.get_by_test_id("nav").is_visible()
        page.locator(".navbar-toggler").click()
        page.locator("#nav.collapse.show").wait_for()  # unfolded, animation over
        assert page.get_by_test_id("nav").is_visible()
        screenshot(page, "cadre-phone-menu")
    finally:
        context.close()
