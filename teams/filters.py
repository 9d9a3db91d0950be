"""Filter sets of the teams pages (django-filter).

Each filter set takes the ``user``: its dropdowns (units, townships, villages)
list only what the user may see, and a value outside them is a form error, not
a silent widening. Sorting maps public keys to fields through an allow-list.
"""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core import crypto
from core.models import Area, DispatchingUnit

from .choices import HouseholdType, MemberRole
from .models import ID_KIND, PHONE_KIND, Membership, Pairing

# An ID number suffix: 1 to 4 trailing characters, digits with an optional final X.
ID_SUFFIX = re.compile(r"\d{1,4}|\d{1,3}[Xx]")
FULL_ID = re.compile(r"\d{17}[\dXx]")
MOBILE = re.compile(r"1\d{10}")

PAIRING_ROLE = "pairing"


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering with the primary key last, so pages never repeat or skip rows."""

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value:
            qs = qs.order_by(*qs.query.order_by, "pk")
        return qs


class ScopedFilterSet(django_filters.FilterSet):
    """A filter set whose choice querysets come from the user's scope."""

    def __init__(self, data=None, queryset=None, *, user, prefix=None):
        super().__init__(data, queryset, prefix=prefix)
        self.user = user
        self.scope_choices()
        for name, form_field in self.form.fields.items():
            widget = form_field.widget
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", f"{css} {css}-sm")
            if name == "q":
                widget.attrs.setdefault("placeholder", _("Name, pinyin or ID suffix"))

    def scope_choices(self) -> None:
        """Point the dropdowns of this filter set at the user's scope."""
        areas = Area.objects.visible_to(self.user)
        if "township" in self.filters:
            self.filters["township"].queryset = areas.townships().order_by("code", "name")
        if "village" in self.filters:
            self.filters["village"].queryset = areas.villages().order_by(
                "township__name", "code", "name"
            )
        if "unit" in self.filters:
            self.filters["unit"].queryset = DispatchingUnit.objects.visible_to(self.user).order_by(
                "name"
            )

    @property
    def filter_values(self) -> dict:
        """The filters in use, as text, for the audit row of an export."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {
            key: str(value)
            for key, value in self.form.cleaned_data.items()
            if value not in (None, "", [], ())
        }

    @property
    def rows(self):
        """The filtered rows, or none at all when a filter value is not allowed."""
        if self.is_bound and not self.is_valid():
            return self.queryset.none()
        return self.qs


def _area_filter(label):
    return django_filters.ModelChoiceFilter(
        label=label, queryset=Area.objects.none(), method="filter_area"
    )


class CadreFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    unit = django_filters.ModelChoiceFilter(
        label=_("Dispatching unit"), queryset=DispatchingUnit.objects.none()
    )
    township = _area_filter(_("Township"))
    village = _area_filter(_("Village"))
    role = django_filters.ChoiceFilter(
        label=_("Role"),
        choices=[*MemberRole.choices, (PAIRING_ROLE, _("Pairing cadre"))],
        method="filter_role",
    )
    sort = StableOrderingFilter(
        label=_("Sort"),
        fields=(
            ("name_pinyin", "name"),
            ("birth_date", "birth"),
            ("unit__name", "unit"),
            ("current_township", "township"),
            ("current_village", "village"),
            ("current_role", "role"),
            ("current_start", "start"),
            ("paired_households", "households"),
        ),
    )

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if FULL_ID.fullmatch(value):
            return queryset.filter(id_number_hash=crypto.blind_index(ID_KIND, value.upper()))
        if MOBILE.fullmatch(value):
            return queryset.filter(phone_hash=crypto.blind_index(PHONE_KIND, value))
        if ID_SUFFIX.fullmatch(value):
            return queryset.filter(id_number_masked__endswith=value.upper())
        if value.isascii():
            key = value.lower().replace(" ", "")
            return queryset.filter(
                Q(name_pinyin__startswith=key)
                | Q(name_initials__startswith=key)
                | Q(name_pinyin__contains=key)
            )
        return queryset.filter(name__contains=value)

    def filter_area(self, queryset, name, value):
        """Cadres stationed there now, or pairing cadres of households there now."""
        if value.is_township:
            stationed = Membership.objects.current().filter(team__village__township=value)
            paired = Pairing.objects.current().filter(household__village__township=value)
        else:
            stationed = Membership.objects.current().filter(team__village=value)
            paired = Pairing.objects.current().filter(household__village=value)
        return queryset.filter(
            Q(pk__in=stationed.values("cadre_id")) | Q(pk__in=paired.values("cadre_id"))
        )

    def filter_role(self, queryset, name, value):
        if value == PAIRING_ROLE:
            return queryset.filter(paired_households__gt=0)
        return queryset.filter(current_role=value)


class HouseholdFilterSet(ScopedFilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    township = django_filters.ModelChoiceFilter(
        label=_("Township"), queryset=Area.objects.none(), field_name="village__township"
    )
    village = django_filters.ModelChoiceFilter(label=_("Village"), queryset=Area.objects.none())
    type = django_filters.ChoiceFilter(label=_("Household type"), choices=HouseholdType.choices)
    paired = django_filters.BooleanFilter(
        label=_("Paired"),
        method="filter_paired",
        widget=forms.Select(
            choices=[("", "---"), ("true", _("Paired")), ("false", _("Not paired"))]
        ),
    )
    sort = StableOrderingFilter(
        label=_("Sort"),
        fields=(
            ("village__township__name", "township"),
            ("village__name", "village"),
            ("head_name", "head"),
            ("size", "size"),
            ("type", "type"),
            ("year_out_of_poverty", "year"),
            ("pairing_cadre", "cadre"),
        ),
    )

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if FULL_ID.fullmatch(value):
            return queryset.filter(head_id_number_hash=crypto.blind_index(ID_KIND, value.upper()))
        if ID_SUFFIX.fullmatch(value):
            return queryset.filter(head_id_number_masked__endswith=value.upper())
        return queryset.filter(head_name__contains=value)

    def filter_paired(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(is_paired=value)


class PairingFilterSet(ScopedFilterSet):
    STATUS_CHOICES = [("current", _("Current")), ("all", _("All, with ended"))]

    status = django_filters.ChoiceFilter(
        label=_("Pairings"), choices=STATUS_CHOICES, method="filter_status", empty_label=None
    )
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    township = django_filters.ModelChoiceFilter(
        label=_("Township"),
        queryset=Area.objects.none(),
        field_name="household__village__township",
    )
    village = django_filters.ModelChoiceFilter(
        label=_("Village"), queryset=Area.objects.none(), field_name="household__village"
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Dispatching unit"),
        queryset=DispatchingUnit.objects.none(),
        field_name="cadre__unit",
    )
    sort = StableOrderingFilter(
        label=_("Sort"),
        fields=(
            ("cadre__name_pinyin", "cadre"),
            ("cadre__unit__name", "unit"),
            ("household__head_name", "household"),
            ("household__village__name", "village"),
            ("start_date", "start"),
            ("end_date", "end"),
        ),
    )

    def filter_status(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(end_date__isnull=True)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isascii():
            key = value.lower()
            return queryset.filter(
                Q(cadre__name_pinyin__contains=key) | Q(cadre__name_initials__startswith=key)
            )
        return queryset.filter(
            Q(cadre__name__contains=value) | Q(household__head_name__contains=value)
        )

    @property
    def qs(self):
        qs = super().qs
        # current pairings unless asked for all, also when the form is unbound
        if not self.is_bound or not self.data.get("status"):
            qs = qs.filter(end_date__isnull=True)
        return qs


class MonthlyFilterSet(ScopedFilterSet):
    """Narrows the current pairings behind the monthly visit table."""

    township = django_filters.ModelChoiceFilter(
        label=_("Township"),
        queryset=Area.objects.none(),
        field_name="household__village__township",
    )
    village = django_filters.ModelChoiceFilter(
        label=_("Village"), queryset=Area.objects.none(), field_name="household__village"
    )
    unit = django_filters.ModelChoiceFilter(
        label=_("Dispatching unit"),
        queryset=DispatchingUnit.objects.none(),
        field_name="cadre__unit",
    )
