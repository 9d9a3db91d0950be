"""Coordinates: great-circle distance and the GCJ-02 ⇄ WGS-84 transform.

Browsers and phones' GPS report WGS-84. Chinese map apps (Amap/Gaode, Tencent,
Google's China tiles) show and copy GCJ-02 ("Mars coordinates"), which is
WGS-84 shifted by a published, non-invertible formula of a few hundred metres.
Village points are stored in WGS-84; a point read off a Chinese map app is
converted with :func:`gcj02_to_wgs84` first.

Pure functions of floats, no Django: the formulas are the widely published
ones (Krasovsky 1940 ellipsoid constants), tested against known points.
"""

from __future__ import annotations

import math

# Mean Earth radius (IUGG), metres: the usual radius for haversine distances.
EARTH_RADIUS_M = 6_371_008.8

# GCJ-02 constants: the Krasovsky 1940 ellipsoid.
_KRASOVSKY_A = 6_378_245.0
_KRASOVSKY_EE = 0.00669342162296594323

# The inverse transform iterates until the next step moves less than this.
INVERSE_TOLERANCE_M = 0.01
_INVERSE_MAX_STEPS = 30


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance between two points, in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def in_china(lat: float, lng: float) -> bool:
    """The bounding box within which GCJ-02 differs from WGS-84.

    This is the box every published implementation uses (it is what map apps
    do); it is not the border, and points between the box and the border are
    shifted too, which is what the apps do as well."""
    return 0.8293 <= lat <= 55.8271 and 72.004 <= lng <= 137.8347


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """The GCJ-02 shift (degrees of latitude, degrees of longitude) at a WGS-84 point."""
    x, y = lng - 105.0, lat - 35.0
    sq = math.sqrt(abs(x))
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    wave = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d_lat += wave
    d_lng += wave
    d_lat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d_lng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d_lat += (
        (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    d_lng += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = math.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    d_lng = (d_lng * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return d_lat, d_lng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    """A WGS-84 point as a Chinese map app shows it; unchanged outside China."""
    if not in_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _offset(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point that a map app shows at (lat, lng) in GCJ-02.

    The forward transform has no closed-form inverse; this solves
    wgs84_to_gcj02(w) = g by fixed-point iteration (the shift changes slowly,
    so each step gains several digits) until a step moves the point less than
    1 cm (INVERSE_TOLERANCE_M); three or four steps in practice."""
    if not in_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(_INVERSE_MAX_STEPS):
        g_lat, g_lng = wgs84_to_gcj02(w_lat, w_lng)
        n_lat, n_lng = w_lat - (g_lat - lat), w_lng - (g_lng - lng)
        step = haversine_m(w_lat, w_lng, n_lat, n_lng)
        w_lat, w_lng = n_lat, n_lng
        if step < INVERSE_TOLERANCE_M / 10:
            break
    return w_lat, w_lng
