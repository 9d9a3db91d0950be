"""Pages of sign-ins and help logs: the cadre's phone page, the help log form,
the offices' list of sign-ins with acceptance, photos, and village points.

Views wire requests to the services and selectors of attendance.signins and
attendance.helplogs; each checks its permission, and single objects come from
``access()`` (outside the user's scope: the same 404 as a missing one).
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.models import Area
from core.photos import PHOTO_CONTENT_TYPES
from core.scoping import access

from . import geo, helplogs, signins
from .forms_signin import AcceptForm, HelpLogForm, SignInFilterForm, VillagePointForm
from .signins import PointSystem

PER_PAGE = 50


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _photo_response(field, *, name: str) -> FileResponse:
    kind = field.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        field.open("rb"), content_type=PHOTO_CONTENT_TYPES.get(kind, "application/octet-stream")
    )
    response["Content-Disposition"] = f'inline; filename="{name}.{kind}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- the cadre's phone page ----------------------------------------------------------


@require_GET
@never_cache
@permission_required("attendance.add_signin", raise_exception=True)
def signin_page(request):
    day = signins.signin_day(user=request.user)
    todays_log = None
    if day.cadre is not None:
        todays_log = helplogs.own_helplogs(user=request.user, days=[day.day]).get(day.day)
    return render(
        request,
        "attendance/signin_page.html",
        {
            "day": day,
            "todays_log": todays_log,
            "config": {
                "api": reverse("api_signins"),
                "csrf": get_token(request),
                "page": reverse("signin_page"),
                "radius": day.radius_m,
                "messages": {
                    "locating": _("Finding your position…"),
                    "sending": _("Sending your sign-in…"),
                    "denied": _(
                        "Location permission was refused. Allow this site to use your "
                        "location in the browser's settings, then try again."
                    ),
                    "unavailable": _(
                        "Your position is not available. Turn on location (GPS) or move "
                        "to an open place, then try again."
                    ),
                    "timeout": _("Finding your position took too long. Try again."),
                    "unsupported": _(
                        "This browser cannot report your position. Use a current browser "
                        "over HTTPS."
                    ),
                    "network": _(
                        "The sign-in could not be sent (no network?). Tap “Retry”: it is "
                        "sent once only."
                    ),
                    "login": _("Your login has ended. Reload the page and log in again."),
                    "retry": _("Retry"),
                    "signIn": _("Sign in"),
                    "counts": _("Signed in: this sign-in counts."),
                    "notCounted": _("Signed in, but this sign-in does not count."),
                    "distance": _("%(d)s m from the village point (radius %(r)s m)."),
                    "noPoint": _("Your village has no point recorded."),
                    "accuracy": _("Location accuracy ±%(a)s m."),
                    "half": {
                        "am": _("Morning"),
                        "pm": _("Afternoon"),
                        "": _("Outside hours"),
                    },
                },
            },
        },
    )


@require_http_methods(["GET", "POST"])
@never_cache
@permission_required("attendance.add_helplog", raise_exception=True)
def helplog_page(request):
    days = helplogs.writable_days()
    chosen = days[0]
    wanted = request.POST.get("date") or request.GET.get("date")
    if wanted in {d.isoformat() for d in days}:
        chosen = next(d for d in days if d.isoformat() == wanted)
    try:
        signins.cadre_of(request.user, perm="attendance.add_helplog")
        unavailable = ""
    except ValidationError as error:
        unavailable = " ".join(error.messages)
    logs = helplogs.own_helplogs(user=request.user, days=days)
    current = logs.get(chosen)
    if request.method == "POST":
        form = HelpLogForm(request.POST, request.FILES, days=days)
        if form.is_valid():
            try:
                log, created = helplogs.helplog_save(
                    user=request.user,
                    date=form.cleaned_data["date"],
                    content=form.cleaned_data["content"],
                    photos=form.cleaned_data["photos"],
                    request=request,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("The help log of %(day)s has been saved.") % {"day": log.date.isoformat()},
                )
                return redirect(f"{reverse('helplog_page')}?{urlencode({'date': log.date})}")
    else:
        form = HelpLogForm(
            days=days,
            initial={"date": chosen.isoformat(), "content": current.content if current else ""},
        )
    recent = helplogs.helplog_list(
        user=request.user, since=days[0] - datetime.timedelta(days=13)
    ).filter(cadre__user=request.user)[:14]
    return render(
        request,
        "attendance/helplog_page.html",
        {
            "form": form,
            "chosen": chosen,
            "current": current,
            "recent": recent,
            "max_photos": helplogs.MAX_PHOTOS,
            "unavailable": unavailable,
        },
    )


@require_GET
@permission_required("attendance.view_helplog", raise_exception=True)
def helplog_photo(request, uuid):
    photo = helplogs.helplog_photo_access(user=request.user, photo_uuid=uuid)
    return _photo_response(photo.image, name=f"helplog-{photo.uuid}")


# --- offices: the list of sign-ins and acceptance ------------------------------------


@require_GET
@permission_required("attendance.view_signin", raise_exception=True)
def signin_list(request):
    form = SignInFilterForm(request.GET or None)
    day = timezone.localdate()
    problems = False
    if form.is_bound and form.is_valid():
        day = form.cleaned_data["date"] or day
        problems = form.cleaned_data["problems"]
    rows = signins.signin_list(user=request.user, day=day, problems_only=problems)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = signins.with_outcomes(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "attendance/signin_list.html",
        {
            "form": form,
            "day": day,
            "page": page,
            "query": query.urlencode(),
            "can_accept": request.user.has_perm("attendance.accept_signin"),
            "acceptable": {signins.State.OUT_OF_AREA, signins.State.NO_POINT},
        },
    )


@require_POST
@permission_required("attendance.accept_signin", raise_exception=True)
def signin_accept(request, pk):
    signin = signins.access_signin(user=request.user, pk=pk)
    form = AcceptForm(request.POST)
    target = f"{reverse('signin_list')}?{urlencode({'date': signin.date})}"
    if not form.is_valid():
        messages.error(request, _("Give the reason for accepting this sign-in."))
        return redirect(target)
    try:
        signin = signins.signin_accept(
            actor=request.user, signin=signin, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if signin.counts:
            messages.success(request, _("Accepted: the sign-in now counts."))
        else:
            messages.warning(
                request,
                _(
                    "Accepted, but its half-day already has a sign-in that counts; "
                    "it stays a repeat."
                ),
            )
    return redirect(target)


@require_GET
@permission_required("attendance.view_signin", raise_exception=True)
def signin_photo(request, pk):
    signin = signins.access_signin(user=request.user, pk=pk)
    if not signin.photo:
        raise Http404
    return _photo_response(signin.photo, name=f"signin-{signin.pk}")


# --- village points ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@permission_required("core.change_area", raise_exception=True)
def village_point(request, pk):
    village = access(Area.objects.villages().select_related("parent"), user=request.user, pk=pk)
    if request.method == "POST":
        form = VillagePointForm(request.POST)
        if form.is_valid():
            try:
                signins.village_point_set(
                    actor=request.user,
                    village=village,
                    latitude=float(form.cleaned_data["latitude"]),
                    longitude=float(form.cleaned_data["longitude"]),
                    system=form.cleaned_data["system"],
                    radius_m=form.cleaned_data["radius_m"],
                    request=request,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request, _("The sign-in point of %(name)s is saved.") % {"name": village.name}
                )
                return redirect("area_detail", pk=village.pk)
    else:
        form = VillagePointForm(
            initial={
                "system": PointSystem.WGS84,
                "latitude": village.latitude,
                "longitude": village.longitude,
                "radius_m": village.radius_m,
            }
        )
    gcj = None
    if village.latitude is not None and village.longitude is not None:
        lat, lng = geo.wgs84_to_gcj02(float(village.latitude), float(village.longitude))
        gcj = {"latitude": f"{lat:.6f}", "longitude": f"{lng:.6f}"}
    return render(
        request,
        "attendance/signin_village_point.html",
        {"village": village, "form": form, "gcj": gcj},
    )
