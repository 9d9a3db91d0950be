"""The approval state machine against random sequences of actions by random
actors (Hypothesis). After every action:

- the service accepted exactly the actions an independent oracle allows
  (right level, permission, area, not the applicant, a reason to reject,
  withdraw only while not final, return only after approval);
- never two decisions at one level; approvals follow village → township →
  (county), never skipping a level;
- never approved or rejected by the applicant, by someone outside the
  applicant's area or without the level's permission;
- the status is the one the decisions (and a withdrawal) imply;
- a final status never changes.
"""

from __future__ import annotations

import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from attendance import leave as svc
from attendance.calendar import calendar_ensure_year
from attendance.choices import ApprovalLevel, LeaveKind, LeaveStatus
from attendance.models import LeaveRequest
from core.choices import Role
from tests.attendance.test_leave import MON, setup_leave
from tests.factories import make_user
from tests.teams.factories import make_cadre, make_team, station

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SH)

APPLICANTS = ["cadre", "cadre2", "leader", "cadre3"]
ACTORS = [
    "cadre",
    "cadre2",
    "cadre3",
    "leader",
    "leader2",
    "leader_b",
    "leader3",
    "township",
    "township2",
    "other_township",
    "county",
    "far_county",
    "unit",
    "inspector",
]
# Request shapes: (kind, start half, days after the Monday, end half)
SHAPES = {
    "half": (LeaveKind.LEAVE, "am", 0, "am"),  # 0.5: final at the township
    "two": (LeaveKind.LEAVE, "am", 1, "pm"),  # 2: final at the township
    "two_and_a_half": (LeaveKind.LEAVE, "am", 2, "am"),  # 2.5: needs the county
    "week": (LeaveKind.LEAVE, "am", 4, "pm"),  # 5: needs the county
    "business": (LeaveKind.BUSINESS, "am", 4, "pm"),  # 5, but business: the township
}
FINAL = {LeaveStatus.APPROVED, LeaveStatus.REJECTED, LeaveStatus.WITHDRAWN}
ORDER = [ApprovalLevel.VILLAGE, ApprovalLevel.TOWNSHIP, ApprovalLevel.COUNTY]
WAITING = {
    LeaveStatus.PENDING_VILLAGE: ApprovalLevel.VILLAGE,
    LeaveStatus.PENDING_TOWNSHIP: ApprovalLevel.TOWNSHIP,
    LeaveStatus.PENDING_COUNTY: ApprovalLevel.COUNTY,
}


