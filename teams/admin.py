"""The admin console for the teams app, scoped like every other page.

Rows, dropdowns and object permissions go through ``visible_to(user)`` (one
row per object: a cadre's scope runs through their memberships and pairings).
History is kept: memberships, pairings, teams and visits are read-only here
and change only through the services (admin actions: recall, adjust, end of
rotation, reassign a household). Cadres and households take corrections of
their plain fields, through services that write the audit log.

Import and export use django-import-export's buttons. Import runs the one
roster engine of the upload pages (``teams.importers``): the admin's import
button opens the upload page for that roster, in the user's own scope, so the
preview, all-or-nothing apply and error workbook are the same everywhere. It
needs ``teams.import_roster``. Export writes masked numbers only, escapes
formula-like cells, needs ``teams.export_roster`` and is an audit row.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export import fields, resources
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats

from core.admin import ScopedAdminMixin
from core.excel import safe_cell
from core.models import Area
from core.scoping import access

from . import services
from .choices import MemberRole
from .models import Cadre, Household, Membership, Pairing, Team, Visit

YES_NO = {True: "是", False: "否"}


# --- shared pieces ---------------------------------------------------------------------


class DistinctScopedAdminMixin(ScopedAdminMixin):
    """``ScopedAdminMixin`` with one row per object: a scope path through a
    to-many relation (a cadre's memberships and pairings) would repeat rows."""

    def get_queryset(self, request):
        base = super(ScopedAdminMixin, self).get_queryset(request)
        visible = self.model._default_manager.visible_to(request.user).values("pk")
        return base.filter(pk__in=visible)


class ReadOnlyAdminMixin:
    """History: nobody adds, edits or deletes rows here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SafeResource(resources.Resource):
    """Export rows: cells that a spreadsheet would run as a formula are escaped."""

    title = ""

    @classmethod
    def get_display_name(cls):
        return cls.title or cls.__name__

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return safe_cell(value) if isinstance(value, str) else value


class RosterImportExportMixin(ImportExportMixin):
    """Import through the roster upload pages; export masked rows, audited."""

    roster_kind: str | None = None
    export_formats = [base_formats.XLSX, base_formats.CSV]
    import_formats = [base_formats.XLSX, base_formats.XLS, base_formats.CSV]

    def has_import_permission(self, request):
        if self.roster_kind is None:
            return False
        try:
            services.import_scope(request.user)
        except PermissionDenied:
            return False
        return True

    def import_action(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        return redirect(f"{reverse('import_list')}?kind={self.roster_kind}")

    def process_import(self, request, **kwargs):
        return self.import_action(request, **kwargs)

    def has_export_permission(self, request):
        return request.user.has_perm("teams.export_roster") and self.has_view_permission(request)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        resource = self.choose_export_resource_class(kwargs.get("export_form"), request)()
        selected = self.get_export_resource_fields_from_form(kwargs.get("export_form"))
        services.export_record(
            actor=request.user,
            what=f"admin:{self.opts.label_lower}",
            rows=queryset.count(),
            columns=resource.get_export_headers(selected_fields=selected),
            filters={k: v[:100] for k, v in request.GET.items() if k != "o"},
            request=request,
        )
        return data

    def get_export_filename(self, request, queryset, file_format):
        from django.utils import timezone

        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        return f"{self.opts.model_name}-{stamp}.{file_format.get_extension()}"


class DateInput(forms.DateInput):
    input_type = "date"


def _report(request, modeladmin, done: int, problems: list[str]) -> None:
    if done:
        modeladmin.message_user(
            request,
            ngettext("%(n)d row changed.", "%(n)d rows changed.", done) % {"n": done},
            messages.SUCCESS,
        )
    for problem in problems[:20]:
        modeladmin.message_user(request, problem, messages.ERROR)


def _problem(request, what: str, obj, exc: Exception) -> str:
    services.action_failed(actor=request.user, what=what, error=exc, obj=obj, request=request)
    if isinstance(exc, ValidationError):
        return f"{obj}: {' '.join(exc.messages)}"
    return f"{obj}: {_('You may not change this.')}"


# --- cadres ----------------------------------------------------------------------------


class CadreResource(SafeResource):
    name = fields.Field(attribute="name", column_name="姓名")
    sex = fields.Field(attribute="sex", column_name="性别")
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期")
    id_number = fields.Field(attribute="id_number_masked", column_name="身份证号")
    phone = fields.Field(attribute="phone_masked", column_name="手机号")
    unit = fields.Field(attribute="unit__name", column_name="派出单位")
    unit_kind = fields.Field(attribute="unit__kind", column_name="单位类别")
    post = fields.Field(attribute="post", column_name="职务")
    rank = fields.Field(attribute="rank", column_name="职级")
    education = fields.Field(attribute="education", column_name="学历")
    major = fields.Field(attribute="major", column_name="所学专业")
    agri_major = fields.Field(column_name="是否涉农专业")
    political_status = fields.Field(attribute="political_status", column_name="政治面貌")
    rural_experience = fields.Field(column_name="是否有农村工作经历")
    prior_poverty_service = fields.Field(column_name="是否参加过脱贫攻坚驻村")

    title = "驻村干部（脱敏）"

    def dehydrate_agri_major(self, cadre):
        return YES_NO[cadre.agri_major]

    def dehydrate_rural_experience(self, cadre):
        return YES_NO[cadre.rural_experience]

    def dehydrate_prior_poverty_service(self, cadre):
        return YES_NO[cadre.prior_poverty_service]


class CadreAdminForm(forms.ModelForm):
    class Meta:
        model = Cadre
        fields = services.CADRE_EDITABLE


@admin.register(Cadre)
class CadreAdmin(DistinctScopedAdminMixin, RosterImportExportMixin, admin.ModelAdmin):
    form = CadreAdminForm
    roster_kind = "cadres"
    resource_classes = [CadreResource]
    list_display = (
        "name",
        "sex",
        "id_number_masked",
        "phone_masked",
        "unit",
        "post",
        "rank",
        "education",
        "political_status",
    )
    list_filter = ("education", "political_status", "rank", "sex")
    search_fields = ("name", "name_pinyin", "name_initials", "id_number_masked")
    search_help_text = _(
        "Name, pinyin (zhangsan) or initials (zs), or the last digits of the ID number."
    )
    list_select_related = ("unit",)
    readonly_fields = ("id_number_masked", "phone_masked", "sex", "birth_date", "user")
    fields = (
        "name",
        "id_number_masked",
        "phone_masked",
        "sex",
        "birth_date",
        "unit",
        "post",
        "rank",
        "education",
        "major",
        "agri_major",
        "political_status",
        "rural_experience",
        "prior_poverty_service",
        "user",
    )
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # cadres come from the rosters

    def save_model(self, request, obj, form, change):
        services.cadre_update(
            actor=request.user, cadre=obj, changed=form.changed_data, request=request
        )


# --- teams and memberships ---------------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("cadre", "role", "start_date", "end_date", "end_reason", "end_decision")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cadre")


@admin.register(Team)
class TeamAdmin(ReadOnlyAdminMixin, DistinctScopedAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "township", "formed_on", "dissolved_on")
    list_filter = (("dissolved_on", admin.EmptyFieldListFilter),)
    search_fields = ("village__name",)
    list_select_related = ("village", "village__parent")
    inlines = [MembershipInline]
    list_per_page = 50

    @admin.display(description=_("township"))
    def township(self, team):
        return team.village.parent.name


class MembershipActionForm(helpers.ActionForm):
    """The admin's action bar: what the recall, adjust and end actions need."""

    on = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    decision = forms.CharField(label=_("Decision"), required=False, max_length=200)
    village = forms.IntegerField(label=_("To village"), required=False, widget=forms.Select)
    role = forms.ChoiceField(
        label=_("New role"), required=False, choices=[("", "—"), *MemberRole.choices]
    )


class MembershipChange(forms.Form):
    on = forms.DateField(required=True)
    decision = forms.CharField(required=False, max_length=200)
    village = forms.IntegerField(required=False)
    role = forms.ChoiceField(required=False, choices=[("", "—"), *MemberRole.choices])


class MembershipResource(SafeResource):
    cadre = fields.Field(attribute="cadre__name", column_name="姓名")
    phone = fields.Field(attribute="cadre__phone_masked", column_name="手机号")
    unit = fields.Field(attribute="cadre__unit__name", column_name="派出单位")
    township = fields.Field(attribute="team__village__parent__name", column_name="乡镇")
    village = fields.Field(attribute="team__village__name", column_name="村名称")
    role = fields.Field(attribute="role", column_name="驻村身份")
    start_date = fields.Field(attribute="start_date", column_name="驻村开始日期")
    end_date = fields.Field(attribute="end_date", column_name="结束日期")
    end_reason = fields.Field(attribute="end_reason", column_name="结束原因")
    end_decision = fields.Field(attribute="end_decision", column_name="决定文件")

    title = "驻村经历（脱敏）"


@admin.register(Membership)
class MembershipAdmin(
    ReadOnlyAdminMixin, DistinctScopedAdminMixin, RosterImportExportMixin, admin.ModelAdmin
):
    """Read-only history; the actions end, recall or adjust through the services.

    Fill in the date (and the decision, and for an adjustment the village) in
    the action bar, tick the memberships, pick the action."""

    roster_kind = "cadres"
    resource_classes = [MembershipResource]
    action_form = MembershipActionForm
    actions = ["recall", "adjust", "end_rotation"]
    list_display = (
        "cadre",
        "team",
        "role",
        "start_date",
        "end_date",
        "end_reason",
        "end_decision",
    )
    list_filter = ("role", "end_reason", ("end_date", admin.EmptyFieldListFilter))
    search_fields = (
        "cadre__name",
        "cadre__name_pinyin",
        "cadre__name_initials",
        "team__village__name",
    )
    list_select_related = ("cadre", "team", "team__village")
    date_hierarchy = "start_date"
    list_per_page = 50

    def has_recall_permission(self, request):
        return request.user.has_perm("teams.change_membership")

    def has_adjust_permission(self, request):
        return request.user.has_perms(["teams.change_membership", "teams.add_membership"])

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        form = getattr(response, "context_data", {}).get("action_form")
        if form is not None and "village" in form.fields:
            villages = (
                Area.objects.visible_to(request.user)
                .villages()
                .select_related("parent")
                .order_by("parent__name", "name")
            )
            form.fields["village"].widget.choices = [
                ("", "—"),
                *((v.pk, f"{v.parent.name} · {v.name}") for v in villages),
            ]
        return response

    def _change(self, request):
        form = MembershipChange(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Give the date in the action bar."), messages.ERROR)
            return None
        return form.cleaned_data

    @admin.action(description=_("Recall (召回) the selected members"), permissions=["recall"])
    def recall(self, request, queryset):
        data = self._change(request)
        if data is None:
            return
        done, problems = 0, []
        for membership in queryset.select_related("cadre"):
            try:
                services.membership_recall(
                    actor=request.user,
                    membership=membership,
                    on=data["on"],
                    decision=data["decision"],
                    request=request,
                )
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                problems.append(_problem(request, "membership_recall", membership, exc))
        _report(request, self, done, problems)

    @admin.action(
        description=_("Adjust (调整) the selected members to the village"), permissions=["adjust"]
    )
    def adjust(self, request, queryset):
        data = self._change(request)
        if data is None:
            return
        try:
            village = access(Area.objects.villages(), user=request.user, pk=data["village"])
        except Http404:
            self.message_user(request, _("Choose the village in the action bar."), messages.ERROR)
            return
        done, problems = 0, []
        for membership in queryset.select_related("cadre"):
            try:
                services.membership_adjust(
                    actor=request.user,
                    membership=membership,
                    to_team_or_village=village,
                    on=data["on"],
                    role=data["role"] or None,
                    decision=data["decision"],
                    request=request,
                )
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                problems.append(_problem(request, "membership_adjust", membership, exc))
        _report(request, self, done, problems)

    @admin.action(
        description=_("End the selected memberships (rotation completed)"), permissions=["recall"]
    )
    def end_rotation(self, request, queryset):
        data = self._change(request)
        if data is None:
            return
        done, problems = 0, []
        for membership in queryset.select_related("cadre"):
            try:
                services.membership_end(
                    actor=request.user,
                    membership=membership,
                    on=data["on"],
                    decision=data["decision"],
                    request=request,
                )
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                problems.append(_problem(request, "membership_end", membership, exc))
        _report(request, self, done, problems)


# --- households, pairings, visits ------------------------------------------------------


class HouseholdResource(SafeResource):
    township = fields.Field(attribute="village__parent__name", column_name="乡镇")
    village = fields.Field(attribute="village__name", column_name="村名称")
    head_name = fields.Field(attribute="head_name", column_name="户主姓名")
    head_id_number = fields.Field(attribute="head_id_number_masked", column_name="户主身份证号")
    size = fields.Field(attribute="size", column_name="家庭人口")
    type = fields.Field(attribute="type", column_name="户类型")
    year = fields.Field(attribute="year_out_of_poverty", column_name="脱贫年度")
    phone = fields.Field(attribute="phone_masked", column_name="联系电话")

    title = "帮扶户（脱敏）"


class HouseholdAdminForm(forms.ModelForm):
    class Meta:
        model = Household
        fields = services.HOUSEHOLD_EDITABLE


@admin.register(Household)
class HouseholdAdmin(DistinctScopedAdminMixin, RosterImportExportMixin, admin.ModelAdmin):
    form = HouseholdAdminForm
    roster_kind = "households"
    resource_classes = [HouseholdResource]
    list_display = (
        "head_name",
        "head_id_number_masked",
        "village",
        "size",
        "type",
        "year_out_of_poverty",
        "phone_masked",
    )
    list_filter = ("type",)
    search_fields = ("head_name", "head_id_number_masked", "village__name")
    list_select_related = ("village",)
    readonly_fields = ("village", "head_id_number_masked", "phone_masked")
    fields = (
        "village",
        "head_name",
        "head_id_number_masked",
        "size",
        "type",
        "year_out_of_poverty",
        "phone_masked",
    )
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # households come from the rosters

    def save_model(self, request, obj, form, change):
        services.household_update(
            actor=request.user, household=obj, changed=form.changed_data, request=request
        )


class PairingActionForm(helpers.ActionForm):
    cadre = forms.IntegerField(label=_("New pairing cadre"), required=False, widget=forms.Select)
    on = forms.DateField(label=_("From"), required=False, widget=DateInput)


class PairingChange(forms.Form):
    cadre = forms.IntegerField(required=True)
    on = forms.DateField(required=True)


class PairingResource(SafeResource):
    cadre = fields.Field(attribute="cadre__name", column_name="帮扶干部姓名")
    cadre_id_number = fields.Field(
        attribute="cadre__id_number_masked", column_name="帮扶干部身份证号"
    )
    unit = fields.Field(attribute="cadre__unit__name", column_name="派出单位")
    head_name = fields.Field(attribute="household__head_name", column_name="户主姓名")
    head_id_number = fields.Field(
        attribute="household__head_id_number_masked", column_name="户主身份证号"
    )
    village = fields.Field(attribute="household__village__name", column_name="村名称")
    start_date = fields.Field(attribute="start_date", column_name="结对开始日期")
    end_date = fields.Field(attribute="end_date", column_name="结束日期")

    title = "结对帮扶（脱敏）"


@admin.register(Pairing)
class PairingAdmin(
    ReadOnlyAdminMixin, DistinctScopedAdminMixin, RosterImportExportMixin, admin.ModelAdmin
):
    """Read-only history; the action gives the selected households a new cadre."""

    roster_kind = "pairings"
    resource_classes = [PairingResource]
    action_form = PairingActionForm
    actions = ["reassign"]
    list_display = ("household", "village", "cadre", "start_date", "end_date")
    list_filter = (("end_date", admin.EmptyFieldListFilter),)
    search_fields = (
        "cadre__name",
        "cadre__name_pinyin",
        "cadre__name_initials",
        "household__head_name",
    )
    list_select_related = ("cadre", "household", "household__village")
    list_per_page = 50

    @admin.display(description=_("village"))
    def village(self, pairing):
        return pairing.household.village.name

    def has_reassign_permission(self, request):
        return request.user.has_perms(["teams.change_pairing", "teams.add_pairing"])

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        form = getattr(response, "context_data", {}).get("action_form")
        if form is not None and "cadre" in form.fields:
            cadres = Cadre.objects.filter(
                pk__in=Cadre.objects.visible_to(request.user).values("pk")
            ).order_by("name_pinyin", "pk")
            form.fields["cadre"].widget.choices = [
                ("", "—"),
                *((c.pk, f"{c.name}（{c.phone_masked}）") for c in cadres),
            ]
        return response

    @admin.action(
        description=_("Give the selected households a new pairing cadre"), permissions=["reassign"]
    )
    def reassign(self, request, queryset):
        form = PairingChange(request.POST)
        if not form.is_valid():
            self.message_user(
                request, _("Choose the cadre and the date in the action bar."), messages.ERROR
            )
            return
        cadre = Cadre.objects.filter(
            pk=form.cleaned_data["cadre"],
            pk__in=Cadre.objects.visible_to(request.user).values("pk"),
        ).first()
        if cadre is None:
            self.message_user(
                request, _("Choose the cadre and the date in the action bar."), messages.ERROR
            )
            return
        done, problems = 0, []
        for pairing in queryset.filter(end_date__isnull=True).select_related("household"):
            try:
                services.pairing_reassign(
                    actor=request.user,
                    household=pairing.household,
                    cadre=cadre,
                    on=form.cleaned_data["on"],
                    request=request,
                )
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                problems.append(_problem(request, "pairing_reassign", pairing, exc))
        _report(request, self, done, problems)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdminMixin, DistinctScopedAdminMixin, admin.ModelAdmin):
    list_display = ("date", "cadre", "household")
    search_fields = ("cadre__name", "cadre__name_pinyin", "household__head_name")
    list_select_related = ("cadre", "household")
    date_hierarchy = "date"
    fields = ("date", "cadre", "household", "content")
    list_per_page = 50
