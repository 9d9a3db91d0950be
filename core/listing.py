"""Links of list pages: the current query without some keys, and the sort
links of a table's columns."""

from __future__ import annotations


def query_without(request, *drop: str) -> str:
    """The current query string without the given keys, and never with
    ``page``, ``export`` or ``reveal`` (page links, sort links)."""
    query = request.GET.copy()
    for key in ("page", "export", "reveal", *drop):
        query.pop(key, None)
    return query.urlencode()


def sort_links(request, keys, current: str | None = None) -> dict:
    """For each sortable column: the link that sorts by it (toggling the
    direction when it is the current sort) and the current direction.
    ``current``: the sort in force (default: the query's ``sort``)."""
    if current is None:
        current = request.GET.get("sort", "")
    base = query_without(request, "sort")
    links = {}
    for key in keys:
        if current == key:
            target, direction = f"-{key}", "asc"
        elif current == f"-{key}":
            target, direction = key, "desc"
        else:
            target, direction = key, ""
        links[key] = {
            "url": f"?{base}&sort={target}" if base else f"?sort={target}",
            "dir": direction,
        }
    return links
