"""Deterministic, spatially continuous synthetic fields for the built-in catalog.

Values are smooth functions of position built from value noise: pseudo-random values hashed from
integer lattice coordinates (splitmix64), interpolated with a smoothstep. Only integer hashing and
the four basic float operations are used, element-wise, so a pixel's value depends on nothing but
its own coordinates: neighbouring tiles join seamlessly, a region computed whole or in quarters
gives identical values, and the same request gives the same bytes on every machine.

Fields:
- :func:`elevation` (metres) of longitude/latitude: real coastlines and lakes (:mod:`.geography`),
  synthetic relief (coastal plains, continental interiors higher, mountain massifs), sea floor
  below 0 deepening away from the coasts.
- :func:`landcover` (ESA WorldCover-like codes 10…100) of longitude/latitude: water where the
  elevation is ≤ 0, drier in the subtropical belts and continental interiors, cold classes by
  latitude and altitude.
- :func:`cloud_density` (0…1) of UTM coordinates, per zone and acquisition date.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence, Tuple

import numpy as np

_C1 = np.uint64(0x9E3779B97F4A7C15)
_C2 = np.uint64(0xC2B2AE3D27D4EB4F)
_C3 = np.uint64(0x165667B19E3779F9)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV53 = float(2.0 ** -53)


def hash01(ix: np.ndarray, iy: np.ndarray, seed: int) -> np.ndarray:
    """A uniform pseudo-random value in [0, 1) for each integer lattice point (broadcasting)."""
    s = np.uint64(seed & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        h = (np.asarray(ix, dtype=np.int64).astype(np.uint64) * _C1) ^ \
            (np.asarray(iy, dtype=np.int64).astype(np.uint64) * _C2) ^ \
            (s * _C3)
        h = h ^ (h >> _S30)
        h = h * _M1
        h = h ^ (h >> _S27)
        h = h * _M2
        h = h ^ (h >> _S31)
    return (h >> _S11).astype(np.float64) * _INV53


def _lattice(ix: np.ndarray, iy: np.ndarray, seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hashes at the four corners of each cell. Through a small lattice table when the points are
    dense (a tile), straight at the points when they are sparse (a coarse view of a large area):
    the values are identical either way."""
    ix0, ix1 = int(ix.min()), int(ix.max()) + 1
    iy0, iy1 = int(iy.min()), int(iy.max()) + 1
    n_points = int(np.broadcast(ix, iy).size)
    n_table = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
    if n_table <= 4 * n_points + 4096:
        table = hash01(np.arange(ix0, ix1 + 1)[None, :], np.arange(iy0, iy1 + 1)[:, None], seed).ravel()
        stride = ix1 - ix0 + 1
        flat = (iy - iy0) * stride + (ix - ix0)
        return (np.take(table, flat), np.take(table, flat + 1), np.take(table, flat + stride),
                np.take(table, flat + stride + 1))
    return hash01(ix, iy, seed), hash01(ix + 1, iy, seed), hash01(ix, iy + 1, seed), hash01(ix + 1, iy + 1, seed)


def value_noise(x: np.ndarray, y: np.ndarray, cell: float, seed: int) -> np.ndarray:
    """Smooth noise in [0, 1) with features about ``cell`` units across (broadcasting x, y).

    A row vector ``x`` (1, w) with a column vector ``y`` (h, 1) takes a separable fast path that
    performs exactly the same floating-point operations per pixel as the general path.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    gx = x / cell
    gy = y / cell
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    fx = gx - fx0
    fy = gy - fy0
    ix = fx0.astype(np.int64)
    iy = fy0.astype(np.int64)
    sx = fx * fx * (3.0 - 2.0 * fx)
    sy = fy * fy * (3.0 - 2.0 * fy)
    if x.ndim == 2 and y.ndim == 2 and x.shape[0] == 1 and y.shape[1] == 1:
        h, w = y.shape[0], x.shape[1]
        ix0, ix1 = int(ix.min()), int(ix.max()) + 1
        iy0, iy1 = int(iy.min()), int(iy.max()) + 1
        if (ix1 - ix0 + 1) * (iy1 - iy0 + 1) <= 4 * h * w + 4096:
            table = hash01(np.arange(ix0, ix1 + 1)[None, :], np.arange(iy0, iy1 + 1)[:, None], seed)
            jx = ix[0] - ix0
            left = table[:, jx]
            rows = left + sx[0] * (table[:, jx + 1] - left)  # (ny, w): interpolated along x
            jy = iy[:, 0] - iy0
            top = rows[jy]
            bottom = rows[jy + 1]
            return top + sy * (bottom - top)
    v00, v10, v01, v11 = _lattice(ix, iy, seed)
    top = v00 + sx * (v10 - v00)
    bottom = v01 + sx * (v11 - v01)
    return top + sy * (bottom - top)


def fbm(x: np.ndarray, y: np.ndarray, cells: Sequence[float], weights: Sequence[float], seed: int) -> np.ndarray:
    """Weighted sum of octaves of value noise, normalised to [0, 1)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim == 2 and y.ndim == 2 and x.shape[0] == 1 and y.shape[1] == 1:
        # Separable (a tile): accumulate in place, the same operations as value_noise.
        total = np.zeros((y.shape[0], x.shape[1]))
        for k, (cell, weight) in enumerate(zip(cells, weights)):
            _accumulate_separable(total, x, y, cell, seed * 1000003 + k * 7919, weight)
        total /= float(sum(weights))
        return total
    total = None
    for k, (cell, weight) in enumerate(zip(cells, weights)):
        layer = value_noise(x, y, cell, seed * 1000003 + k * 7919) * weight
        total = layer if total is None else total + layer
    return total / float(sum(weights))


