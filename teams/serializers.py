"""Serializers of the teams API: query parameters in, figures out."""

from __future__ import annotations

from rest_framework import serializers

from .choices import HouseholdType


class DayQuerySerializer(serializers.Serializer):
    """?date=YYYY-MM-DD (today in Asia/Shanghai when absent)."""

    date = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])


class TeamStructureSerializer(serializers.Serializer):
    teams = serializers.IntegerField()
    members = serializers.IntegerField()
    average_age = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    college_or_above = serializers.IntegerField()
    postgraduates = serializers.IntegerField()
    doctorates = serializers.IntegerField()
    party_members = serializers.IntegerField()
    deputy_section_or_above = serializers.IntegerField()
    agri_majors = serializers.IntegerField()
    rural_experience = serializers.IntegerField()
    prior_poverty_service = serializers.IntegerField()


# Keyed by the four household types of the rosters (脱贫户, 未脱贫户, 监测户,
# 一般户), always all present; the keys are not identifiers, hence type().
HouseholdsByTypeSerializer = type(
    "HouseholdsByTypeSerializer",
    (serializers.Serializer,),
    {t: serializers.IntegerField() for t in HouseholdType.values},
)


class OverviewSerializer(serializers.Serializer):
    villages = serializers.IntegerField()
    teams = serializers.IntegerField()
    members = serializers.IntegerField()
    units = serializers.IntegerField()
    pairing_cadres = serializers.IntegerField()
    households = serializers.IntegerField()
    households_by_type = HouseholdsByTypeSerializer()
