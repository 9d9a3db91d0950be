"""Scoping rows for the roster upload and activation pages (merged into
tests/test_scoping.py).

ROUTES: pages with an object, (URL name, kwargs builder, owner, outsider).
The builders create an import job inside the shared world. The upload list
and the activation page are used by two roles (county and township offices),
the error workbook needs a stored file, and confirm and cancel are POST only:
their both-ways tests are in tests/teams/test_import_jobs.py and
tests/teams/test_activation.py, and they are listed in COVERED.
"""

from __future__ import annotations

from core.models import ImportJob, ImportJobStatus


def _job(world, *, county_office: bool = False, far: bool = False) -> ImportJob:
    if far:
        county, township, user = world.other_county, None, world.users["far_county"]
    elif county_office:
        county, township, user = world.county, None, world.users["county"]
    else:
        county, township, user = world.county, world.township, world.users["township"]
    return ImportJob.objects.create(
        kind="cadres",
        county=county,
        township=township,
        created_by=user,
        status=ImportJobStatus.PREVIEW,
        original_name="驻村工作队花名册.xlsx",
        total_rows=2,
        processed_rows=2,
        counts={"new": 2, "changed": 0, "unchanged": 0},
    )


ROUTES: dict[str, tuple] = {
    "import_detail": (
        "import_detail",
        lambda w: {"pk": _job(w).pk},
        "township",
        "other_township",
    ),
    "import_detail:county-sees-township": (
        "import_detail",
        lambda w: {"pk": _job(w).pk},
        "county",
        "far_county",
    ),
    "import_detail:county-job": (
        "import_detail",
        lambda w: {"pk": _job(w, county_office=True).pk},
        "county",
        "township",
    ),
    "import_detail:far": (
        "import_detail",
        lambda w: {"pk": _job(w, far=True).pk},
        "far_county",
        "county",
    ),
    "import_progress": (
        "import_progress",
        lambda w: {"pk": _job(w).pk},
        "township",
        "other_township",
    ),
}

PLAIN_ROUTES: dict[str, str] = {}

PUBLIC = {"account_activate"}

COVERED = {
    "import_list",
    "import_errors",
    "import_confirm",
    "import_cancel",
    "activation_codes",
}