def _accumulate_separable(total: np.ndarray, x: np.ndarray, y: np.ndarray, cell: float, seed: int,
                          weight: float) -> None:
    """``total += value_noise(x, y, cell, seed) * weight`` for a row ``x`` and a column ``y``,
    bit for bit, with fewer temporary arrays."""
    gx = x / cell
    gy = y / cell
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    fx = gx - fx0
    fy = gy - fy0
    ix = fx0.astype(np.int64)
    iy = fy0.astype(np.int64)
    h, w = total.shape
    ix0, ix1 = int(ix.min()), int(ix.max()) + 1
    iy0, iy1 = int(iy.min()), int(iy.max()) + 1
    if (ix1 - ix0 + 1) * (iy1 - iy0 + 1) > 4 * h * w + 4096:
        total += value_noise(x, y, cell, seed) * weight
        return
    sx = fx * fx * (3.0 - 2.0 * fx)
    sy = fy * fy * (3.0 - 2.0 * fy)
    table = hash01(np.arange(ix0, ix1 + 1)[None, :], np.arange(iy0, iy1 + 1)[:, None], seed)
    jx = ix[0] - ix0
    left = table[:, jx]
    rows = left + sx[0] * (table[:, jx + 1] - left)  # (ny, w): interpolated along x
    steps = rows[1:] - rows[:-1]  # bottom - top, per lattice row
    jy = iy[:, 0] - iy0
    layer = rows[jy]
    delta = steps[jy]
    delta *= sy
    layer += delta
    layer *= weight
    total += layer


# ----------------------------------------------------------------------------- terrain
#
# Land and water are real (:mod:`.geography`: GSHHG coastlines and lakes, 1/60° land shares);
# relief, climate and land cover are synthetic. Every field is the sum of a *broad* part (features
# of ~200 m and more, from the coastlines and from octaves of noise) and a *detail* part: noise at
# DETAIL_CELL (class boundaries, coasts) and RIDGE_CELL (relief only). The assets evaluate the
# broad part on control points ~100 m apart and interpolate it (:mod:`.lattice`), the detail at
# every pixel; :func:`elevation` and :func:`landcover` evaluate both exactly at given points.

DETAIL_CELL = 0.002   # degrees, ~200 m
RIDGE_CELL = 0.0007   # degrees, ~75 m
DETAIL_SEED = 71
RIDGE_SEED = 73
_COAST_CELLS = (0.02, 0.006)
_COAST_WEIGHTS = (1.0, 0.5)
_RELIEF_CELLS = (2.0, 0.6, 0.2, 0.06, 0.02, 0.006)
_RELIEF_WEIGHTS = (1.0, 0.6, 0.4, 0.25, 0.15, 0.08)
_RELIEF_DETAIL_WEIGHT = 0.05
_RELIEF_RIDGE_WEIGHT = 0.03
_RELIEF_TOTAL = sum(_RELIEF_WEIGHTS) + _RELIEF_DETAIL_WEIGHT + _RELIEF_RIDGE_WEIGHT
_SHORE_DETAIL = 0.12
MAX_ELEVATION = 4800.0
TERRAIN_FIELDS = ("shore", "relief", "mountains", "inland", "ocean")


def _geography():
    from eeextract_plugin.sandbox.imagery import geography

    return geography


