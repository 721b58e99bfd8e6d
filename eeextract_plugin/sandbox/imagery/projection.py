"""Projections (CRS + affine transform) and the geometry of pixel grids.

Everything here is vectorised numpy; pyproj transformers are cached per thread (a pyproj
``Transformer`` must not be shared between threads).

Earth Engine's affine order is used throughout: (scaleX, shearX, translateX, shearY, scaleY,
translateY), i.e. ``x = scaleX*col + shearX*row + translateX`` for a pixel's corner.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Tuple

import numpy as np
from pyproj import CRS, Transformer

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.raster import Affine6, PixelGrid

WGS84 = "EPSG:4326"
# Metres per degree at the equator on Earth Engine's sphere-ish nominal scale.
METERS_PER_DEGREE = 111319.49079327357

_EPSG_RE = re.compile(r"^\s*epsg\s*:\s*(\d+)\s*$", re.IGNORECASE)


@lru_cache(maxsize=512)
def crs_object(crs: str) -> CRS:
    try:
        return CRS.from_user_input(crs)
    except Exception:  # pyproj raises CRSError, sometimes others
        raise invalid_argument(f"Unknown or invalid CRS: '{crs}'.") from None


@lru_cache(maxsize=512)
def crs_key(crs: str) -> str:
    """A canonical spelling of ``crs``: ``EPSG:n`` when it has an EPSG code, else its WKT."""
    match = _EPSG_RE.match(crs)
    if match:
        return f"EPSG:{int(match.group(1))}"
    obj = crs_object(crs)
    code = obj.to_epsg(min_confidence=90)
    if code is not None:
        return f"EPSG:{code}"
    return obj.to_wkt()


def same_crs(a: str, b: str) -> bool:
    return a == b or crs_key(a) == crs_key(b)


@lru_cache(maxsize=512)
def is_geographic(crs: str) -> bool:
    return bool(crs_object(crs).is_geographic)


@lru_cache(maxsize=512)
def area_of_use(crs: str) -> Optional[Tuple[float, float, float, float]]:
    """(west, south, east, north) in degrees, or None when unknown or global."""
    area = crs_object(crs).area_of_use
    if area is None:
        return None
    bounds = (area.west, area.south, area.east, area.north)
    if bounds[2] - bounds[0] >= 359 and bounds[3] - bounds[1] >= 179:
        return None
    return bounds


_LOCAL = threading.local()


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64


def bytes_lru(max_bytes: int):
    """Like ``functools.lru_cache`` (hashable arguments) but bounded by the bytes of the cached
    arrays; thread-safe. Cached arrays must be treated as read-only."""
    from collections import OrderedDict
    from functools import wraps

    def decorate(function):
        cache: OrderedDict = OrderedDict()
        lock = threading.Lock()
        total = [0]

        @wraps(function)
        def wrapper(*args):
            with lock:
                if args in cache:
                    cache.move_to_end(args)
                    return cache[args][0]
            value = function(*args)
            size = _nbytes(value)
            if size <= max_bytes // 4:
                with lock:
                    if args not in cache:
                        cache[args] = (value, size)
                        total[0] += size
                    while total[0] > max_bytes and cache:
                        _, (_, old) = cache.popitem(last=False)
                        total[0] -= old
            return value

        wrapper.cache_clear = lambda: (cache.clear(), total.__setitem__(0, 0))  # type: ignore[attr-defined]
        return wrapper

    return decorate


def transformer(src: str, dst: str) -> Transformer:
    """A cached (per thread) always-xy transformer from ``src`` to ``dst``."""
    cache = getattr(_LOCAL, "transformers", None)
    if cache is None:
        cache = _LOCAL.transformers = {}
    key = (crs_key(src), crs_key(dst))
    t = cache.get(key)
    if t is None:
        t = Transformer.from_crs(crs_object(src), crs_object(dst), always_xy=True)
        cache[key] = t
    return t


def transform_xy(src: str, dst: str, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Transforms coordinate arrays; points that cannot be transformed come back as NaN/inf."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if same_crs(src, dst):
        return x, y
    x, y = np.broadcast_arrays(x, y)
    with np.errstate(all="ignore"):
        tx, ty = transformer(src, dst).transform(x, y, errcheck=False)
    tx = np.asarray(tx, dtype=np.float64)
    ty = np.asarray(ty, dtype=np.float64)
    bad = ~np.isfinite(tx) | ~np.isfinite(ty) | (np.abs(tx) > 1e30) | (np.abs(ty) > 1e30)
    if bad.any():
        tx = np.where(bad, np.nan, tx)
        ty = np.where(bad, np.nan, ty)
    return tx, ty


@dataclass(frozen=True)
class Projection:
    """Earth Engine's Projection: a CRS and an affine transform (pixel → CRS units)."""

    crs: str
    transform: Affine6 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)

    @classmethod
    def wgs84_degrees(cls) -> Projection:
        """The default projection of computed images without one (EE: WGS84, 1 degree)."""
        return cls(WGS84, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0))

    def to_info(self) -> dict:
        info = {"type": "Projection", "crs": self.crs, "transform": [float(v) for v in self.transform]}
        if not _EPSG_RE.match(self.crs):
            info = {"type": "Projection", "wkt": self.crs, "transform": info["transform"]}
        return info

    @property
    def is_geographic(self) -> bool:
        return is_geographic(self.crs)

    def units_per_meter(self) -> float:
        return 1.0 / METERS_PER_DEGREE if self.is_geographic else 1.0

    def nominal_scale(self) -> float:
        """Metres per pixel (EE's nominalScale): the length of a pixel's x side."""
        sx, hx, _, hy, _, _ = self.transform
        return math.hypot(sx, hy) / self.units_per_meter()

    def at_scale(self, meters: float) -> Projection:
        """Same CRS, pixels of ``meters`` (keeps the orientation of the transform)."""
        meters = float(meters)
        if meters <= 0:
            raise invalid_argument("Projection.atScale: scale must be positive.")
        factor = meters / self.nominal_scale() if self.nominal_scale() else 0.0
        sx, hx, tx, hy, sy, ty = self.transform
        if factor == 0.0:
            u = meters * self.units_per_meter()
            return Projection(self.crs, (u, 0.0, 0.0, 0.0, -u, 0.0))
        return Projection(self.crs, (sx * factor, hx * factor, tx, hy * factor, sy * factor, ty))

    def with_transform(self, transform: Affine6) -> Projection:
        return Projection(self.crs, tuple(float(v) for v in transform))  # type: ignore[arg-type]

    def grid(self, col_off: int, row_off: int, width: int, height: int) -> PixelGrid:
        """The window of this projection's pixel lattice at (col_off, row_off)."""
        return PixelGrid(self.crs, self.transform, width, height).window(col_off, row_off, width, height)

    def pixel_shape_to_crs(self, shape):
        """A shapely geometry given in this projection's pixel coordinates (what
        ``ee.Geometry.Rectangle([0, 0, w, h], proj=image.projection())`` means) → CRS units."""
        import shapely

        if self.transform == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0):
            return shape

        def apply(coords: np.ndarray) -> np.ndarray:
            x, y = affine_apply(self.transform, coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(shape, apply)

    def to_pixel(self, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """CRS coordinates → fractional (col, row)."""
        return affine_inverse_apply(self.transform, x, y)

    def from_pixel(self, col: np.ndarray, row: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        return affine_apply(self.transform, col, row)


def affine_apply(t: Affine6, col, row):
    sx, hx, tx, hy, sy, ty = t
    col = np.asarray(col, dtype=np.float64)
    row = np.asarray(row, dtype=np.float64)
    if hx == 0.0 and hy == 0.0:
        return tx + sx * col, ty + sy * row
    return tx + sx * col + hx * row, ty + hy * col + sy * row


def affine_inverse_apply(t: Affine6, x, y):
    sx, hx, tx, hy, sy, ty = t
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if hx == 0.0 and hy == 0.0:
        return (x - tx) / sx, (y - ty) / sy
    det = sx * sy - hx * hy
    if det == 0:
        raise invalid_argument("Singular affine transform.")
    dx = x - tx
    dy = y - ty
    return (sy * dx - hx * dy) / det, (-hy * dx + sx * dy) / det


def grid_centres(grid: PixelGrid) -> Tuple[np.ndarray, np.ndarray]:
    """CRS coordinates of the pixel centres. For an unsheared grid the arrays are broadcastable
    1-D shapes ``(1, w)`` and ``(h, 1)``; otherwise full ``(h, w)`` arrays."""
    sx, hx, tx, hy, sy, ty = grid.transform
    cols = np.arange(grid.width, dtype=np.float64) + 0.5
    rows = np.arange(grid.height, dtype=np.float64) + 0.5
    if hx == 0.0 and hy == 0.0:
        return (tx + sx * cols)[None, :], (ty + sy * rows)[:, None]
    c, r = np.meshgrid(cols, rows)
    return tx + sx * c + hx * r, ty + hy * c + sy * r


def _is_integer(v: float, tol: float = 1e-6) -> bool:
    return abs(v - round(v)) <= tol


def aligned_offset(grid: PixelGrid, native: Projection) -> Optional[Tuple[int, int]]:
    """(col_off, row_off) of ``grid`` inside ``native``'s pixel lattice when the grid is the same
    CRS, the same pixel size and an integer number of pixels away; else None."""
    gsx, ghx, gtx, ghy, gsy, gty = grid.transform
    nsx, nhx, ntx, nhy, nsy, nty = native.transform
    if ghx != 0.0 or ghy != 0.0 or nhx != 0.0 or nhy != 0.0:
        return None
    if not (math.isclose(gsx, nsx, rel_tol=1e-9) and math.isclose(gsy, nsy, rel_tol=1e-9)):
        return None
    if not same_crs(grid.crs, native.crs):
        return None
    col = (gtx - ntx) / nsx
    row = (gty - nty) / nsy
    if not (_is_integer(col) and _is_integer(row)):
        return None
    return int(round(col)), int(round(row))


@bytes_lru(64 * 1024 * 1024)
def grid_lonlat(grid: PixelGrid) -> Tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude of the grid's pixel centres (broadcastable shapes; NaN if undefined)."""
    x, y = grid_centres(grid)
    if is_geographic(grid.crs) and same_crs(grid.crs, WGS84):
        return x, y
    lon, lat = transform_xy(grid.crs, WGS84, *np.broadcast_arrays(x, y))
    lon.setflags(write=False)
    lat.setflags(write=False)
    return lon, lat


@lru_cache(maxsize=256)
def grid_bounds_4326(grid: PixelGrid) -> Optional[Tuple[float, float, float, float]]:
    """Bounding box (lon/lat) of the grid, from its densified border; None if undefined."""
    n = 16
    w, h = grid.width, grid.height
    t = np.linspace(0.0, 1.0, n + 1)
    cols = np.concatenate([t * w, np.full(n + 1, w), t[::-1] * w, np.zeros(n + 1)])
    rows = np.concatenate([np.zeros(n + 1), t * h, np.full(n + 1, h), t[::-1] * h])
    x, y = affine_apply(grid.transform, cols, rows)
    lon, lat = transform_xy(grid.crs, WGS84, x, y)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    lon, lat = lon[ok], lat[ok]
    if not ok.all():
        return (-180.0, -90.0, 180.0, 90.0)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


@bytes_lru(192 * 1024 * 1024)
def native_indices(grid: PixelGrid, native: Projection):
    """Nearest-neighbour native pixel indices of each output pixel centre.

    Returns ``(cols, rows, valid)``: int64 arrays broadcastable to (h, w) and a boolean array (or
    None when every index is valid). The arrays are read-only (they are cached).
    """
    x, y = grid_centres(grid)
    if same_crs(grid.crs, native.crs):
        fc, fr = native.to_pixel(x, y)
        valid = None
    else:
        xb, yb = np.broadcast_arrays(x, y)
        nx, ny = transform_xy(grid.crs, native.crs, xb, yb)
        fc, fr = native.to_pixel(nx, ny)
        valid = np.isfinite(fc) & np.isfinite(fr)
        aou = area_of_use(native.crs)
        if aou is not None and not is_geographic(native.crs):
            # Far from a projection's area of use (e.g. the other side of the globe from a UTM
            # zone) transverse Mercator folds back onto plausible coordinates: mask those.
            lon, lat = grid_lonlat(grid)
            west, south, east, north = aou
            margin = 12.0
            dlon = (np.asarray(lon) - (west + east) / 2.0 + 180.0) % 360.0 - 180.0
            near = (np.abs(dlon) <= (east - west) / 2.0 + margin) & (lat >= south - margin) & (lat <= north + margin)
            valid &= np.broadcast_to(near, valid.shape)
        fc = np.where(valid, fc, 0.0)
        fr = np.where(valid, fr, 0.0)
        if valid.all():
            valid = None
    with np.errstate(invalid="ignore"):
        cols = np.floor(fc).astype(np.int64)
        rows = np.floor(fr).astype(np.int64)
    for a in (cols, rows, valid):
        if a is not None:
            a.setflags(write=False)
    return cols, rows, valid
