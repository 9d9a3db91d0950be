"""Reads of the teams app, always through the user's scope.

Every queryset here starts from ``visible_to(user)``; lists select or prefetch
what their pages show, so a page runs the same number of queries whatever the
number of rows; figures are SQL aggregates, never Python loops over rows.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import GreaterThan
from django.http import Http404

from core.choices import AreaLevel
from core.models import Area
from core.scoping import Scope, user_scope

from .choices import (
    COLLEGE_OR_ABOVE,
    DEPUTY_SECTION_OR_ABOVE,
    MATCHING_RULE,
    PARTY_MEMBERS,
    POSTGRADUATE,
    Education,
    HouseholdType,
    MemberRole,
)
from .models import Cadre, Household, Membership, Pairing, Team, Visit

# --- helpers -----------------------------------------------------------------


def distinct_visible(queryset: QuerySet, user) -> QuerySet:
    """``visible_to(user)`` with one row per object.

    ``ScopedQuerySet.visible_to`` filters a path that ends in ``_id`` with a
    plain join even when it crosses a to-many relation (a cadre's memberships
    and pairings, a household's pairings, a team's memberships), which repeats
    rows; a ``pk__in`` subquery keeps each object once."""
    return queryset.filter(pk__in=queryset.model.objects.visible_to(user).values("pk"))


def access_distinct(queryset: QuerySet, *, user, pk):
    """One object in scope or 404, the same answer as for a missing one."""
    try:
        return distinct_visible(queryset, user).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def subquery_count(queryset: QuerySet, group_by: str) -> Coalesce:
    """COUNT(*) of a correlated subquery (0 when it has no rows)."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def area_lookup(area: Area, prefix: str) -> dict:
    """The filter that keeps rows whose village (reached by ``prefix``) lies in the area."""
    if area.level == AreaLevel.COUNTY:
        return {f"{prefix}__county_id": area.pk}
    if area.level == AreaLevel.TOWNSHIP:
        return {f"{prefix}__township_id": area.pk}
    return {f"{prefix}_id": area.pk}


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """First day of the month and first day of the next (local calendar dates)."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following


# --- cadres --------------------------------------------------------------------


def cadre_list(*, user) -> QuerySet:
    """Cadres in scope with their current team placement and number of
    current paired households, both as the user may see them (a township
    does not see where a cadre it once had is stationed now)."""
    placement = Membership.objects.visible_to(user).current().filter(cadre=OuterRef("pk"))
    pairings = Pairing.objects.visible_to(user).current().filter(cadre=OuterRef("pk"))
    return (
        distinct_visible(Cadre.objects.all(), user)
        .select_related("unit")
        .annotate(
            current_role=Subquery(placement.values("role")[:1]),
            current_start=Subquery(placement.values("start_date")[:1]),
            current_village_id=Subquery(placement.values("team__village_id")[:1]),
            current_village=Subquery(placement.values("team__village__name")[:1]),
            current_township=Subquery(placement.values("team__village__township__name")[:1]),
            paired_households=subquery_count(pairings, "cadre_id"),
        )
    )


@dataclass
class RecordEvent:
    """One line of a cadre's whole record (全程纪实档案)."""

    date: datetime.date
    order: int  # same-day order: ends before starts, starts before visits
    kind: str
    obj: object
    extra: dict = field(default_factory=dict)


def cadre_record(*, user, cadre: Cadre) -> dict:
    """Memberships, pairings and visits of a cadre that the user may see, and
    their events in time order. Three queries."""
    memberships = list(
        Membership.objects.visible_to(user)
        .filter(cadre=cadre)
        .select_related("team__village__township")
        .order_by("start_date", "pk")
    )
    pairings = list(
        Pairing.objects.visible_to(user)
        .filter(cadre=cadre)
        .select_related("household__village")
        .order_by("start_date", "pk")
    )
    visits = list(
        Visit.objects.visible_to(user)
        .filter(cadre=cadre)
        .select_related("household__village")
        .annotate(photo_count=Count("photos"))
        .order_by("date", "pk")
    )
    events: list[RecordEvent] = []
    for m in memberships:
        events.append(RecordEvent(m.start_date, 1, "membership_start", m))
        if m.end_date:
            events.append(RecordEvent(m.end_date, 0, "membership_end", m))
    for p in pairings:
        events.append(RecordEvent(p.start_date, 1, "pairing_start", p))
        if p.end_date:
            events.append(RecordEvent(p.end_date, 0, "pairing_end", p))
    for v in visits:
        events.append(RecordEvent(v.date, 2, "visit", v))
    events.sort(key=lambda e: (e.date, e.order))
    return {
        "memberships": memberships,
        "pairings": pairings,
        "visits": visits,
        "events": events,
    }


