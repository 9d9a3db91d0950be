"""Every URL, both ways: anonymous users get the login page; a user from another
area gets 404 for an object outside their scope, the same as for a missing one.

Each named URL of the project must have a row in ROUTES (a new URL without a
row fails ``test_every_url_has_a_row``).
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import World

# row -> (URL name, kwargs builder, owner who sees it, outsider who gets 404)
ROUTES: dict[str, tuple] = {
    # pages with an object: who owns it, who must get 404
    "area_detail:village": (
        "area_detail",
        lambda w: {"pk": w.village.pk},
        "township",
        "other_township",
    ),
    "area_detail:township": (
        "area_detail",
        lambda w: {"pk": w.township.pk},
        "township",
        "other_township",
    ),
    "area_detail:county": ("area_detail", lambda w: {"pk": w.county.pk}, "county", "far_county"),
    "area_detail:leader": (
        "area_detail",
        lambda w: {"pk": w.village.pk},
        "leader",
        "other_township",
    ),
    "area_detail:leader-other": (
        "area_detail",
        lambda w: {"pk": w.other_village.pk},
        "county",
        "leader",
    ),
    "area_detail:inspector": (
        "area_detail",
        lambda w: {"pk": w.village.pk},
        "inspector",
        "other_township",
    ),
    "area_detail:unit-user": ("area_detail", lambda w: {"pk": w.village.pk}, "county", "unit"),
    "area_detail:cadre": ("area_detail", lambda w: {"pk": w.village.pk}, "county", "cadre"),
    "area_detail:far": ("area_detail", lambda w: {"pk": w.far_village.pk}, "far_county", "county"),
    "unit_detail": ("unit_detail", lambda w: {"pk": w.unit.pk}, "unit", "far_county"),
    "unit_detail:other-unit": (
        "unit_detail",
        lambda w: {"pk": w.other_unit.pk},
        "county",
        "unit",
    ),
    "unit_detail:township": ("unit_detail", lambda w: {"pk": w.unit.pk}, "township", "cadre"),
}

# URLs without an object: who may use them (others get 403), or "any" user.
PLAIN_ROUTES = {
    "home": "any",
    "password_change": "any",
    "password_change_done": "any",
    "audit_log": "auditadmin",
    "audit_log_export": "auditadmin",
}
# Reachable without logging in (the allow-list).
PUBLIC = {"login", "health"}
# URL names whose both-ways scoping tests live in the app's own test files
# (pages several roles use, or URLs with non-pk arguments).
COVERED: set[str] = set()


def _merge_app_rows() -> None:
    """Each app keeps its rows in tests/<app>/scoping_rows*.py (ROUTES, PLAIN_ROUTES,
    PUBLIC) so that work on different apps does not collide in this file."""
    import importlib
    import pkgutil

    import tests

    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        pkg = importlib.import_module(f"tests.{package.name}")
        for module in pkgutil.iter_modules(pkg.__path__):
            if module.name.startswith("scoping_rows"):
                rows = importlib.import_module(f"tests.{package.name}.{module.name}")
                ROUTES.update(getattr(rows, "ROUTES", {}))
                PLAIN_ROUTES.update(getattr(rows, "PLAIN_ROUTES", {}))
                PUBLIC.update(getattr(rows, "PUBLIC", set()))
                COVERED.update(getattr(rows, "COVERED", set()))


_merge_app_rows()
# POST only; covered by test_security.
POST_ONLY = {"logout"}


def _named_patterns(patterns, namespace=None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns == "admin":
                continue  # the admin site is walked in test_admin_scoping
            yield from _named_patterns(entry.url_patterns, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name


def test_every_url_has_a_row():
    covered = {row[0] for row in ROUTES.values()} | set(PLAIN_ROUTES) | PUBLIC | POST_ONLY | COVERED
    names = set(_named_patterns(get_resolver().url_patterns))
    missing = names - covered
    assert not missing, f"URLs without a scoping row: {sorted(missing)}"


def _all_urls(world: World) -> list[str]:
    urls = [reverse(name, kwargs=build(world)) for name, build, _, _ in ROUTES.values()]
    urls += [reverse(name) for name in PLAIN_ROUTES]
    return urls


@pytest.mark.django_db
def test_anonymous_gets_the_login_page_everywhere(world, client):
    for url in _all_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


@pytest.mark.django_db
def test_public_urls_need_no_login(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("health")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("row", sorted(ROUTES), ids=str)
def test_object_pages_both_ways(world, login, row):
    name, build, owner, outsider = ROUTES[row]
    url = reverse(name, kwargs=build(world))
    assert login(world.users[owner]).get(url).status_code == 200
    outside = login(world.users[outsider])
    assert outside.get(url).status_code == 404
    # the same answer as for an object that does not exist
    assert outside.get(reverse(name, kwargs={"pk": 987654})).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PLAIN_ROUTES))
def test_plain_pages_by_permission(world, login, name):
    allowed = PLAIN_ROUTES[name]
    url = reverse(name)
    for key, user in world.users.items():
        response = login(user).get(url)
        if allowed == "any" or key == allowed:
            assert response.status_code == 200, (key, url)
        else:
            assert response.status_code == 403, (key, url)


@pytest.mark.django_db
def test_home_shows_only_the_users_area(world, login):
    county_page = login(world.users["county"]).get("/").content.decode()
    assert "甲镇" in county_page and "乙镇" in county_page and "丙镇" not in county_page
    township_page = login(world.users["township"]).get("/").content.decode()
    assert "一村" in township_page and "二村" not in township_page
    leader_page = login(world.users["leader"]).get("/").content.decode()
    assert "一村" in leader_page and "二村" not in leader_page


ADMIN_CHANGELISTS = ["admin:core_area_changelist", "admin:core_dispatchingunit_changelist"]


@pytest.mark.django_db
def test_admin_lists_are_scoped(world, login):
    township = login(world.users["township"])
    page = township.get(reverse("admin:core_area_changelist")).content.decode()
    assert "一村" in page and "二村" not in page and "三村" not in page
    units = login(world.users["county"]).get(reverse("admin:core_dispatchingunit_changelist"))
    assert "县财政局" in units.content.decode()
    assert "邻县财政局" not in units.content.decode()


@pytest.mark.django_db
def test_admin_object_outside_scope_is_the_same_as_missing(world, login):
    township = login(world.users["township"])
    own = township.get(reverse("admin:core_area_change", args=[world.village.pk]))
    assert own.status_code == 200
    other = township.get(reverse("admin:core_area_change", args=[world.other_village.pk]))
    missing = township.get(reverse("admin:core_area_change", args=[987654]))
    assert other.status_code == missing.status_code == 302
    assert other["Location"] == missing["Location"]


@pytest.mark.django_db
def test_admin_dropdowns_are_scoped(world, login):
    county = login(world.users["county"])
    form = county.get(reverse("admin:core_area_add")).content.decode()
    assert "甲镇" in form and "丙镇" not in form


@pytest.mark.django_db
def test_anonymous_admin_goes_to_login(world, client):
    for name in ADMIN_CHANGELISTS:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_admin_needs_permission(world, login):
    for key in ("cadre", "unit", "inspector"):
        response = login(world.users[key]).get(reverse("admin:core_area_changelist"))
        # not staff: the admin sends them to its login page
        assert response.status_code == 302, key
    auditor = login(world.users["auditadmin"])
    assert auditor.get(reverse("admin:core_area_changelist")).status_code == 403
    assert auditor.get(reverse("admin:core_user_changelist")).status_code == 403
