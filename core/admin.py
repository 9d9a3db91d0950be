"""The admin console, scoped: querysets, dropdowns and actions go through
``visible_to(user)``; writes go through services, which write the audit log."""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.forms import AdminPasswordChangeForm, SetPasswordMixin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .choices import AreaLevel
from .models import Area, AuditLog, DispatchingUnit, RoleAssignment, User
from .scoping import Scope, user_scope


class ScopedAdminMixin:
    """Rows, dropdowns and object permissions restricted to the user's scope."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.remote_field.model
        if hasattr(related.objects.all(), "visible_to"):
            qs = related.objects.visible_to(request.user)
            limit = db_field.get_limit_choices_to()
            if limit:
                qs = qs.filter(**limit)
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request, obj) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # history is kept; areas and units are never deleted here


class AreaAdminForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = [
            "level",
            "kind",
            "name",
            "code",
            "parent",
            "category",
            "condition",
            "latitude",
            "longitude",
            "radius_m",
        ]


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = AreaAdminForm
    list_display = ("name", "level", "kind", "parent", "category", "condition", "code")
    list_filter = ("level", "category", "condition")
    search_fields = ("name", "code")
    list_select_related = ("parent",)
    list_per_page = 50

    def has_add_permission(self, request):
        return super().has_add_permission(request) and user_scope(request.user).kind == Scope.COUNTY

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # A township office corrects its villages, not the township itself.
        scope = user_scope(request.user)
        return not (obj is not None and scope.kind == Scope.TOWNSHIP and obj.pk == scope.pk)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "parent":
            field.queryset = field.queryset.exclude(level=AreaLevel.VILLAGE)
        return field

    def save_model(self, request, obj, form, change):
        services.area_save(
            actor=request.user,
            area=obj,
            created=not change,
            changed=form.changed_data,
            request=request,
        )


@admin.register(DispatchingUnit)
class DispatchingUnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "level", "county", "township")
    list_filter = ("kind", "level")
    search_fields = ("name",)
    list_select_related = ("county", "township")
    fields = ("county", "name", "kind", "level", "township")
    list_per_page = 50

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("county", "township"):
            qs = Area.objects.visible_to(request.user).filter(
                level=AreaLevel.COUNTY if db_field.name == "county" else AreaLevel.TOWNSHIP
            )
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.unit_save(
            actor=request.user,
            unit=obj,
            created=not change,
            changed=form.changed_data,
            request=request,
        )


class UserCreateForm(SetPasswordMixin, forms.ModelForm):
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = User
        fields = ("username", "full_name", "email")

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def _post_clean(self):
        super()._post_clean()
        self.validate_password_for_user(self.instance)


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """The system administrator's page: accounts, not roles."""

    list_display = ("username", "full_name", "role", "is_active", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("username", "full_name")
    fields = ("username", "full_name", "email", "is_active", "role", "last_login", "date_joined")
    readonly_fields = ("role", "last_login", "date_joined")
    change_password_form = AdminPasswordChangeForm
    list_per_page = 50

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserCreateForm
            kwargs["fields"] = ["username", "full_name", "email", "password1", "password2"]
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("username", "full_name", "email", "password1", "password2")
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated, never deleted: the audit log refers to them

    def save_model(self, request, obj, form, change):
        if change:
            services.user_update(
                actor=request.user, user=obj, changed=form.changed_data, request=request
            )
        else:
            created = services.user_create(
                actor=request.user,
                username=obj.username,
                full_name=obj.full_name,
                email=obj.email,
                password=form.cleaned_data["password1"],
                request=request,
            )
            obj.pk = created.pk
            obj._state.adding = False


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("role", "scope_area", "scope_unit")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """The security administrator's page: roles and scopes, nothing else."""

    form = RoleAssignmentForm
    list_display = ("username", "full_name", "role", "scope_area", "scope_unit", "is_active")
    list_filter = ("role",)
    search_fields = ("username", "full_name")
    list_select_related = ("scope_area", "scope_unit")
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.user_assign_role(
            actor=request.user,
            user=obj,
            role=obj.role,
            scope_area=obj.scope_area,
            scope_unit=obj.scope_unit,
            request=request,
        )


class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: the audit administrator reads; nobody adds, edits or deletes."""

    list_display = ("created_at", "username", "ip_address", "action", "object_repr", "success")
    list_filter = ("action", "success")
    search_fields = ("username", "object_repr", "ip_address")
    date_hierarchy = "created_at"
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


admin.site.register(AuditLog, AuditLogAdmin)


admin.site.unregister(AccessAttempt)
for model in (AccessLog, AccessFailureLog):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Lockouts; unlocking goes through a service that writes the audit log."""

    actions = ["unlock"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not request.user.has_perm("core.unlock_users"):
            actions.pop("unlock", None)
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Unlock the selected accounts"))
    def unlock(self, request, queryset):
        released = services.lockout_release(
            actor=request.user, attempts=list(queryset), request=request
        )
        self.message_user(
            request,
            ngettext("%(n)d lockout released.", "%(n)d lockouts released.", released)
            % {"n": released},
            messages.SUCCESS,
        )