# --- villages and their teams ----------------------------------------------------

# leaders first: 第一书记兼工作队长, 第一书记, 工作队长, then members
ROLE_RANK = Case(
    When(role=MemberRole.SECRETARY_AND_LEADER, then=Value(0)),
    When(role=MemberRole.FIRST_SECRETARY, then=Value(1)),
    When(role=MemberRole.LEADER, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


def village_team(*, user, village: Area) -> dict:
    """A village's current team, its members now and before, its households and
    their pairings. Four queries."""
    team = (
        distinct_visible(Team.objects.current(), user)
        .filter(village=village)
        .order_by("-pk")
        .first()
    )
    memberships = list(
        Membership.objects.visible_to(user)
        .filter(team__village=village)
        .select_related("cadre__unit", "team")
        .annotate(role_rank=ROLE_RANK)
        .order_by("role_rank", "start_date", "pk")
    )
    current = [m for m in memberships if m.end_date is None and team and m.team_id == team.pk]
    past = [m for m in memberships if m.end_date is not None]
    past.sort(key=lambda m: (m.end_date, m.pk), reverse=True)
    households = list(
        distinct_visible(Household.objects.filter(village=village), user)
        .prefetch_related(
            Prefetch(
                "pairings",
                queryset=Pairing.objects.visible_to(user)
                .select_related("cadre__unit")
                .order_by(F("end_date").desc(nulls_first=True), "-start_date", "pk"),
            )
        )
        .order_by("head_name", "pk")
    )
    return {"team": team, "current": current, "past": past, "households": households}


# --- households and pairings ------------------------------------------------------


def household_list(*, user) -> QuerySet:
    """Households in scope with their current pairing cadre as the user may
    see it, and whether the household has a current pairing at all (a unit
    sees a household its cadre once helped, now paired by another unit's
    cadre, as paired, without that cadre's name)."""
    current = Pairing.objects.current().filter(household=OuterRef("pk"))
    seen = Pairing.objects.visible_to(user).current().filter(household=OuterRef("pk"))
    return (
        distinct_visible(Household.objects.all(), user)
        .select_related("village__township")
        .annotate(
            is_paired=Exists(current),
            pairing_cadre_id=Subquery(seen.values("cadre_id")[:1]),
            pairing_cadre=Subquery(seen.values("cadre__name")[:1]),
            pairing_unit=Subquery(seen.values("cadre__unit__name")[:1]),
            paired_since=Subquery(seen.values("start_date")[:1]),
        )
    )


def pairing_list(*, user, current_only: bool = True) -> QuerySet:
    qs = Pairing.objects.visible_to(user).select_related(
        "cadre__unit", "household__village__township"
    )
    if current_only:
        qs = qs.filter(end_date__isnull=True)
    return qs


# --- visits ------------------------------------------------------------------------


def visitable_households(*, user) -> QuerySet:
    """Households the user may record a visit for: those in scope with a
    current pairing (for a cadre, only the households currently paired with them)."""
    paired = Pairing.objects.current().visible_to(user).values("household_id")
    return (
        distinct_visible(Household.objects.filter(pk__in=paired), user)
        .select_related("village")
        .order_by("village__name", "head_name", "pk")
    )


def monthly_cadres(*, user, month: datetime.date, pairings: QuerySet | None = None) -> QuerySet:
    """Cadres with a current pairing in scope, with their visits in the month
    (visits to households the user may see) and their current households.

    ``pairings`` narrows the current pairings (township, village filters)."""
    first, following = month_bounds(month)
    in_scope = pairings if pairings is not None else Pairing.objects.visible_to(user)
    in_scope = in_scope.filter(end_date__isnull=True)
    month_visits = Visit.objects.visible_to(user).filter(
        cadre=OuterRef("pk"), date__gte=first, date__lt=following
    )
    return (
        Cadre.objects.filter(pk__in=in_scope.values("cadre_id"))
        .select_related("unit")
        .annotate(
            month_visits=subquery_count(month_visits, "cadre_id"),
            household_count=subquery_count(in_scope.filter(cadre=OuterRef("pk")), "cadre_id"),
        )
    )


def monthly_pairings(
    *, user, month: datetime.date, cadre_ids, pairings: QuerySet | None = None
) -> QuerySet:
    """The current pairings of the given cadres, each with its visits in the month."""
    first, following = month_bounds(month)
    in_scope = pairings if pairings is not None else Pairing.objects.visible_to(user)
    month_visits = Visit.objects.visible_to(user).filter(
        cadre=OuterRef("cadre_id"),
        household=OuterRef("household_id"),
        date__gte=first,
        date__lt=following,
    )
    return (
        in_scope.filter(end_date__isnull=True, cadre_id__in=cadre_ids)
        .select_related("household__village")
        .annotate(month_visits=subquery_count(month_visits, "household_id"))
        .order_by("cadre_id", "household__village__name", "household__head_name", "pk")
    )


def monthly_summary(*, cadres: QuerySet, pairings: QuerySet, threshold: int) -> dict:
    """Totals of the monthly table: cadres, those under the threshold, households
    not visited. Two queries."""
    totals = cadres.order_by().aggregate(
        cadres=Count("pk"), under=Count("pk", filter=Q(month_visits__lt=threshold))
    )
    unvisited = pairings.order_by().aggregate(
        households=Count("pk"), unvisited=Count("pk", filter=Q(month_visits=0))
    )
    return {**totals, **unvisited}


# --- the matching report -------------------------------------------------------------

# the unit kind each village condition calls for (贫困村 -> 经济部门 …)
NEEDED_KIND = {condition: kind for kind, condition in MATCHING_RULE.items()}


def matching_teams(*, user) -> QuerySet:
    """Current teams in scope whose village condition calls for a unit kind,
    annotated with the kind needed and whether a current member's unit is of it.

    A team is matched when at least one current member's dispatching unit is of
    the kind its village's condition calls for; villages that are 一般村 or have
    no condition need no match and are left out."""
    needed = Case(
        *[When(village__condition=c, then=Value(k)) for c, k in NEEDED_KIND.items()],
        default=Value(""),
        output_field=CharField(),
    )
    fitting = Membership.objects.filter(
        team=OuterRef("pk"), end_date__isnull=True, cadre__unit__kind=OuterRef("needed_kind")
    )
    return (
        distinct_visible(Team.objects.current(), user)
        .filter(village__condition__in=list(NEEDED_KIND))
        .annotate(needed_kind=needed)
        .annotate(matched=Exists(fitting))
    )


def matching_report(*, user) -> dict:
    """The mismatched teams with the kinds of their current members, and how
    many teams were checked and matched. Three queries.

    (The matched count is checked minus mismatched: an aggregate
    ``Count(filter=Q(matched=True))`` over the Exists annotation loses the
    annotation in Django 5.2 and counts nothing on SQLite.)"""
    teams = matching_teams(user=user)
    checked = teams.count()
    mismatched = list(
        teams.filter(matched=False)
        .select_related("village__township")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.current().select_related("cadre__unit"),
                to_attr="current_members",
            )
        )
        .order_by("village__township__name", "village__name", "pk")
    )
    return {
        "summary": {"checked": checked, "matched": checked - len(mismatched)},
        "teams": mismatched,
    }


