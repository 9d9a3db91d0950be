"""Distances and the GCJ-02 ⇄ WGS-84 transform, against known points."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attendance import geo

# (WGS-84 lat, lng, GCJ-02 lat, lng): the published test points of the
# transform (googollee/eviltransform's test suite).
KNOWN = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def test_one_degree_along_a_meridian():
    # 2πR / 360 with the mean radius 6,371,008.8 m
    assert geo.haversine_m(0, 0, 1, 0) == pytest.approx(2 * math.pi * 6_371_008.8 / 360, abs=0.01)
    assert geo.haversine_m(0, 0, 0, 1) == pytest.approx(111_195.08, abs=0.01)


def test_distance_between_two_known_cities():
    # Beijing (Tiananmen) to Shanghai (People's Square): about 1,067 km great-circle.
    d = geo.haversine_m(39.9087, 116.3975, 31.2304, 121.4737)
    assert d == pytest.approx(1_067_000, rel=0.005)
    # Paris to London, the textbook haversine example: 343.5 km (R = 6371 km).
    assert geo.haversine_m(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343_556, abs=60)


def test_distance_is_symmetric_and_zero_on_the_spot():
    assert geo.haversine_m(43.6, 121.3, 43.6, 121.3) == 0
    a = geo.haversine_m(43.6, 121.3, 43.61, 121.32)
    b = geo.haversine_m(43.61, 121.32, 43.6, 121.3)
    assert a == pytest.approx(b)


def test_small_distances_are_metres():
    # 0.009 degrees of latitude ≈ 1,000.8 m: the edge of the default radius
    assert geo.haversine_m(43.6, 121.3, 43.609, 121.3) == pytest.approx(1000.76, abs=0.05)


@pytest.mark.parametrize(("w_lat", "w_lng", "g_lat", "g_lng"), KNOWN)
def test_wgs84_to_gcj02_matches_known_points(w_lat, w_lng, g_lat, g_lng):
    lat, lng = geo.wgs84_to_gcj02(w_lat, w_lng)
    assert geo.haversine_m(lat, lng, g_lat, g_lng) < 0.001


@pytest.mark.parametrize(("w_lat", "w_lng", "g_lat", "g_lng"), KNOWN)
def test_gcj02_to_wgs84_inverts_known_points_to_a_centimetre(w_lat, w_lng, g_lat, g_lng):
    lat, lng = geo.gcj02_to_wgs84(g_lat, g_lng)
    assert geo.haversine_m(lat, lng, w_lat, w_lng) < geo.INVERSE_TOLERANCE_M


def test_the_shift_is_hundreds_of_metres_in_china():
    # what a village point copied from a Chinese map app would be off by
    lat, lng = 43.6, 121.3
    g_lat, g_lng = geo.wgs84_to_gcj02(lat, lng)
    assert 100 < geo.haversine_m(lat, lng, g_lat, g_lng) < 1000


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(min_value=3.9, max_value=53.5, allow_nan=False),
    lng=st.floats(min_value=73.7, max_value=135.0, allow_nan=False),
)
def test_forth_and_back_anywhere_in_china(lat, lng):
    g_lat, g_lng = geo.wgs84_to_gcj02(lat, lng)
    back_lat, back_lng = geo.gcj02_to_wgs84(g_lat, g_lng)
    assert geo.haversine_m(lat, lng, back_lat, back_lng) < geo.INVERSE_TOLERANCE_M


@pytest.mark.parametrize(
    ("lat", "lng", "inside"),
    [
        (39.9, 116.4, True),  # Beijing
        (43.6, 121.3, True),  # Kailu, Inner Mongolia
        (18.25, 109.5, True),  # Sanya
        (48.8566, 2.3522, False),  # Paris
        (35.68, 139.76, False),  # Tokyo: east of the box
        (-33.87, 151.2, False),  # Sydney
        (60.0, 100.0, False),  # north of the box
    ],
)
def test_in_china(lat, lng, inside):
    assert geo.in_china(lat, lng) is inside


def test_no_shift_outside_china():
    assert geo.wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert geo.gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)
