"""The navigation bar: each role sees the menus of what it may use, grouped,
and nothing it may not; every link in it opens for that user."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.django_db


def _bar(client) -> str:
    page = client.get(reverse("home")).content.decode()
    return page[page.index('data-testid="nav"') : page.index("</ul>\n      <div")]


def _links(bar: str) -> list[str]:
    return re.findall(r'href="([^"#]+)"', bar)


def _labels(bar: str) -> list[str]:
    return [label.strip() for label in re.findall(r">([^<>]+)</a>", bar)]


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return str(translation.pgettext("menu", text))


def test_the_county_office_has_three_menus(world, login):
    bar = _bar(login(world.users["county"]))
    menus = re.findall(r'data-bs-toggle="dropdown"[^>]*>([^<]+)</a>', bar)
    assert menus == [zh("Teams"), zh("Rosters"), zh("Attendance")]
    for name in ("cadre_list", "team_structure", "import_list", "audit_results", "on_post_list"):
        assert reverse(name) in _links(bar)
    assert reverse("admin:index") in _links(bar)  # leave is approved there


def test_a_cadre_sees_only_their_own_tools(world, login):
    client = login(world.users["cadre"])
    bar = _bar(client)
    links = _links(bar)
    assert reverse("signin_page") in links and reverse("leave_list") in links
    for name in ("cadre_list", "household_list", "import_list", "audit_results", "audit_log"):
        assert reverse(name) not in links
    assert zh("Rosters") not in _labels(bar)
    assert reverse("admin:index") not in links
    assert 'data-bs-toggle="dropdown"' not in bar  # sign-in one tap away, no menus


@pytest.mark.parametrize(
    "role", ["county", "township", "unit", "leader", "cadre", "inspector", "sysadmin"]
)
def test_every_link_in_the_bar_opens(world, login, role):
    client = login(world.users[role])
    for href in _links(_bar(client)):
        response = client.get(href)
        assert response.status_code == 200, (role, href, response.status_code)


def test_the_page_being_shown_is_marked(world, login):
    client = login(world.users["county"])
    page = client.get(reverse("cadre_list")).content.decode()
    current = f'class="dropdown-item active" href="{reverse("cadre_list")}" aria-current="page"'
    assert current in page
    assert re.search(r'class="nav-link dropdown-toggle text-nowrap active"', page)