def kinds_present(team: Team) -> list[str]:
    """The unit kinds of a team's current members (from the prefetched rows)."""
    return sorted({m.cadre.unit.kind for m in getattr(team, "current_members", [])})


# --- team structure ---------------------------------------------------------------

STRUCTURE_KEYS = (
    "teams",
    "members",
    "average_age",
    "college_or_above",
    "postgraduates",
    "doctorates",
    "party_members",
    "deputy_section_or_above",
    "agri_majors",
    "rural_experience",
    "prior_poverty_service",
)


def age_on_expression(field_name: str, day: datetime.date):
    """Whole years of age on ``day`` in SQL, exactly as ``core.idcard.age_on``:
    the year difference, less one while the birthday (month * 100 + day) is
    still ahead in the day's year. A 29 February birthday comes on 1 March in
    other years; on the birthday itself the new age counts."""
    birth_md = ExtractMonth(field_name) * 100 + ExtractDay(field_name)
    not_yet = Case(
        When(GreaterThan(birth_md, Value(day.month * 100 + day.day)), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Value(day.year) - ExtractYear(field_name) - not_yet


def memberships_on(day: datetime.date) -> QuerySet:
    """Memberships that include the day, in teams current on it: start ≤ day and
    (no end or end ≥ day), team formed ≤ day and (not dissolved or dissolved ≥ day).

    A cadre counts once: when two of their memberships include the day (moved
    that day), the later-starting one counts (where they are at the end of the day)."""
    on = (
        Membership.objects.filter(start_date__lte=day, team__formed_on__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .filter(Q(team__dissolved_on__isnull=True) | Q(team__dissolved_on__gte=day))
    )
    later = on.filter(cadre_id=OuterRef("cadre_id")).filter(
        Q(start_date__gt=OuterRef("start_date"))
        | Q(start_date=OuterRef("start_date"), pk__gt=OuterRef("pk"))
    )
    return on.exclude(Exists(later))


def _structure_aggregates() -> dict:
    return {
        "teams": Count("team_id", distinct=True),
        "members": Count("pk"),
        "age_total": Sum("_age"),
        "college_or_above": Count("pk", filter=Q(cadre__education__in=COLLEGE_OR_ABOVE)),
        "postgraduates": Count("pk", filter=Q(cadre__education__in=POSTGRADUATE)),
        "doctorates": Count("pk", filter=Q(cadre__education=Education.DOCTORATE)),
        "party_members": Count("pk", filter=Q(cadre__political_status__in=PARTY_MEMBERS)),
        "deputy_section_or_above": Count("pk", filter=Q(cadre__rank__in=DEPUTY_SECTION_OR_ABOVE)),
        "agri_majors": Count("pk", filter=Q(cadre__agri_major=True)),
        "rural_experience": Count("pk", filter=Q(cadre__rural_experience=True)),
        "prior_poverty_service": Count("pk", filter=Q(cadre__prior_poverty_service=True)),
    }


def _structure_base(*, user, day: datetime.date) -> QuerySet:
    return (
        memberships_on(day)
        .visible_to(user)
        .annotate(_age=age_on_expression("cadre__birth_date", day))
        .order_by()
    )


def _finish(raw: dict | None) -> dict:
    raw = dict(raw or {})
    members = raw.get("members") or 0
    total = raw.pop("age_total", None)
    average = None
    if members and total is not None:
        average = (Decimal(total) / Decimal(members)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    result = {key: raw.get(key) or 0 for key in STRUCTURE_KEYS}
    result["average_age"] = average
    return result


def team_structure_for_area(*, user, area: Area, day: datetime.date) -> dict:
    """The team-structure figures of one area (county, township or village) on a day. One query."""
    raw = (
        _structure_base(user=user, day=day)
        .filter(**area_lookup(area, "team__village"))
        .aggregate(**_structure_aggregates())
    )
    return _finish(raw)


@dataclass
class StructureRow:
    area: Area
    figures: dict


def team_structure(*, user, day: datetime.date) -> list[StructureRow]:
    """Rows for the user's areas: a county office gets its county and each
    township, a township office its township, a team leader their village.
    One query for the areas, then one per level."""
    scope = user_scope(user)
    if scope.kind not in (Scope.COUNTY, Scope.TOWNSHIP, Scope.VILLAGE):
        return []
    area = Area.objects.visible_to(user).filter(pk=scope.pk).first()
    if area is None:
        return []
    rows = [StructureRow(area, team_structure_for_area(user=user, area=area, day=day))]
    if area.level == AreaLevel.COUNTY:
        townships = list(
            Area.objects.visible_to(user).townships().filter(parent=area).order_by("code", "name")
        )
        grouped = {
            r.pop("team__village__township_id"): r
            for r in _structure_base(user=user, day=day)
            .filter(team__village__county_id=area.pk)
            .values("team__village__township_id")
            .annotate(**_structure_aggregates())
        }
        rows += [StructureRow(t, _finish(grouped.get(t.pk))) for t in townships]
    return rows


# --- overview --------------------------------------------------------------------


def overview(*, user, area: Area) -> dict:
    """Current figures of an area: villages, teams, members, units with a current
    member, cadres with a current pairing, households (by type). Five queries."""
    if area.level == AreaLevel.VILLAGE:
        villages = 1
    else:
        villages = (
            Area.objects.visible_to(user)
            .villages()
            .filter(**{"county_id" if area.is_county else "township_id": area.pk})
            .count()
        )
    teams = (
        distinct_visible(Team.objects.current(), user)
        .filter(**area_lookup(area, "village"))
        .count()
    )
    members = (
        Membership.objects.visible_to(user)
        .current()
        .filter(team__dissolved_on__isnull=True, **area_lookup(area, "team__village"))
        .order_by()
        .aggregate(
            members=Count("cadre_id", distinct=True), units=Count("cadre__unit_id", distinct=True)
        )
    )
    pairing_cadres = (
        Pairing.objects.visible_to(user)
        .current()
        .filter(**area_lookup(area, "household__village"))
        .order_by()
        .aggregate(n=Count("cadre_id", distinct=True))["n"]
    )
    households = (
        distinct_visible(Household.objects.filter(**area_lookup(area, "village")), user)
        .order_by()
        .aggregate(
            total=Count("pk"),
            **{f"t{i}": Count("pk", filter=Q(type=t)) for i, t in enumerate(HouseholdType.values)},
        )
    )
    return {
        "villages": villages,
        "teams": teams,
        "members": members["members"],
        "units": members["units"],
        "pairing_cadres": pairing_cadres,
        "households": households["total"],
        "households_by_type": {t: households[f"t{i}"] for i, t in enumerate(HouseholdType.values)},
    }
