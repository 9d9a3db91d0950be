"""Scoping rows for the leave pages (merged into tests/test_scoping.py).

ROUTES: the attachment of a request, which the approvers of the applicant's
area open and everyone else gets as a 404. The builders create
the request inside the shared world.

The list, the form, the POST-only withdraw and return, and the JSON API are
used by several roles at once (or answer JSON 401/403 instead of the login
redirect), so their both-ways tests live in tests/attendance/test_leave.py and
test_leave_api.py, and they are listed in COVERED.
"""

from __future__ import annotations

import datetime

from django.core.files.base import ContentFile

from attendance.choices import ApprovalLevel, LeaveStatus
from attendance.models import LeaveRequest
from teams.models import Team
from tests.teams.factories import make_cadre, make_team, station

PDF = b"%PDF-1.4\n%%EOF\n"


def _team(village) -> Team:
    return Team.objects.filter(village=village, dissolved_on__isnull=True).first() or make_team(
        village
    )


def _request(world, *, village=None) -> LeaveRequest:
    """A pending request with an attachment, of a new cadre in ``village``.
    (The applicant's own access is tested in test_leave.py: linking the shared
    world's cadre account here would collide with other apps' rows.)"""
    cadre = make_cadre(world.unit, "钱七")
    membership = station(cadre, _team(village or world.village), start=datetime.date(2026, 1, 1))
    request = LeaveRequest(
        cadre=cadre,
        membership=membership,
        kind="leave",
        leave_type="病假",
        start_date=datetime.date(2026, 3, 2),
        end_date=datetime.date(2026, 3, 2),
        working_days=1,
        reason="就医",
        status=LeaveStatus.PENDING_TOWNSHIP,
        final_level=ApprovalLevel.TOWNSHIP,
    )
    request.attachment.save("attachment.pdf", ContentFile(PDF), save=False)
    request.save()
    return request


ROUTES: dict[str, tuple] = {
    "leave_attachment:township": (
        "leave_attachment",
        lambda w: {"pk": _request(w).pk},
        "township",
        "other_township",
    ),
    "leave_attachment:leader": (
        "leave_attachment",
        lambda w: {"pk": _request(w).pk},
        "leader",
        "inspector",
    ),
    "leave_attachment:county": (
        "leave_attachment",
        lambda w: {"pk": _request(w, village=w.other_village).pk},
        "county",
        "far_county",
    ),
    "leave_attachment:other-village": (
        "leave_attachment",
        lambda w: {"pk": _request(w, village=w.other_village).pk},
        "other_township",
        "leader",
    ),
}

PLAIN_ROUTES: dict[str, str] = {}

COVERED = {
    "leave_list",
    "leave_create",
    "leave_withdraw",
    "leave_return",
    "api_leave_requests",
    "api_leave_request_withdraw",
    "api_leave_request_return",
}
