"""The Image model: lazy bands computed on any requested pixel grid (Earth Engine's pull model).

An :class:`Image` is a list of :class:`Band` objects and properties. A band knows its name, its
:class:`PixelType`, its native :class:`Projection`, its footprint (a shapely geometry in
EPSG:4326, or None for unbounded) and how to ``compute(grid)`` → ``(values, mask)`` for any
:class:`~eeextract_plugin.sandbox.raster.PixelGrid`. Nothing is computed until a grid is asked for.

Stored (or synthetic) bands derive from :class:`NativeBand`: values are a function of the integer
native pixel index. A request aligned to the native grid is an exact index copy; any other grid is
resampled nearest-neighbour (Earth Engine's default): each output pixel centre is transformed to
the native CRS and the pixel containing it is taken; outside the native extent → masked.

Masked pixels always hold 0, so the same request gives the same bytes.

A grid coarser than the native one reads the band's pyramid, as Earth Engine does (block means,
modes or samples per the band's pyramiding policy: :mod:`.pyramids`). ``Image.resample`` gives
bilinear/bicubic interpolation, ``Image.reproject`` forces a computation scale.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox import metering
from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.imagery.projection import (
    Projection,
    aligned_offset,
    grid_bounds_4326,
    native_indices,
    transform_xy,
)
from eeextract_plugin.sandbox.model.element import Element
from eeextract_plugin.sandbox.raster import BandData, PixelGrid, Raster

BandResult = Tuple[np.ndarray, np.ndarray]  # values (h, w), mask (h, w) bool

SYSTEM_ID = "system:id"
SYSTEM_VERSION = "system:version"

# Image.compute works in row strips of about this many pixels.
STRIP_PIXELS = 1 << 21

def check_deadline() -> None:
    """"Computation timed out." once the interactive request's deadline has passed."""
    from eeextract_plugin.sandbox.evaluator import current_context

    current_context().check_deadline()


# ----------------------------------------------------------------------------- pixel types

_INT_TYPES = [
    (np.uint8, 0, 255),
    (np.int8, -128, 127),
    (np.uint16, 0, 65535),
    (np.int16, -32768, 32767),
    (np.uint32, 0, 4294967295),
    (np.int32, -2147483648, 2147483647),
    (np.int64, -(2**63), 2**63 - 1),
]


@dataclass(frozen=True)
class PixelType:
    """Earth Engine's PixelType: precision ``int`` (with a range), ``float`` or ``double``."""

    precision: str
    min: Optional[float] = None
    max: Optional[float] = None

    @classmethod
    def of_dtype(cls, dtype: Any) -> PixelType:
        dtype = np.dtype(dtype)
        if dtype == np.float32:
            return FLOAT
        if dtype.kind == "f":
            return DOUBLE
        if dtype == np.bool_:
            return cls("int", 0, 1)
        info = np.iinfo(dtype)
        return cls("int", int(info.min), int(info.max))

    @classmethod
    def from_info(cls, info: Dict[str, Any]) -> PixelType:
        return cls(str(info.get("precision", "double")), info.get("min"), info.get("max"))

    @property
    def is_int(self) -> bool:
        return self.precision == "int"

    @property
    def dtype(self) -> np.dtype:
        if self.precision == "float":
            return np.dtype(np.float32)
        if self.precision == "double":
            return np.dtype(np.float64)
        lo = -(2**63) if self.min is None else self.min
        hi = 2**63 - 1 if self.max is None else self.max
        for dt, tmin, tmax in _INT_TYPES:
            if lo >= tmin and hi <= tmax:
                return np.dtype(dt)
        return np.dtype(np.float64)

    def to_info(self) -> Dict[str, Any]:
        info: Dict[str, Any] = {"type": "PixelType", "precision": self.precision}
        if self.is_int:
            info["min"] = _num(self.min if self.min is not None else -(2**63))
            info["max"] = _num(self.max if self.max is not None else 2**63 - 1)
        return info

    def to_asset_data_type(self) -> Dict[str, Any]:
        """The EarthEngineAsset band ``dataType``: ``{precision: INT|FLOAT|DOUBLE, range?}``."""
        out: Dict[str, Any] = {"precision": self.precision.upper()}
        if self.is_int:
            out["range"] = {"min": _num(self.min), "max": _num(self.max)}
        return out

    def union(self, other: PixelType) -> PixelType:
        """EE's "union of the input types"."""
        if self.precision == "double" or other.precision == "double":
            return DOUBLE
        if self.precision == "float" or other.precision == "float":
            return FLOAT
        return PixelType("int", min(self.min, other.min), max(self.max, other.max))

    def cast(self, values: np.ndarray) -> np.ndarray:
        """``values`` in this type: integer types round toward zero and saturate (as EE)."""
        dt = self.dtype
        if values.dtype == dt:
            return values
        if dt.kind in "iu":
            v = values
            if v.dtype.kind == "f":
                v = np.nan_to_num(np.trunc(v), nan=0.0, posinf=float(self.max), neginf=float(self.min))
                v = np.clip(v, self.min, self.max)
            elif v.dtype.kind in "iub":
                info = np.iinfo(v.dtype) if v.dtype.kind != "b" else None
                if info is None or info.min < self.min or info.max > self.max:
                    v = np.clip(v, self.min, self.max)
            return v.astype(dt)
        return values.astype(dt)


