"""Scoping rows for the roster downloads (teams/urls_rosters.py).

Both URLs take a roster ``kind`` (villages, cadres, households, pairings), so
tests/test_scoping.py cannot reverse them without arguments: their both-ways
tests (anonymous users to the login page, every role without the permission
403, a township's export holding its township only, another county's data
never) live in tests/teams/test_roster_views.py.
"""

PLAIN_ROUTES: dict[str, str] = {}
COVERED = {"roster_template", "roster_export"}
