"""The sign-in page in a real browser on a phone-sized screen, with a faked
geolocation: inside the radius it counts; in another half-day, outside the
radius, it does not and says why; a refused location permission is explained;
a retry after a lost answer reuses the client id and stores one row."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from attendance import signins
from attendance.models import SignIn
from tests.attendance.test_signins import DAY, local, north
from tests.factories import PASSWORD, make_world
from tests.teams.factories import make_cadre, make_team, station
from tests.test_browser import TIMEOUT_MS, browser, screenshot, zh  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db):
    # Committed rows, so the live server's thread sees them.
    return make_world()


@pytest.fixture
def cadre(world):
    cadre = make_cadre(world.unit, "王五", user=world.users["cadre"])
    station(cadre, make_team(world.village))
    return cadre


@pytest.fixture
def clock(monkeypatch):
    state = SimpleNamespace(now=local(DAY, 9, 0))
    monkeypatch.setattr(signins, "server_now", lambda: state.now)
    return state


def phone(browser, live_server, *, geolocation: bool):  # noqa: F811
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    context.set_default_timeout(TIMEOUT_MS)
    if geolocation:
        context.grant_permissions(["geolocation"], origin=live_server.url)
    return context


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form button[type=submit]").click()


def at(context, metres: float) -> None:
    lat, lng = north(metres)
    context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": 15})


def text(page, testid: str) -> str:
    return " ".join(page.get_by_test_id(testid).inner_text().split())


def test_inside_counts_and_outside_says_why(browser, live_server, cadre, clock):  # noqa: F811
    context = phone(browser, live_server, geolocation=True)
    try:
        page = context.new_page()
        log_in(page, "cadre")
        at(context, 300)
        page.goto("/attendance/signin/")
        assert page.get_by_test_id("half-am").get_attribute("data-state") == "open"
        page.get_by_test_id("signin-button").click()
        page.get_by_test_id("signin-result").wait_for(state="visible")
        assert text(page, "signin-headline") == zh("Signed in: this sign-in counts.")
        assert "300" in text(page, "signin-distance")
        assert text(page, "signin-reason") == ""
        # the halves are refreshed from the server
        page.wait_for_selector('[data-testid=half-am][data-state="counts"]')
        # a phone-sized page: nothing wider than the screen
        assert page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        screenshot(page, "signin-counts")

        first = SignIn.objects.get(cadre=cadre)
        assert first.counts and first.half == "am" and first.distance_m == 300

        # the afternoon, five kilometres away
        clock.now = local(DAY, 15, 0)
        at(context, 5000)
        page.goto("/attendance/signin/")
        assert page.get_by_test_id("half-pm").get_attribute("data-state") == "open"
        page.get_by_test_id("signin-button").click()
        page.get_by_test_id("signin-result").wait_for(state="visible")
        assert text(page, "signin-headline") == zh("Signed in, but this sign-in does not count.")
        second = SignIn.objects.exclude(pk=first.pk).get(cadre=cadre)
        assert not second.counts and not second.in_area and second.half == "pm"
        (second,) = signins.with_outcomes(
            SignIn.objects.filter(pk=second.pk).select_related("village")
        )
        assert "5000" in text(page, "signin-reason")
        assert text(page, "signin-reason") == " ".join(second.outcome.reason.split())
        page.wait_for_selector('[data-testid=half-pm][data-state="not_counted"]')
        screenshot(page, "signin-out-of-area")
    finally:
        context.close()


def test_a_refused_location_permission_is_explained(browser, live_server, cadre, clock):  # noqa: F811
    context = phone(browser, live_server, geolocation=False)
    try:
        page = context.new_page()
        log_in(page, "cadre")
        page.goto("/attendance/signin/")
        page.get_by_test_id("signin-button").click()
        status = page.get_by_test_id("signin-status")
        status.wait_for(state="visible")
        expected = zh(
            "Location permission was refused. Allow this site to use your "
            "location in the browser's settings, then try again."
        )
        page.wait_for_function(
            "expected => document.querySelector('[data-testid=signin-status]')"
            ".textContent.trim() === expected",
            arg=expected,
        )
        assert not SignIn.objects.exists()
        screenshot(page, "signin-permission-denied")
    finally:
        context.close()


def test_a_retry_reuses_the_client_id(browser, live_server, cadre, clock):  # noqa: F811
    context = phone(browser, live_server, geolocation=True)
    try:
        page = context.new_page()
        log_in(page, "cadre")
        at(context, 100)
        page.goto("/attendance/signin/")
        sent: list[str] = []

        def lose_the_first_answer(route, request):
            match = re.search(r'name="client_id"\r\n\r\n([0-9a-f-]{36})', request.post_data or "")
            sent.append(match.group(1) if match else "")
            if len(sent) == 1:
                # the sign-in reaches the server, the answer never comes back
                route.fetch()
                route.abort("connectionreset")
            else:
                route.continue_()

        page.route("**/api/v1/signins/", lose_the_first_answer)
        page.get_by_test_id("signin-button").click()
        page.wait_for_function(
            "document.querySelector('#signin-button .label').textContent.trim() === "
            + repr(zh("Retry"))
        )
        page.get_by_test_id("signin-button").click()
        page.get_by_test_id("signin-result").wait_for(state="visible")
        assert len(sent) == 2 and sent[0] and sent[0] == sent[1]
        assert SignIn.objects.filter(cadre=cadre).count() == 1
        assert str(SignIn.objects.get(cadre=cadre).client_id) == sent[0]
        assert text(page, "signin-headline") == zh("Signed in: this sign-in counts.")
        # let the page's refresh finish before the database goes away
        page.wait_for_selector('[data-testid=half-am][data-state="counts"]')
    finally:
        context.close()