def _num(v):
    if v is None:
        return None
    return int(v) if float(v).is_integer() and abs(v) < 2**63 else float(v)


FLOAT = PixelType("float")
DOUBLE = PixelType("double")
UINT8 = PixelType("int", 0, 255)
INT16 = PixelType("int", -32768, 32767)
UINT16 = PixelType("int", 0, 65535)
BOOLEAN = PixelType("int", 0, 1)


def constant_type(value: float) -> PixelType:
    """EE's type for a constant: an int with [value, value], or a double."""
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if isinstance(value, (int, np.integer)):
        return PixelType("int", int(value), int(value))
    return DOUBLE


# ----------------------------------------------------------------------------- bands


class Band:
    """One lazy band. Subclasses implement :meth:`_compute`."""

    def __init__(self, name: str, pixel_type: PixelType, projection: Projection,
                 footprint: Any = None, dimensions: Optional[Tuple[int, int]] = None):
        self.name = name
        self.pixel_type = pixel_type
        self.projection = projection
        self.footprint = footprint  # shapely geometry in EPSG:4326, or None = unbounded
        self.dimensions = dimensions  # native (width, height) for stored bands
        # The grid to compute on when none is asked for (set by clipToBoundsAndScale).
        self.grid_hint: Optional[PixelGrid] = None
        # How Earth Engine builds this band's pyramids (MEAN, MODE, SAMPLE, MIN, MAX): what a
        # request coarser than the native grid reads (stored bands, see NativeBand).
        self.pyramiding = "MEAN"

    # -- the public contract
    def compute(self, grid: PixelGrid) -> BandResult:
        shape = (grid.height, grid.width)
        if self.footprint is not None and _disjoint(grid, self.footprint):
            return np.zeros(shape, self.pixel_type.dtype), np.zeros(shape, bool)
        values, mask = self._compute(grid)
        values = np.broadcast_to(self.pixel_type.cast(np.asarray(values)), shape)
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), shape)
        if not mask.all():
            values = np.where(mask, values, np.zeros((), values.dtype))
        return np.ascontiguousarray(values), np.ascontiguousarray(mask)

    def _compute(self, grid: PixelGrid) -> BandResult:
        raise NotImplementedError

    # -- copies with other metadata
    def renamed(self, name: str) -> Band:
        clone = copy.copy(self)
        clone.name = name
        return clone

    def with_projection(self, projection: Projection) -> Band:
        """The same pixels with another default projection (``setDefaultProjection``)."""
        return DefaultProjectionBand(self, projection)

    def describe(self) -> Dict[str, Any]:
        """The band's ``getInfo``, as Earth Engine gives it: ``crs`` and ``crs_transform`` of its
        projection, and for a band with a fixed, bounded pixel grid its ``dimensions`` and, when
        that grid is a window of the projection's lattice not at its origin, the window's
        ``origin`` (pixel offset). A stored band reports its whole extent; a clipped or
        ``clipToBoundsAndScale``-d one the window it would be exported on; a computed band
        with the default projection (WGS84, 1 degree) has no fixed grid."""
        info: Dict[str, Any] = {"id": self.name, "data_type": self.pixel_type.to_info()}
        info["crs"] = self.projection.crs
        info["crs_transform"] = [float(v) for v in self.projection.transform]
        if self.dimensions is not None and self.grid_hint is None:
            info["dimensions"] = [int(self.dimensions[0]), int(self.dimensions[1])]
            return info
        grid = self.fixed_grid()
        if grid is None:
            return info
        offset = aligned_offset(grid, self.projection)
        if offset is None:
            info["crs"] = grid.crs
            info["crs_transform"] = [float(v) for v in grid.transform]
        elif offset != (0, 0):
            info["origin"] = [int(offset[0]), int(offset[1])]
        info["dimensions"] = [int(grid.width), int(grid.height)]
        return info

    def fixed_grid(self) -> Optional[PixelGrid]:
        """The bounded grid this band is computed on when none is asked for, or None when it
        has no fixed projection (a computed band in the default projection) or no bounds."""
        if self.grid_hint is not None:
            return self.grid_hint
        if self.projection == Projection.wgs84_degrees():
            return None
        if self.footprint is None and self.dimensions is None:
            return None
        return default_grid_of(self)