@pytest.fixture
def machine(world, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    lv = setup_leave(world)
    users = lv.users
    users["cadre3"] = make_user("cadre3", Role.CADRE)
    far = make_cadre(world.far_unit, "赵六", user=users["cadre3"])
    station(far, make_team(world.far_village), start=datetime.date(2026, 1, 1))
    # a second leader in 一村 (decides the first secretary's own leave) and one in 三村
    users["leader_b"] = make_user("leader_b", Role.TEAM_LEADER, scope_area=world.village)
    users["leader3"] = make_user("leader3", Role.TEAM_LEADER, scope_area=world.far_village)
    for county in (world.county, world.other_county):
        calendar_ensure_year(county=county, year=2026)
    # (level, area id) each approver acts at
    approvers = {
        "leader": (ApprovalLevel.VILLAGE, world.village.pk),
        "leader2": (ApprovalLevel.VILLAGE, world.other_village.pk),
        "leader_b": (ApprovalLevel.VILLAGE, world.village.pk),
        "leader3": (ApprovalLevel.VILLAGE, world.far_village.pk),
        "township": (ApprovalLevel.TOWNSHIP, world.township.pk),
        "township2": (ApprovalLevel.TOWNSHIP, world.township.pk),
        "other_township": (ApprovalLevel.TOWNSHIP, world.other_township.pk),
        "county": (ApprovalLevel.COUNTY, world.county.pk),
        "far_county": (ApprovalLevel.COUNTY, world.other_county.pk),
    }
    return users, approvers


def area_at(request: LeaveRequest, level: str) -> int:
    village = request.membership.team.village
    return {
        ApprovalLevel.VILLAGE: village.pk,
        ApprovalLevel.TOWNSHIP: village.township_id,
        ApprovalLevel.COUNTY: village.county_id,
    }[level]


def chain(request: LeaveRequest) -> list[str]:
    return ORDER[: ORDER.index(request.final_level) + 1]


def oracle(users, approvers, request: LeaveRequest, actor_key: str, op: str, reason: str) -> bool:
    """Whether the rules allow the action (computed without the service)."""
    actor = users[actor_key]
    is_applicant = request.cadre.user_id == actor.pk
    if op in ("approve", "reject"):
        level = WAITING.get(request.status)
        if level is None or is_applicant or actor_key not in approvers:
            return False
        actor_level, area = approvers[actor_key]
        if actor_level != level or area != area_at(request, level):
            return False
        return op == "approve" or bool(reason.strip())
    if op == "withdraw":
        return is_applicant and request.status in WAITING
    # return
    return is_applicant and request.status == LeaveStatus.APPROVED and request.returned_on is None


def right_actor(users, approvers, request: LeaveRequest, op: str) -> str:
    """The approver of the level the request waits at (or the applicant for
    withdraw and return); the county office when nobody may act."""
    if op in ("withdraw", "return"):
        return next(k for k, u in users.items() if u.pk == request.cadre.user_id)
    level = WAITING.get(request.status)
    for key, (actor_level, area) in approvers.items():
        mine = level == actor_level and area == area_at(request, level)
        if mine and users[key].pk != request.cadre.user_id:
            return key
    return "county"


def check_invariants(users, approvers, request: LeaveRequest) -> None:
    decisions = list(request.decisions.select_related("approver").order_by("pk"))
    counts = Counter(d.level for d in decisions)
    assert all(n == 1 for n in counts.values()), counts
    by_user = {u.pk: key for key, u in users.items()}
    for d in decisions:
        assert d.approver_id != request.cadre.user_id, "decided by the applicant"
        key = by_user[d.approver_id]
        assert key in approvers, f"{key} decided without an approver's permission"
        level, area = approvers[key]
        assert level == d.level, f"{key} decided at {d.level}"
        assert area == area_at(request, d.level), f"{key} decided outside their area"
        assert d.approver.has_perm(svc.LEVEL_PERMISSION[d.level])
    levels = [d.level for d in decisions]
    needed = chain(request)
    assert levels == needed[: len(levels)], f"skipped a level: {levels}"
    rejected = [d for d in decisions if d.decision == "reject"]
    assert len(rejected) <= 1
    if rejected:
        assert decisions[-1].decision == "reject" and rejected[0].reason
        assert request.status == LeaveStatus.REJECTED
    elif request.status == LeaveStatus.APPROVED:
        assert levels == needed
    elif request.status == LeaveStatus.WITHDRAWN:
        assert len(levels) < len(needed)
    else:
        assert request.status in WAITING
        assert WAITING[request.status] == needed[len(levels)]
    assert (request.decided_at is not None) == (
        request.status in (LeaveStatus.APPROVED, LeaveStatus.REJECTED)
    )
    assert request.returned_on is None or request.status == LeaveStatus.APPROVED


RIGHT = "right"  # resolved at run time: someone the rules let act on the request now

actions = st.lists(
    st.tuples(
        st.sampled_from([*ACTORS, *[RIGHT] * 14]),
        st.sampled_from(["approve"] * 5 + ["reject", "withdraw", "return"]),
        st.integers(min_value=0, max_value=3),
        st.sampled_from(["", "  ", "人手不足"]),
    ),
    min_size=1,
    max_size=30,
)
requests = st.lists(
    st.tuples(st.sampled_from(APPLICANTS), st.sampled_from(sorted(SHAPES))),
    min_size=1,
    max_size=4,
)


def run(users, approvers, specs, steps) -> list[str]:
    created = []
    for week, (applicant, shape) in enumerate(specs):
        kind, start_half, length, end_half = SHAPES[shape]
        start = MON + datetime.timedelta(days=7 * week)
        created.append(
            svc.leave_request_create(
                user=users[applicant],
                kind=kind,
                leave_type="事假" if kind == LeaveKind.LEAVE else "",
                start_date=start,
                start_half=start_half,
                end_date=start + datetime.timedelta(days=length),
                end_half=end_half,
                reason="随机",
            )
        )
    finals: dict[int, str] = {}
    for actor_key, op, index, reason in steps:
        target = LeaveRequest.objects.select_related("cadre", "membership__team__village").get(
            pk=created[index % len(created)].pk
        )
        if actor_key == RIGHT:
            actor_key = right_actor(users, approvers, target, op)
        expected = oracle(users, approvers, target, actor_key, op, reason)
        actor = users[actor_key]
        try:
            if op in ("approve", "reject"):
                svc.leave_decide(actor=actor, request=target, decision=op, reason=reason)
            elif op == "withdraw":
                svc.leave_withdraw(user=actor, request=target)
            else:
                svc.leave_report_return(user=actor, request=target, returned_on=target.end_date)
            happened = True
        except (PermissionDenied, ValidationError):
            happened = False
        assert happened == expected, (actor_key, op, target.status)
        for req in LeaveRequest.objects.filter(pk__in=[r.pk for r in created]).select_related(
            "cadre", "membership__team__village"
        ):
            check_invariants(users, approvers, req)
            if req.pk in finals:
                assert req.status == finals[req.pk], "a final status changed"
            elif req.status in FINAL:
                finals[req.pk] = req.status
    return list(
        LeaveRequest.objects.filter(pk__in=[r.pk for r in created]).values_list("status", flat=True)
    )


@pytest.mark.django_db
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=requests, steps=actions)
def test_random_sequences_keep_the_invariants(machine, specs, steps):
    users, approvers = machine
    with transaction.atomic():
        for status in run(users, approvers, specs, steps):
            event(f"ends {status}")
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_full_walk_through_every_level(machine):
    """The oracle itself, on the one sequence that reaches the county."""
    users, approvers = machine
    run(
        users,
        approvers,
        [("cadre", "week")],
        [
            ("township", "approve", 0, ""),  # not yet: refused
            ("leader", "approve", 0, ""),
            ("leader", "approve", 0, ""),  # twice: refused
            ("township2", "approve", 0, ""),
            ("far_county", "approve", 0, ""),  # another county: refused
            ("county", "reject", 0, " "),  # no reason: refused
            ("county", "approve", 0, ""),
            ("cadre", "withdraw", 0, ""),  # final: refused
            ("cadre", "return", 0, ""),
        ],
    )
    req = LeaveRequest.objects.get()
    assert req.status == LeaveStatus.APPROVED and req.returned_on is not None
    assert list(req.decisions.values_list("level", flat=True)) == ORDER
