"""Where stores are and how far: coordinates as integer micro-degrees (what the tables store and
index), the bounding box that a radius search reads through the (lat_e6, lon_e6) index, and the
exact great-circle distance that sorts and filters what the box returned.

The box is exact, not a rule of thumb (J. P. Matuschek, "Finding Points Within a Distance of a
Latitude/Longitude Using Bounding Coordinates"): latitudes within r/R radians of the origin, and
longitudes within asin(sin(r/R) / cos(lat)); a box that reaches a pole takes every longitude, one
that crosses the antimeridian is two longitude ranges. Its edges are rounded outwards, so no store
within the radius is ever left out; the distance then drops the corners.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)
E6 = 1_000_000
LAT_LIMIT_E6 = 90 * E6
LON_LIMIT_E6 = 180 * E6
MIN_RADIUS_M = 1
MAX_RADIUS_M = 50_000


def to_e6(degrees: float) -> int:
    """Degrees as micro-degrees (about 0.11 m of latitude), rounded to the nearest."""
    return round(degrees * E6)


def from_e6(micro: int) -> float:
    return micro / E6


def distance_m(lat1_e6: int, lon1_e6: int, lat2_e6: int, lon2_e6: int) -> float:
    """Great-circle distance in metres (haversine)."""
    phi1, phi2 = math.radians(lat1_e6 / E6), math.radians(lat2_e6 / E6)
    dphi = phi2 - phi1
    dlambda = math.radians((lon2_e6 - lon1_e6) / E6)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Box:
    """Latitudes lat_min..lat_max and longitudes in any of `lon_ranges` (inclusive, micro-degrees)."""

    lat_min: int
    lat_max: int
    lon_ranges: tuple[tuple[int, int], ...]


def bounding_box(lat_e6: int, lon_e6: int, radius_m: float) -> Box:
    """Every point within `radius_m` of the origin is inside the box (edges rounded outwards)."""
    angle = radius_m / EARTH_RADIUS_M  # radians of arc
    lat = math.radians(lat_e6 / E6)
    lat_min, lat_max = lat - angle, lat + angle
    low, high = math.floor(math.degrees(lat_min) * E6), math.ceil(math.degrees(lat_max) * E6)
    if lat_max >= math.pi / 2 or lat_min <= -math.pi / 2:  # a pole is inside: every longitude
        return Box(max(low, -LAT_LIMIT_E6), min(high, LAT_LIMIT_E6), ((-LON_LIMIT_E6, LON_LIMIT_E6),))
    spread = math.degrees(math.asin(math.sin(angle) / math.cos(lat))) * E6
    west, east = math.floor(lon_e6 - spread), math.ceil(lon_e6 + spread)
    if west < -LON_LIMIT_E6:  # across the antimeridian, westwards
        ranges = ((-LON_LIMIT_E6, east), (west + 2 * LON_LIMIT_E6, LON_LIMIT_E6))
    elif east > LON_LIMIT_E6:
        ranges = ((west, LON_LIMIT_E6), (-LON_LIMIT_E6, east - 2 * LON_LIMIT_E6))
    else:
        ranges = ((west, east),)
    return Box(low, high, ranges)


def nearest(origin: tuple[int, int], points: Iterable[tuple[int, int, int]],
            radius_m: float | None = None) -> list[tuple[int, float]]:
    """`points` are (id, lat_e6, lon_e6): those within `radius_m` (all when None) as (id, metres),
    nearest first, ties by id."""
    found = [(point_id, distance_m(origin[0], origin[1], lat, lon)) for point_id, lat, lon in points]
    if radius_m is not None:
        found = [(point_id, metres) for point_id, metres in found if metres <= radius_m]
    return sorted(found, key=lambda item: (item[1], item[0]))
