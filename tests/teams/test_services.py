"""The records services: adjust, recall and end memberships, reassign pairings,
correct cadres; each scoped, in one transaction with its audit rows."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit
from core.choices import AuditAction
from core.models import AuditLog
from teams import services
from teams.choices import EndReason, MemberRole
from teams.models import Membership, Pairing, Team
from tests.teams.factories import make_cadre, make_household, make_team, pair, station

pytestmark = pytest.mark.django_db

START = datetime.date(2021, 3, 1)
ON = datetime.date(2024, 5, 10)


@pytest.fixture
def stationed(world):
    cadre = make_cadre(world.unit, "张三")
    team = make_team(world.village)
    return station(cadre, team, MemberRole.MEMBER, START)


def _audit(what: str):
    return AuditLog.objects.filter(detail__what=what)


# --- adjust ----------------------------------------------------------------------


def test_adjust_moves_the_member_and_keeps_the_history(world, stationed):
    county = world.users["county"]
    other_team = make_team(world.other_village)

    new = services.membership_adjust(
        actor=county,
        membership=stationed,
        to_team_or_village=world.other_village,
        on=ON,
        decision="县委组织部〔2024〕12号",
    )

    old = Membership.objects.get(pk=stationed.pk)
    assert old.end_date == ON - datetime.timedelta(days=1)  # the day before
    assert old.end_reason == EndReason.ADJUSTMENT
    assert old.end_decision == "县委组织部〔2024〕12号"
    assert new.team == other_team and new.start_date == ON and new.role == MemberRole.MEMBER
    assert new.end_date is None
    # every day belongs to exactly one team
    assert list(Membership.objects.on(ON - datetime.timedelta(days=1))) == [old]
    assert list(Membership.objects.on(ON)) == [new]
    assert stationed.cadre.memberships.count() == 2
    change = _audit("membership_adjust").get()
    assert change.actor == county and change.success
    assert change.detail["decision"] == "县委组织部〔2024〕12号"
    assert _audit("membership").get().object_id == str(new.pk)


def test_adjust_into_a_village_without_a_team_forms_one(world, stationed):
    new = services.membership_adjust(
        actor=world.users["county"],
        membership=stationed,
        to_team_or_village=world.other_village,
        on=ON,
        role=MemberRole.LEADER,
        decision="调整文件",
    )
    team = Team.objects.get(village=world.other_village)
    assert new.team == team and team.formed_on == ON and new.role == MemberRole.LEADER
    assert _audit("team").get().object_id == str(team.pk)


def test_adjust_to_a_new_role_in_the_same_team(world, stationed):
    new = services.membership_adjust(
        actor=world.users["township"],
        membership=stationed,
        to_team_or_village=stationed.team,
        on=ON,
        role=MemberRole.FIRST_SECRETARY,
        decision="任命文件",
    )
    assert new.team == stationed.team and new.role == MemberRole.FIRST_SECRETARY


def test_adjust_to_the_same_team_and_role_is_refused(world, stationed):
    with pytest.raises(ValidationError):
        services.membership_adjust(
            actor=world.users["township"],
            membership=stationed,
            to_team_or_village=world.village,
            on=ON,
            decision="x",
        )
    assert Membership.objects.get(pk=stationed.pk).end_date is None


@pytest.mark.parametrize(
    "on",
    [START, START - datetime.timedelta(days=3), timezone.localdate() + datetime.timedelta(days=1)],
    ids=["on-start", "before-start", "future"],
)
def test_adjust_dates_are_checked(world, stationed, on):
    with pytest.raises(ValidationError):
        services.membership_adjust(
            actor=world.users["county"],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=on,
            decision="x",
        )
    assert Membership.objects.count() == 1
    assert not Team.objects.filter(village=world.other_village).exists()


def test_adjust_needs_a_decision(world, stationed):
    with pytest.raises(ValidationError) as info:
        services.membership_adjust(
            actor=world.users["county"],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=ON,
            decision="  ",
        )
    assert "decision" in info.value.message_dict


def test_township_cannot_adjust_into_another_township(world, stationed):
    with pytest.raises(PermissionDenied):
        services.membership_adjust(
            actor=world.users["township"],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=ON,
            decision="x",
        )
    assert Membership.objects.get(pk=stationed.pk).end_date is None


@pytest.mark.parametrize("key", ["other_township", "far_county"])
def test_adjust_outside_scope_is_refused(world, stationed, key):
    with pytest.raises(PermissionDenied):
        services.membership_adjust(
            actor=world.users[key],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=ON,
            decision="x",
        )


@pytest.mark.parametrize("key", ["leader", "unit", "inspector", "cadre"])
def test_roles_without_the_permission_cannot_adjust(world, stationed, key):
    with pytest.raises(PermissionDenied):
        services.membership_recall(
            actor=world.users[key], membership=stationed, on=ON, decision="x"
        )


def test_an_ended_membership_cannot_be_adjusted(world, stationed):
    services.membership_end(actor=world.users["county"], membership=stationed, on=ON)
    with pytest.raises(ValidationError):
        services.membership_adjust(
            actor=world.users["county"],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=ON + datetime.timedelta(days=2),
            decision="x",
        )


def test_adjust_is_one_transaction_with_its_audit_rows(world, stationed, monkeypatch):
    calls = []
    original = audit.record

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("audit store down")
        return original(**kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        services.membership_adjust(
            actor=world.users["county"],
            membership=stationed,
            to_team_or_village=world.other_village,
            on=ON,
            decision="x",
        )
    assert Membership.objects.get(pk=stationed.pk).end_date is None
    assert Membership.objects.count() == 1
    assert not Team.objects.filter(village=world.other_village).exists()
    assert not AuditLog.objects.filter(detail__what__startswith="membership").exists()


# --- recall and end ----------------------------------------------------------------


def test_recall_ends_with_the_recalling_decision(world, stationed):
    ended = services.membership_recall(
        actor=world.users["township"], membership=stationed, on=ON, decision="召回决定〔2024〕3号"
    )
    assert ended.end_date == ON  # the recall day is the last day on post
    assert ended.end_reason == EndReason.RECALL
    assert ended.end_decision == "召回决定〔2024〕3号"
    row = _audit("membership_end").get()
    assert row.detail["reason"] == EndReason.RECALL
    assert row.detail["decision"] == "召回决定〔2024〕3号"
    assert row.actor == world.users["township"]


def test_recall_needs_a_decision(world, stationed):
    with pytest.raises(ValidationError):
        services.membership_recall(
            actor=world.users["township"], membership=stationed, on=ON, decision=""
        )
    assert Membership.objects.get(pk=stationed.pk).end_date is None


def test_end_of_rotation_needs_no_decision(world, stationed):
    ended = services.membership_end(actor=world.users["county"], membership=stationed, on=ON)
    assert ended.end_reason == EndReason.ROTATION and ended.end_date == ON
    # the cadre may be stationed again
    station(stationed.cadre, stationed.team, start=ON + datetime.timedelta(days=1))


def test_end_before_start_is_refused(world, stationed):
    with pytest.raises(ValidationError):
        services.membership_end(
            actor=world.users["county"],
            membership=stationed,
            on=START - datetime.timedelta(days=1),
        )


def test_recall_of_another_townships_member_is_refused(world, stationed):
    with pytest.raises(PermissionDenied):
        services.membership_recall(
            actor=world.users["other_township"], membership=stationed, on=ON, decision="x"
        )
    assert Membership.objects.get(pk=stationed.pk).end_date is None
    assert not _audit("membership_end").exists()


# --- pairings ------------------------------------------------------------------------


@pytest.fixture
def paired(world, stationed):
    household = make_household(world.village, "李四")
    return pair(stationed.cadre, household, START)


def test_reassign_ends_the_old_pairing_and_starts_a_new_one(world, paired):
    other = make_cadre(world.unit, "王五")
    station(other, paired.cadre.memberships.get().team)
    new = services.pairing_reassign(
        actor=world.users["township"], household=paired.household, cadre=other, on=ON
    )
    old = Pairing.objects.get(pk=paired.pk)
    assert old.end_date == ON - datetime.timedelta(days=1)
    assert new.cadre == other and new.start_date == ON and new.end_date is None
    assert list(Pairing.objects.current().filter(household=paired.household)) == [new]
    assert _audit("pairing_end").get().object_id == str(old.pk)
    assert _audit("pairing").get().detail["replaces"] == old.pk


def test_reassign_to_the_same_cadre_is_refused(world, paired):
    with pytest.raises(ValidationError):
        services.pairing_reassign(
            actor=world.users["township"], household=paired.household, cadre=paired.cadre, on=ON
        )


def test_reassign_without_a_current_pairing_starts_one(world, stationed):
    household = make_household(world.village, "赵六")
    new = services.pairing_reassign(
        actor=world.users["county"], household=household, cadre=stationed.cadre, on=ON
    )
    assert new.end_date is None and Pairing.objects.count() == 1


def test_reassign_outside_scope_is_refused(world, paired):
    stranger = make_cadre(world.far_unit, "外县干部")
    with pytest.raises(PermissionDenied):
        services.pairing_reassign(
            actor=world.users["county"], household=paired.household, cadre=stranger, on=ON
        )
    with pytest.raises(PermissionDenied):
        services.pairing_reassign(
            actor=world.users["other_township"],
            household=paired.household,
            cadre=paired.cadre,
            on=ON,
        )
    assert Pairing.objects.get(pk=paired.pk).end_date is None


def test_one_current_pairing_per_household_is_enforced_by_the_database(world, paired):
    other = make_cadre(world.unit, "王五")
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(cadre=other, household=paired.household, start_date=ON)


# --- corrections ---------------------------------------------------------------------


def test_cadre_update_recomputes_pinyin_and_is_audited(world, stationed):
    cadre = stationed.cadre
    cadre.name = "李明"
    cadre.post = "科长"
    services.cadre_update(actor=world.users["township"], cadre=cadre, changed=["name", "post"])
    cadre.refresh_from_db()
    assert (cadre.name_pinyin, cadre.name_initials) == ("liming", "lm")
    row = _audit("cadre").get()
    assert row.detail["fields"] == ["name", "post"]


def test_cadre_update_refuses_other_fields_and_other_scopes(world, stationed):
    with pytest.raises(PermissionDenied):
        services.cadre_update(
            actor=world.users["township"], cadre=stationed.cadre, changed=["id_number_enc"]
        )
    with pytest.raises(PermissionDenied):
        services.cadre_update(
            actor=world.users["other_township"], cadre=stationed.cadre, changed=["post"]
        )
    with pytest.raises(PermissionDenied):
        services.cadre_update(actor=world.users["leader"], cadre=stationed.cadre, changed=["post"])


def test_household_update_is_audited(world, paired):
    household = paired.household
    household.size = 5
    services.household_update(actor=world.users["township"], household=household, changed=["size"])
    household.refresh_from_db()
    assert household.size == 5
    assert AuditLog.objects.filter(
        action=AuditAction.OBJECT_CHANGE, detail__what="household"
    ).exists()
