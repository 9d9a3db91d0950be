"""Scoping rows for the teams pages (merged into tests/test_scoping.py).

ROUTES: pages with an object, (URL name, kwargs builder, owner, outsider).
The builders create what the page shows inside the shared world. Pages that
several roles use, POST-only actions and the JSON API have their both-ways
tests in tests/teams/test_pages.py, test_visits.py and test_api.py, and are
listed in COVERED.
"""

from __future__ import annotations

from teams.models import Team
from tests.teams.factories import make_cadre, make_team, station


def _team(village) -> Team:
    return Team.objects.filter(village=village, dissolved_on__isnull=True).first() or make_team(
        village
    )


def _stationed(world, *, village=None, unit=None, user=None):
    cadre = make_cadre(unit or world.unit, "张三")
    if user is not None:
        cadre.user = user
        cadre.save(update_fields=["user"])
    station(cadre, _team(village or world.village))
    return cadre


ROUTES: dict[str, tuple] = {
    "cadre_detail": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w).pk},
        "township",
        "other_township",
    ),
    "cadre_detail:county": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w).pk},
        "county",
        "far_county",
    ),
    "cadre_detail:unit": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w, village=w.other_village).pk},
        "unit",
        "township",
    ),
    "cadre_detail:other-unit": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w, unit=w.other_unit).pk},
        "leader",
        "unit",
    ),
    "cadre_detail:self": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w, village=w.other_village, user=w.users["cadre"]).pk},
        "cadre",
        "leader",
    ),
    "cadre_detail:inspector": (
        "cadre_detail",
        lambda w: {"pk": _stationed(w).pk},
        "inspector",
        "other_township",
    ),
    "village_team": (
        "village_team",
        lambda w: {"pk": w.village.pk},
        "township",
        "other_township",
    ),
    "village_team:leader": ("village_team", lambda w: {"pk": w.village.pk}, "leader", "unit"),
    "village_team:far": (
        "village_team",
        lambda w: {"pk": w.far_village.pk},
        "far_county",
        "county",
    ),
}

PLAIN_ROUTES: dict[str, str] = {}

COVERED = {
    "cadre_list",
    "cadre_reveal",
    "household_list",
    "pairing_list",
    "visit_monthly",
    "visit_create",
    "visit_photo",
    "matching_report",
    "team_structure",
    "api_team_structure",
    "api_overview",
    "api_schema",
    "api_docs",  # the same for every signed-in user: tests/teams/test_api.py
}
