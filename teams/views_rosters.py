"""Roster downloads: the empty template of each roster and the export of what
the user may see. Uploading (preview, confirm, progress) lives in the import
pages, on top of ``teams.importers``."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.excel import XLSX_CONTENT_TYPE

from . import exports
from .rosters import ROSTERS


def _kind(kind: str) -> str:
    if kind not in ROSTERS:
        raise Http404
    return kind


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@require_GET
@permission_required("teams.import_roster", raise_exception=True)
def roster_template(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(kind)
    return _xlsx(exports.template_workbook(kind), f"{ROSTERS[kind].title}模板.xlsx")


@require_GET
@never_cache
@permission_required("teams.export_roster", raise_exception=True)
def roster_export(request: HttpRequest, kind: str) -> HttpResponse:
    """?reveal=1 gives full ID and phone numbers to roles allowed to see them
    (the file can then be imported back); everyone else gets them masked."""
    kind = _kind(kind)
    reveal = request.GET.get("reveal") == "1" and request.user.has_perm("teams.reveal_personal")
    content = exports.export_roster(kind, user=request.user, reveal=reveal, request=request)
    return _xlsx(content, exports.export_filename(kind, reveal=reveal))
