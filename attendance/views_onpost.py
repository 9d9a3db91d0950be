"""The 200-day check page: the stored checks of a year, at risk first, with
what each cadre needs per remaining week; filtered by status, township,
village and dispatching unit (each dropdown holds only what the user may see).

The filter form lives here: it belongs to this one page.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from core.models import Area, DispatchingUnit
from core.scoping import Scope, user_scope

from . import onpost
from .choices import OnPostStatus
from .models import OnPostCheck

PER_PAGE = 50
KEEP_BY_SCOPE = {
    Scope.COUNTY: ("township", "village", "unit"),
    Scope.TOWNSHIP: ("village", "unit"),
    Scope.VILLAGE: ("unit",),
}


class OnPostFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("All"))] + list(OnPostStatus.choices),
        required=False,
    )
    township = forms.ModelChoiceField(
        label=_("Township"), queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    village = forms.ModelChoiceField(
        label=_("Village"), queryset=Area.objects.none(), required=False, empty_label=_("All")
    )
    unit = forms.ModelChoiceField(
        label=_("Dispatching unit"),
        queryset=DispatchingUnit.objects.none(),
        required=False,
        empty_label=_("All"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Area.objects.visible_to(user).only("pk", "name", "level")
        self.fields["township"].queryset = areas.townships().order_by("code", "name")
        self.fields["village"].queryset = areas.villages().order_by("code", "name")
        self.fields["unit"].queryset = (
            DispatchingUnit.objects.visible_to(user).only("pk", "name").order_by("name")
        )
        # Only the dropdowns that can narrow this user's rows (decided by the
        # kind of scope, without a query).
        keep = KEEP_BY_SCOPE.get(user_scope(user).kind, ())
        for name in ("township", "village", "unit"):
            if name not in keep:
                del self.fields[name]
        for name, field in self.fields.items():
            css = "form-select form-select-sm" if name != "year" else "form-control form-control-sm"
            field.widget.attrs["class"] = css


@require_GET
@permission_required("attendance.view_onpostcheck", raise_exception=True)
def on_post_list(request):
    form = OnPostFilterForm(request.GET or None, user=request.user)
    visible = OnPostCheck.objects.visible_to(request.user)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    year = filters.get("year") or onpost.latest_year(visible) or timezone.localdate().year
    if not filters.get("year"):
        # show the year the page is for in the year box
        if form.is_bound:
            form.data = form.data.copy()
            form.data["year"] = str(year)
        else:
            form.initial["year"] = year
    area = filters.get("village") or filters.get("township")
    unit = filters.get("unit")
    if form.is_bound and not form.is_valid():
        rows = OnPostCheck.objects.none()
    else:
        rows = onpost.on_post_list(
            user=request.user,
            year=year,
            area=area,
            unit_id=unit.pk if unit else None,
        )
    summary = onpost.summary(rows)
    status = filters.get("status") or ""
    if status:
        rows = rows.filter(status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = onpost.decorate(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "attendance/onpost_list.html",
        {
            "form": form,
            "year": year,
            "status": status,
            "summary": summary,
            "page": page,
            "query": query.urlencode(),
            "statuses": OnPostStatus,
            "week": onpost.WORKING_DAYS_A_WEEK,
        },
    )