def _disjoint(grid: PixelGrid, footprint: Any) -> bool:
    bounds = grid_bounds_4326(grid)
    if bounds is None:
        return True
    fx0, fy0, fx1, fy1 = footprint.bounds
    x0, y0, x1, y1 = bounds
    return fx0 > x1 or fx1 < x0 or fy0 > y1 or fy1 < y0


class NativeBand(Band):
    """A band stored on a native pixel lattice: values are a function of integer (col, row).

    Subclasses implement :meth:`sample` on broadcastable int64 index arrays that are inside the
    native extent (when it has one). A request coarser than the native grid reads the band's
    pyramid (:mod:`.pyramids`): block means, modes or samples per ``self.pyramiding``.
    """

    def sample(self, cols: np.ndarray, rows: np.ndarray, grid: PixelGrid) -> BandResult:
        raise NotImplementedError

    def _compute(self, grid: PixelGrid) -> BandResult:
        from eeextract_plugin.sandbox.imagery import pyramids

        level = pyramids.pyramid_level(grid, self.projection, self.dimensions)
        if level > 0:
            return self._compute_level(grid, level)
        shape = (grid.height, grid.width)
        cols, rows, inside = _lattice_indices(grid, self.projection, self.dimensions)
        if cols is None:
            return np.zeros(shape, self.pixel_type.dtype), np.zeros(shape, bool)
        metering.count(grid.width * grid.height)
        values, mask = self.sample(cols, rows, grid)
        mask = np.broadcast_to(mask, shape)
        if inside is not None:
            mask = mask & np.broadcast_to(inside, shape)
        return values, mask

    def _compute_level(self, grid: PixelGrid, level: int) -> BandResult:
        """The band on ``grid`` read from pyramid level ``level`` (nearest level pixel of each
        output pixel; each level pixel aggregated from its native block)."""
        from eeextract_plugin.sandbox.imagery import pyramids

        shape = (grid.height, grid.width)
        dtype = self.pixel_type.dtype
        policy = str(getattr(self, "pyramiding", "MEAN") or "MEAN").upper()
        side = 2 ** level
        level_proj = pyramids.level_projection(self.projection, level)
        level_dims = None
        if self.dimensions is not None:
            level_dims = (-(-int(self.dimensions[0]) // side), -(-int(self.dimensions[1]) // side))
        lcols, lrows, inside = _lattice_indices(grid, level_proj, level_dims)
        if lcols is None:
            return np.zeros(shape, dtype), np.zeros(shape, bool)
        separable = lcols.shape[0] == 1 and lrows.ndim == 2 and lrows.shape[1] == 1
        if not separable:
            lcols, lrows = np.broadcast_arrays(lcols, lrows)
        offsets = pyramids.block_offsets(level, policy)
        k = len(offsets)
        n = k * k
        values = np.zeros(shape, dtype)
        mask = np.zeros(shape, bool)
        width = height = None
        if self.dimensions is not None:
            width, height = int(self.dimensions[0]), int(self.dimensions[1])
        # Row strips of at most ~4 M native samples (n per output pixel).
        step = max(1, (1 << 22) // max(1, n * grid.width))
        for r0 in range(0, grid.height, step):
            check_deadline()
            r1 = min(grid.height, r0 + step)
            h, w = r1 - r0, grid.width
            if separable:
                # The samples form a regular grid: (h*k rows) x (w*k columns), one call.
                cols = (lcols[0][:, None] * side + offsets[None, :]).reshape(1, w * k)
                rows = (lrows[r0:r1, 0][:, None] * side + offsets[None, :]).reshape(h * k, 1)
                virtual = _PyramidSamples(grid.crs, grid.transform, w * k, h * k, level, r0)
            else:
                dc = np.repeat(offsets, k)[:, None, None]
                dr = np.tile(offsets, k)[:, None, None]
                cols = (lcols[r0:r1][None] * side + dc).reshape(n * h, w)
                rows = (lrows[r0:r1][None] * side + dr).reshape(n * h, w)
                virtual = _PyramidSamples(grid.crs, grid.transform, w, n * h, level, r0)
            ok = None
            if width is not None:
                ok = (cols < width) & (rows < height)
                cols = np.minimum(cols, width - 1)
                rows = np.minimum(rows, height - 1)
            metering.count(virtual.width * virtual.height)
            v, m = self.sample(cols, rows, virtual)
            full = (virtual.height, virtual.width)
            v = np.broadcast_to(np.asarray(v), full)
            m = np.broadcast_to(np.asarray(m, dtype=bool), full)
            if ok is not None:
                m = m & np.broadcast_to(ok, full)
            if separable:
                v = v.reshape(h, k, w, k).transpose(1, 3, 0, 2).reshape(n, h, w)
                m = m.reshape(h, k, w, k).transpose(1, 3, 0, 2).reshape(n, h, w)
            else:
                v = v.reshape(n, h, w)
                m = m.reshape(n, h, w)
            out, valid = pyramids.aggregate(policy, v, m, dtype)
            values[r0:r1] = out
            mask[r0:r1] = valid
        if inside is not None:
            mask &= np.broadcast_to(inside, shape)
        return values, mask


@dataclass(frozen=True)
class _PyramidSamples(PixelGrid):
    """The "grid" handed to :meth:`NativeBand.sample` for the native pixels read to build
    pyramid pixels (a distinct key for bands that cache per grid: never equal to a real grid)."""

    level: int = 0
    row_offset: int = 0


def _lattice_indices(grid: PixelGrid, projection: Projection, dimensions: Optional[Tuple[int, int]]):
    """(cols, rows, inside) of the lattice pixel under each output pixel centre: broadcastable
    int64 arrays clipped into the extent, and a validity array (or None when all are valid).
    ``(None, None, None)`` when no output pixel falls inside the extent."""
    offset = aligned_offset(grid, projection)
    if offset is not None:
        c0, r0 = offset
        cols = np.arange(c0, c0 + grid.width, dtype=np.int64)[None, :]
        rows = np.arange(r0, r0 + grid.height, dtype=np.int64)[:, None]
        valid = None
    else:
        cols, rows, valid = native_indices(grid, projection)
    inside = valid
    if dimensions is not None:
        width, height = dimensions
        in_c = (cols >= 0) & (cols < width)
        in_r = (rows >= 0) & (rows < height)
        ext = in_c & in_r
        inside = ext if inside is None else (inside & ext)
        if not np.any(inside):
            return None, None, None
        cols = np.clip(cols, 0, width - 1)
        rows = np.clip(rows, 0, height - 1)
    return cols, rows, inside


class FunctionBand(Band):
    """A band computed from other bands on the same grid: ``fn([(v, m), ...]) -> (v, m)``."""

    def __init__(self, name: str, pixel_type: PixelType, projection: Projection, footprint: Any,
                 inputs: Sequence[Band], fn: Callable[[List[BandResult]], BandResult]):
        super().__init__(name, pixel_type, projection, footprint)
        self.inputs = list(inputs)
        self.fn = fn
        hints = {b.grid_hint for b in self.inputs if b.grid_hint is not None}
        if len(hints) == 1:
            self.grid_hint = hints.pop()

    def _compute(self, grid: PixelGrid) -> BandResult:
        return self.fn([b.compute(grid) for b in self.inputs])


class DefaultProjectionBand(Band):
    """``inner`` reporting another projection; its pixels are computed as ``inner``'s."""

    def __init__(self, inner: Band, projection: Projection):
        super().__init__(inner.name, inner.pixel_type, projection, inner.footprint, None)
        self.inner = inner
        self.grid_hint = inner.grid_hint

    def _compute(self, grid: PixelGrid) -> BandResult:
        return self.inner.compute(grid)


class ConstantBand(Band):
    def __init__(self, name: str, value: float, pixel_type: Optional[PixelType] = None):
        super().__init__(name, pixel_type or constant_type(value), Projection.wgs84_degrees(), None)
        self.value = value

    def _compute(self, grid: PixelGrid) -> BandResult:
        shape = (grid.height, grid.width)
        return np.full(shape, self.value, dtype=self.pixel_type.dtype), np.ones(shape, bool)


class MaskedOutsideBand(Band):
    """``inner`` with its mask and'ed with ``region_mask(grid)`` (clip, clipToBounds...)."""

    def __init__(self, inner: Band, region_mask: Callable[[PixelGrid], np.ndarray], footprint: Any):
        super().__init__(inner.name, inner.pixel_type, inner.projection, footprint, None)
        self.inner = inner
        self.region_mask = region_mask
        self.grid_hint = inner.grid_hint

    def _compute(self, grid: PixelGrid) -> BandResult:
        values, mask = self.inner.compute(grid)
        return values, mask & self.region_mask(grid)


class ResampledBand(Band):
    """``inner`` computed on the pixel lattice of ``projection`` (``Image.reproject``), then
    sampled nearest-neighbour onto whatever grid is asked for."""

    def __init__(self, inner: Band, projection: Projection, max_pixels: int = 1 << 26):
        super().__init__(inner.name, inner.pixel_type, projection, inner.footprint, None)
        self.inner = inner
        self.max_pixels = max_pixels

    def _compute(self, grid: PixelGrid) -> BandResult:
        shape = (grid.height, grid.width)
        offset = aligned_offset(grid, self.projection)
        if offset is not None:
            return self.inner.compute(PixelGrid(self.projection.crs, self.projection.transform, grid.width,
                                                grid.height).window(offset[0], offset[1], grid.width, grid.height))
        cols, rows, valid = native_indices(grid, self.projection)
        cb, rb = np.broadcast_arrays(cols, rows)
        sel = np.ones(cb.shape, bool) if valid is None else np.asarray(valid)
        if not sel.any():
            return np.zeros(shape, self.pixel_type.dtype), np.zeros(shape, bool)
        c0, c1 = int(cb[sel].min()), int(cb[sel].max())
        r0, r1 = int(rb[sel].min()), int(rb[sel].max())
        w, h = c1 - c0 + 1, r1 - r0 + 1
        if w * h > max(self.max_pixels, 4 * grid.width * grid.height):
            raise invalid_argument("User memory limit exceeded.")
        window = PixelGrid(self.projection.crs, self.projection.transform, w, h).window(c0, r0, w, h)
        values, mask = self.inner.compute(window)
        out_v = values[rb - r0, cb - c0]
        out_m = mask[rb - r0, cb - c0]
        if valid is not None:
            out_m = out_m & valid
        return out_v, out_m


# ----------------------------------------------------------------------------- images


class Image(Element):
    """A lazy multi-band image with properties (``system:time_start``, ``system:index``...)."""

    def __init__(self, bands: Sequence[Band], properties: Optional[Dict[str, Any]] = None,
                 asset_id: Optional[str] = None, version: Optional[int] = None):
        super().__init__(properties)
        self.bands: List[Band] = list(bands)
        self.asset_id = asset_id
        self.version = version

    # -- properties: an asset's id and version read and set as "system:id" / "system:version"
    def get(self, name: str) -> Any:
        if name == SYSTEM_ID:
            return self.asset_id
        if name == SYSTEM_VERSION:
            return self.version
        return super().get(name)

    def property_names(self) -> List[str]:
        names = [SYSTEM_ID] if self.asset_id else []
        if self.version is not None:
            names.append(SYSTEM_VERSION)
        return names + super().property_names()

    def with_properties(self, updates: Dict[str, Any]) -> Image:
        updates = dict(updates)
        asset_id = updates.pop(SYSTEM_ID, self.asset_id)
        version = updates.pop(SYSTEM_VERSION, self.version)
        clone = super().with_properties(updates)
        clone.asset_id = None if asset_id is None else str(asset_id)
        clone.version = version
        return clone

    # -- description
    def band_names(self) -> List[str]:
        return [b.name for b in self.bands]

    def band(self, name: str) -> Band:
        for b in self.bands:
            if b.name == name:
                return b
        raise invalid_argument(f"Image.select: Pattern '{name}' did not match any bands.")

    def band_descriptions(self) -> List[Dict[str, Any]]:
        return [b.describe() for b in self.bands]

    def footprint(self) -> Any:
        """Union of the bands' footprints (shapely, EPSG:4326); None if any band is unbounded."""
        shapes = []
        for b in self.bands:
            if b.footprint is None:
                return None
            shapes.append(b.footprint)
        if not shapes:
            return None
        if all(s is shapes[0] for s in shapes):
            return shapes[0]
        from shapely import union_all

        return union_all(shapes)

    def projection(self) -> Projection:
        """The bands' common projection (EE fails when they differ)."""
        if not self.bands:
            return Projection.wgs84_degrees()
        first = self.bands[0].projection
        for b in self.bands[1:]:
            if b.projection != first:
                raise invalid_argument(
                    "Image.projection: The bands of the specified image contains different projections. "
                    "Use Image.select to pick a single band."
                )
        return first

    def default_grid(self) -> Optional[PixelGrid]:
        """The grid the image is computed on when none is asked for: the first band's projection
        over the footprint's bounds (a stored band: its native extent), or None if unbounded."""
        if not self.bands:
            return None
        return default_grid_of(self.bands[0])

    def info(self) -> Dict[str, Any]:
        """``getInfo`` of the image."""
        out: Dict[str, Any] = {"type": "Image", "bands": self.band_descriptions()}
        if self.asset_id:
            out["id"] = self.asset_id
        if self.version is not None:
            out["version"] = self.version
        if self.properties:
            out["properties"] = _properties_info(self.properties)
        return out

    def to_info(self) -> Dict[str, Any]:
        return self.info()

    # -- pixels
    def compute(self, grid: PixelGrid, band_names: Optional[Sequence[str]] = None) -> Raster:
        """The bands on ``grid``. Large grids are computed in row strips of about
        :data:`STRIP_PIXELS` (a pixel's value depends only on its position, so strips join
        exactly) to bound the memory of intermediate arrays."""
        bands = self.bands if band_names is None else [self.band(n) for n in band_names]
        out = []
        rows = max(1, STRIP_PIXELS // max(1, grid.width))
        for b in bands:
            if grid.height <= rows:
                values, mask = b.compute(grid)
            else:
                values = np.empty((grid.height, grid.width), b.pixel_type.dtype)
                mask = np.empty((grid.height, grid.width), bool)
                for r0 in range(0, grid.height, rows):
                    check_deadline()
                    h = min(rows, grid.height - r0)
                    v, m = b.compute(grid.window(0, r0, grid.width, h))
                    values[r0:r0 + h] = v
                    mask[r0:r0 + h] = m
            out.append(BandData(b.name, values, mask))
        return Raster(grid, out)

    # -- copies
    def with_bands(self, bands: Sequence[Band], keep_properties: bool = True) -> Image:
        return Image(bands, self.properties if keep_properties else {}, None, None)

    def __repr__(self) -> str:  # pragma: no cover
        return f"Image({self.asset_id or ''}, bands={self.band_names()})"


def default_grid_of(band: Band) -> Optional[PixelGrid]:
    if band.grid_hint is not None:
        return band.grid_hint
    proj = band.projection
    if band.dimensions is not None and band.footprint is None:
        return PixelGrid(proj.crs, proj.transform, int(band.dimensions[0]), int(band.dimensions[1]))
    if band.footprint is None:
        return None
    grid = grid_covering(proj, band.footprint)
    if grid is not None and band.dimensions is not None:
        grid = clip_grid_to_extent(grid, proj, band.dimensions)
    return grid


def grid_covering(proj: Projection, footprint_4326: Any, snap: bool = True) -> Optional[PixelGrid]:
    """The window of ``proj``'s pixel lattice that covers ``footprint_4326``'s bounds."""
    from shapely import segmentize

    geom = footprint_4326
    x0, y0, x1, y1 = geom.bounds
    span = max(x1 - x0, y1 - y0, 1e-9)
    geom = segmentize(geom, span / 32.0)
    coords = _all_coords(geom)
    if coords.size == 0:
        return None
    x, y = transform_xy("EPSG:4326", proj.crs, coords[:, 0], coords[:, 1])
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    c, r = proj.to_pixel(x[ok], y[ok])
    tol = 1e-6
    c0 = math.floor(float(c.min()) + tol)
    r0 = math.floor(float(r.min()) + tol)
    c1 = math.ceil(float(c.max()) - tol)
    r1 = math.ceil(float(r.max()) - tol)
    w = max(1, c1 - c0)
    h = max(1, r1 - r0)
    return PixelGrid(proj.crs, proj.transform, w, h).window(c0, r0, w, h)


def clip_grid_to_extent(grid: PixelGrid, proj: Projection, dims: Tuple[int, int]) -> PixelGrid:
    sx, _, tx, _, sy, ty = grid.transform
    psx, _, ptx, _, psy, pty = proj.transform
    c0 = int(round((tx - ptx) / psx))
    r0 = int(round((ty - pty) / psy))
    c1 = min(c0 + grid.width, dims[0])
    r1 = min(r0 + grid.height, dims[1])
    c0 = max(c0, 0)
    r0 = max(r0, 0)
    w, h = max(1, c1 - c0), max(1, r1 - r0)
    return PixelGrid(proj.crs, proj.transform, w, h).window(c0, r0, w, h)


def _all_coords(geom: Any) -> np.ndarray:
    from shapely import get_coordinates

    return get_coordinates(geom)


def _properties_info(properties: Dict[str, Any]) -> Dict[str, Any]:
    try:
        from eeextract_plugin.sandbox.model.values import to_info
    except ImportError:  # the evaluator's value model is not there: plain JSON only
        return dict(properties)
    return {k: to_info(v) for k, v in properties.items()}
