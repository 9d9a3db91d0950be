"""Scope: which rows a user may see.

Every area-bearing model's queryset inherits :class:`ScopedQuerySet` and names,
in ``scope_paths``, the lookups that lead from a row to its county, township,
village, dispatching unit and (for personal rows) the user it belongs to.
``visible_to(user)`` is then the one place where scope is decided; a path left
out means that kind of scope sees none of the rows (deny by default).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.http import Http404


class Scope:
    """The resolved scope of a user: a kind and the id it is anchored on."""

    ALL = "all"  # reserved for maintenance code; no user role has it
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    UNIT = "unit"
    SELF = "self"
    NONE = "none"

    __slots__ = ("kind", "pk")

    def __init__(self, kind: str, pk: int | None = None) -> None:
        self.kind = kind
        self.pk = pk

    def __repr__(self) -> str:
        return f"Scope({self.kind!r}, {self.pk!r})"


def user_scope(user) -> Scope:
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(Scope.NONE)
    resolved = getattr(user, "_kaitai_scope", None)
    if resolved is None:
        resolved = user.resolve_scope()
        user._kaitai_scope = resolved
    return resolved


class ScopedQuerySet(models.QuerySet):
    # kind of scope -> lookup from this model to the id the scope is anchored on
    scope_paths: dict[str, str | tuple[str, ...]] = {}

    def visible_to(self, user) -> ScopedQuerySet:
        scope = user_scope(user)
        if scope.kind == Scope.ALL:
            return self.all()
        paths = self.scope_paths.get(scope.kind)
        if not paths or scope.pk is None:
            return self.none()
        if isinstance(paths, str):
            paths = (paths,)
        condition = Q()
        for path in paths:
            condition |= Q(**{path: scope.pk})
        # A path through a to-many relation may repeat rows; keep them unique.
        if any(_crosses_to_many(self.model, p) for p in paths):
            return self.filter(pk__in=self.model._base_manager.filter(condition).values("pk"))
        return self.filter(condition)


def _crosses_to_many(model, path: str) -> bool:
    for name in path.split("__")[:-1]:
        field = model._meta.get_field(name)
        if field.one_to_many or field.many_to_many:
            return True
        model = field.related_model
    return False


def access(queryset: models.QuerySet, *, user, pk) -> models.Model:
    """One object within the user's scope, or 404, the same as a missing one."""
    try:
        return queryset.visible_to(user).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