def broad_terrain(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The broad terrain fields (TERRAIN_FIELDS stacked on a first axis) at points."""
    geo = _geography()
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    coast = fbm(lon, lat, _COAST_CELLS, _COAST_WEIGHTS, 61)
    shore = geo.land_fraction(lon, lat) - 0.5 + 0.25 * (coast - 0.5)
    relief = fbm(lon, lat, _RELIEF_CELLS, _RELIEF_WEIGHTS, 23) * float(sum(_RELIEF_WEIGHTS))
    inland = geo.inland(lon, lat)
    massif = fbm(lon, lat, (9.0, 3.5, 1.2), (1.0, 0.5, 0.25), 29)
    mountains = np.clip((massif - 0.56) / 0.12, 0.0, 1.0)
    mountains = mountains * mountains * (0.35 + 0.65 * inland)
    return np.stack([shore, relief, mountains, inland, geo.open_ocean(lon, lat)])


def shore_at(shore_broad: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """> 0 on land, ≤ 0 on water (seas and lakes)."""
    return shore_broad + _SHORE_DETAIL * (detail - 0.5)


def elevation_at(broad: np.ndarray, detail: np.ndarray, ridge: np.ndarray) -> np.ndarray:
    """Elevation (metres, float64) from the broad terrain fields and the detail noises: > 0
    exactly on land, 1…MAX_ELEVATION; ≤ -1 on water, down to about -5000 in the open ocean."""
    shore_b, relief_b, mountains, inland, ocean = broad
    shore = shore_at(shore_b, detail)
    relief = (relief_b + _RELIEF_DETAIL_WEIGHT * detail + _RELIEF_RIDGE_WEIGHT * ridge) * (1.0 / _RELIEF_TOTAL)
    crest = 1.0 - np.abs(2.0 * relief - 1.0)
    rise = np.clip(shore * (1.0 / 0.15), 0.0, 1.0)
    height = 2.0 + rise * (15.0 + 300.0 * inland + 150.0 * relief + mountains * (600.0 + 3600.0 * crest * crest))
    height = np.minimum(height, MAX_ELEVATION)
    depth = -(2.0 + 80.0 * np.clip(shore * (-1.0 / 0.3), 0.0, 1.0) + 4800.0 * ocean * (0.8 + 0.4 * relief))
    return np.where(shore > 0.0, height, np.minimum(depth, -1.0))


def detail_noise(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return value_noise(lon, lat, DETAIL_CELL, DETAIL_SEED)


def ridge_noise(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return value_noise(lon, lat, RIDGE_CELL, RIDGE_SEED)


def elevation(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Terrain height in metres (float64) at points, every part evaluated exactly."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return elevation_at(broad_terrain(lon, lat), detail_noise(lon, lat), ridge_noise(lon, lat))


def is_land(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True on land (real coastlines and lakes, with synthetic detail below ~2 km)."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    geo = _geography()
    coast = fbm(lon, lat, _COAST_CELLS, _COAST_WEIGHTS, 61)
    shore = geo.land_fraction(lon, lat) - 0.5 + 0.25 * (coast - 0.5)
    return shore_at(shore, detail_noise(lon, lat)) > 0.0


# ----------------------------------------------------------------------------- land cover

TREE, SHRUB, GRASS, CROP, BUILT, BARE, SNOW, WATER, WETLAND, MOSS = 10, 20, 30, 40, 50, 60, 70, 80, 90, 100
LANDCOVER_CLASSES = {
    TREE: "Tree cover", SHRUB: "Shrubland", GRASS: "Grassland", CROP: "Cropland", BUILT: "Built-up",
    BARE: "Bare / sparse vegetation", SNOW: "Snow and ice", WATER: "Permanent water bodies",
    WETLAND: "Herbaceous wetland", MOSS: "Moss and lichen",
}
_MOISTURE_CELLS = (3.0, 0.5, 0.08, 0.012)
_MOISTURE_WEIGHTS = (1.0, 0.7, 0.45, 0.3)
_MOISTURE_DETAIL = 0.15
_MOISTURE_TOTAL = sum(_MOISTURE_WEIGHTS) + _MOISTURE_DETAIL
COVER_FIELDS = ("shore", "moisture", "urban", "lakes", "elevation")


def broad_cover(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The broad land-cover fields (COVER_FIELDS stacked on a first axis) at points."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    terrain = broad_terrain(lon, lat)
    half = np.full(lon.shape, 0.5)
    elev = elevation_at(terrain, half, half)
    inland = terrain[3]
    lat_abs = np.abs(lat)
    # Drier in the subtropical belts and inside continents.
    belt = (lat_abs - 24.0) * (1.0 / 10.0)
    belt = belt * belt
    arid = 1.0 / (1.0 + belt * belt) * (0.4 + 0.6 * inland)
    moisture = fbm(lon, lat, _MOISTURE_CELLS, _MOISTURE_WEIGHTS, 34) * float(sum(_MOISTURE_WEIGHTS))
    moisture = moisture - (0.13 * arid + 0.03 * inland) * _MOISTURE_TOTAL
    urban = fbm(lon, lat, (0.05, 0.008), (1.0, 0.4), 37)
    lakes = fbm(lon, lat, (0.04, 0.006), (1.0, 0.4), 41) - 0.2 * arid  # few lakes in deserts
    return np.stack([terrain[0], moisture, urban, lakes, elev])


def landcover_at(broad: np.ndarray, detail: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """WorldCover-like class codes (uint8) from the broad land-cover fields, the detail noise and
    the latitude."""
    shore_b, moisture_b, urban, lakes, elev = broad
    warmth = 1.0 - np.abs(lat) * (1.0 / 72.0) - np.maximum(elev, 0.0) * (1.0 / 4500.0)
    m = (moisture_b + _MOISTURE_DETAIL * detail) * (1.0 / _MOISTURE_TOTAL)
    out = np.full(m.shape, TREE, dtype=np.uint8)
    out[m < 0.52] = CROP
    out[m < 0.46] = GRASS
    out[m < 0.41] = SHRUB
    out[m < 0.36] = BARE
    out[m >= 0.66] = WETLAND
    edge = 0.1 * (detail - 0.5)  # ragged edges for towns and lakes too
    out[urban + edge > 0.8] = BUILT
    out[warmth < 0.0] = MOSS
    out[(warmth < -0.12) | (elev > 3400.0)] = SNOW
    out[(shore_at(shore_b, detail) <= 0.0) | (lakes - edge > 0.8)] = WATER
    return out


def landcover(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Class codes (uint8) at points, every part evaluated exactly; consistent with
    :func:`elevation`: water exactly where the elevation is ≤ 0 (and in small synthetic lakes)."""
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return landcover_at(broad_cover(lon, lat), detail_noise(lon, lat), lat)


# ----------------------------------------------------------------------------- Sentinel-2

S2_BANDS = ("B2", "B3", "B4", "B8", "B11")
# Surface reflectance × 10000 of each class in B2, B3, B4, B8, B11.
_SURFACE = {
    TREE: (250, 450, 260, 3200, 1500),
    SHRUB: (450, 650, 650, 2400, 2200),
    GRASS: (400, 700, 580, 2900, 2000),
    CROP: (450, 750, 560, 3600, 2000),
    BUILT: (1100, 1150, 1200, 1700, 2100),
    BARE: (1200, 1500, 1800, 2300, 3000),
    SNOW: (8000, 8000, 7800, 7000, 600),
    WATER: (500, 450, 250, 150, 60),
    WETLAND: (350, 500, 400, 1800, 900),
    MOSS: (600, 800, 900, 1800, 1800),
}
_CLOUD = (7200, 7000, 6900, 7100, 4200)
_LUT = np.zeros((len(S2_BANDS), 256), dtype=np.float64)
for _code, _refl in _SURFACE.items():
    _LUT[:, _code] = _refl


def surface_texture(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Brightness variation within a land cover patch (0.75…1.25), in UTM metres."""
    return value_noise(x, y, 40.0, 53) * 0.3 + value_noise(x, y, 180.0, 59) * 0.2 + 0.75


@lru_cache(maxsize=4096)
def reflectance_lut(band_index: int, season: float) -> np.ndarray:
    """Clear-sky reflectance × 10000 of each class code (float32, 256 entries) before texture:
    the class signature, with vegetation's NIR greener and cropland's red lower in season
    (``season`` 0…1 greenness)."""
    lut = _LUT[band_index].copy()
    if S2_BANDS[band_index] == "B8":
        for code in (TREE, SHRUB, GRASS, CROP, WETLAND):
            lut[code] *= 0.65 + 0.35 * season
    if S2_BANDS[band_index] == "B4":
        lut[CROP] *= 1.6 - 0.6 * season
    return lut.astype(np.float32)


def surface_reflectance(band_index: int, classes: np.ndarray, texture: np.ndarray,
                        season: float) -> np.ndarray:
    """Reflectance × 10000 of a clear-sky pixel: class signature, texture, season (0…1 greenness)."""
    return reflectance_lut(band_index, float(season))[classes] * texture


def cloud_density(x: np.ndarray, y: np.ndarray, cover: float, seed: int) -> np.ndarray:
    """0 (clear) … 1 (opaque cloud), about ``cover`` of the area above 0.25."""
    n = fbm(x, y, (25000.0, 8000.0, 2500.0, 700.0, 200.0), (1.0, 0.6, 0.4, 0.25, 0.12), seed)
    # n is roughly N(0.5, 0.1): threshold so that about `cover` of it is cloudy.
    threshold = 0.5 + 0.13 * _normal_quantile(1.0 - cover) if 0.0 < cover < 1.0 else (2.0 if cover <= 0 else -1.0)
    return np.clip((n - threshold) / 0.06 + 0.25, 0.0, 1.0) * (n > threshold - 0.015)


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's approximation; plenty for thresholds)."""
    import math

    p = min(max(p, 1e-9), 1 - 1e-9)
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -_normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


def cloudy_reflectance(band_index: int, surface: np.ndarray, density: np.ndarray) -> np.ndarray:
    if not density.any():
        return surface
    return surface * (1.0 - density) + np.float32(_CLOUD[band_index]) * density
