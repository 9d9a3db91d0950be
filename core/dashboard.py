"""Panels that other apps add to the area and unit pages.

core imports no other app; an app registers a panel in its AppConfig.ready():

    from core import dashboard
    dashboard.register(my_panel)

A panel is ``panel(request, *, area=None, unit=None) -> dict | None``: a dict with
``template`` (a template name, which sees its context as ``panel_context``) and
``context``, or None when it has
nothing to show. Each panel must run a fixed number of queries and respect the
user's scope (``visible_to(request.user)``).
"""

from __future__ import annotations

from collections.abc import Callable

Panel = Callable[..., dict | None]
PANELS: list[Panel] = []


def register(panel: Panel) -> Panel:
    if panel not in PANELS:
        PANELS.append(panel)
    return panel


def panels_for(request, *, area=None, unit=None) -> list[dict]:
    shown = []
    for panel in PANELS:
        result = panel(request, area=area, unit=unit)
        if result:
            shown.append(result)
    return shown
