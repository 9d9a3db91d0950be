"""Authentication backend whose permissions come from the user's role only."""

from django.contrib.auth.backends import ModelBackend

from .roles import permissions_for


class RoleBackend(ModelBackend):
    def get_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(permissions_for(user_obj.role))
