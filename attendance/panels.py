"""Dashboard panels of the 200-day check (core.dashboard).

:func:`on_post_at_risk_panel` lists the at-risk cadres of the newest checked
year on the county and township pages (cadres of that area) and on a
dispatching unit's page (that unit's cadres), with what each needs per
remaining week; always within what the viewer may see (``visible_to``). Two
queries whatever the number of rows: the counts per status and the list.

Registered by the lead in ``AttendanceConfig.ready()``:
``dashboard.register(panels.on_post_at_risk_panel)``.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode

from core.choices import AreaLevel

from . import onpost
from .choices import OnPostStatus
from .models import OnPostCheck

PANEL_LIMIT = 20
PERMISSION = "attendance.view_onpostcheck"


def on_post_at_risk_panel(request, *, area=None, unit=None) -> dict | None:
    user = request.user
    if not user.has_perm(PERMISSION):
        return None
    if area is not None and area.level in (AreaLevel.COUNTY, AreaLevel.TOWNSHIP):
        where = onpost.area_filter(area)
        link = {"township": area.pk} if area.level == AreaLevel.TOWNSHIP else {}
    elif unit is not None:
        where = Q(cadre__unit_id=unit.pk)
        link = {"unit": unit.pk}
    else:
        return None
    rows = OnPostCheck.objects.visible_to(user).filter(where)
    # The newest year checked there, inside the same queries (no extra round trip).
    newest = rows.order_by("-year").values("year")[:1]
    rows = rows.filter(year=newest)
    summary = onpost.summary(rows)
    if not summary["total"]:
        return None
    at_risk = onpost.decorate(
        onpost.with_needs(rows.filter(status=OnPostStatus.AT_RISK))
        .select_related("cadre", "cadre__unit", "township", "village")
        .order_by("-gap", "-short", "township__name", "village__name", "cadre_id")[:PANEL_LIMIT]
    )
    year = summary["year"]
    query = {"year": year, "status": OnPostStatus.AT_RISK, **link}
    return {
        "template": "attendance/_panel_onpost.html",
        "context": {
            "summary": summary,
            "rows": at_risk,
            "year": year,
            "more": max(summary[OnPostStatus.AT_RISK] - len(at_risk), 0),
            "list_url": f"{reverse('on_post_list')}?{urlencode(query)}",
            "show_township": unit is not None or area.level == AreaLevel.COUNTY,
            "show_unit": unit is None,
            "week": onpost.WORKING_DAYS_A_WEEK,
        },
    }
