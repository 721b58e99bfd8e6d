"""Pixel grids and CRS handling: where every output pixel lies.

The region is reprojected into the **output** CRS first (densified, so curved edges stay
inside), and only then covered by a grid and cut into tiles: tiling in the region's own CRS
when the output CRS differs gives wrong or huge tile sets (earth-engine-facts.md §6).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)

Affine6 = Tuple[float, float, float, float, float, float]  # Earth Engine's order


class GridError(BadInput):
    """A grid that cannot be built: empty region, zero scale, region outside the source."""


@lru_cache(maxsize=64)
def crs_of(user: str) -> CRS:
    return CRS.from_user_input(user)


def crs_code(user: str) -> str:
    """``EPSG:nnnn`` when the CRS has one, else its WKT (what Earth Engine grids accept)."""
    c = crs_of(user)
    auth = c.to_authority()
    if auth and auth[0] == "EPSG":
        return f"EPSG:{auth[1]}"
    return c.to_wkt()


def same_crs(a: str, b: str) -> bool:
    return a == b or crs_of(a) == crs_of(b)


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(crs_of(src), crs_of(dst), always_xy=True)


def reproject(geom: BaseGeometry, src: str, dst: str, densify: int = 32) -> BaseGeometry:
    """``geom`` from ``src`` to ``dst`` (x, y order), edges densified before transforming."""
    if same_crs(src, dst):
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon", "LineString", "MultiLineString"):
        minx, miny, maxx, maxy = geom.bounds
        step = max(maxx - minx, maxy - miny) / densify
        if step > 0:
            geom = geom.segmentize(step)
    t = _transformer(src, dst)
    # shapely.transform on coordinate arrays (shapely.ops.transform is deprecated in shapely 2.1)
    out = shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
    if not out.is_valid:
        out = out.buffer(0)
    return out


@dataclass(frozen=True)
class PixelGrid:
    """A CRS, an affine transform (Earth Engine's order: scaleX, shearX, translateX, shearY,
    scaleY, translateY; ``translate`` is the top-left corner) and dimensions."""

    crs: str
    transform: Affine6
    width: int
    height: int

    @property
    def scale_x(self) -> float:
        return self.transform[0]

    @property
    def scale_y(self) -> float:
        return self.transform[4]

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def gdal_geotransform(self) -> Tuple[float, float, float, float, float, float]:
        sx, hx, tx, hy, sy, ty = self.transform
        return (tx, sx, hx, ty, hy, sy)

    @property
    def bounds(self) -> Tuple[float, float, float, float]:
        sx, _, tx, _, sy, ty = self.transform
        xs = (tx, tx + sx * self.width)
        ys = (ty, ty + sy * self.height)
        return (min(xs), min(ys), max(xs), max(ys))

    def footprint(self) -> BaseGeometry:
        return box(*self.bounds)

    def window(self, col: int, row: int, width: int, height: int) -> PixelGrid:
        sx, hx, tx, hy, sy, ty = self.transform
        return PixelGrid(self.crs, (sx, hx, tx + sx * col + hx * row, hy, sy, ty + hy * col + sy * row),
                         width, height)

    def to_ee(self) -> Dict[str, Any]:
        """The PixelGrid JSON of Earth Engine's REST API."""
        sx, hx, tx, hy, sy, ty = self.transform
        code = crs_code(self.crs)
        key = "crsCode" if code.upper().startswith("EPSG:") else "crsWkt"
        return {key: code,
                "affineTransform": {"scaleX": sx, "shearX": hx, "translateX": tx,
                                    "shearY": hy, "scaleY": sy, "translateY": ty},
                "dimensions": {"width": self.width, "height": self.height}}

    @classmethod
    def from_ee(cls, grid: Dict[str, Any]) -> PixelGrid:
        at = grid.get("affineTransform") or {}
        dims = grid.get("dimensions") or {}
        return cls(str(grid.get("crsCode") or grid.get("crsWkt") or "EPSG:4326"),
                   (float(at.get("scaleX", 1.0)), float(at.get("shearX", 0.0)),
                    float(at.get("translateX", 0.0)), float(at.get("shearY", 0.0)),
                    float(at.get("scaleY", -1.0)), float(at.get("translateY", 0.0))),
                   int(dims.get("width", 0)), int(dims.get("height", 0)))

    def to_dict(self) -> Dict[str, Any]:
        return {"crs": self.crs, "transform": list(self.transform), "width": self.width,
                "height": self.height}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> PixelGrid:
        return cls(d["crs"], tuple(d["transform"]), int(d["width"]), int(d["height"]))  # type: ignore[arg-type]

    def tiles(self, tile_w: int, tile_h: int) -> Iterator[Tuple[int, int, int, int]]:
        """(col, row, width, height) windows covering the grid, row-major."""
        for row in range(0, self.height, tile_h):
            for col in range(0, self.width, tile_w):
                yield col, row, min(tile_w, self.width - col), min(tile_h, self.height - row)


def _snap_floor(v: float, origin: float, step: float) -> float:
    return origin + math.floor((v - origin) / step + 1e-9) * step


def _snap_ceil(v: float, origin: float, step: float) -> float:
    return origin + math.ceil((v - origin) / step - 1e-9) * step


def grid_for_region(region: BaseGeometry, crs: str, *, scale: Optional[float] = None,
                    crs_transform: Optional[Sequence[float]] = None,
                    native: Optional[PixelGrid] = None, snap: bool = True,
                    max_pixels: int = 10**12) -> PixelGrid:
    """The smallest grid in ``crs`` covering ``region`` (already in ``crs``).

    Pixel size: ``crs_transform`` when given (its origin anchors the grid), else ``scale``,
    else the native grid's. With ``snap``, pixel edges fall on the native grid's when ``crs``
    and pixel size are the native ones, else on multiples of the pixel size from the origin.
    """
    if region.is_empty:
        raise GridError("region is empty")
    minx, miny, maxx, maxy = region.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise GridError(f"region cannot be expressed in {crs} (infinite coordinates)")
    if crs_transform is not None:
        sx, _, ox, _, sy, oy = (float(v) for v in crs_transform)
    else:
        if scale is None:
            if native is None:
                raise GridError("grid.scale is required (the source has no native grid)")
            if not same_crs(native.crs, crs):
                # Native scale in another CRS: convert the pixel size at the region's centre.
                c = region.centroid
                t = _transformer(crs, native.crs)
                x0, y0 = t.transform(c.x, c.y)
                back = _transformer(native.crs, crs)
                x1, y1 = back.transform(x0 + native.scale_x, y0)
                scale = abs(math.hypot(x1 - c.x, y1 - c.y)) or abs(native.scale_x)
                log.info("native scale %.6g in %s is %.6g in %s", native.scale_x, native.crs, scale, crs)
            else:
                scale = abs(native.scale_x)
        if scale is None or scale <= 0:
            raise GridError(f"grid.scale must be > 0, not {scale}")
        sx, sy, ox, oy = float(scale), -float(scale), 0.0, 0.0
        if native is not None and same_crs(native.crs, crs) and math.isclose(
                abs(native.scale_x), scale, rel_tol=1e-9):
            sx, sy = native.scale_x, native.scale_y
            ox, oy = native.transform[2], native.transform[5]
        elif native is not None and same_crs(native.crs, crs) and snap:
            ox, oy = native.transform[2], native.transform[5]
    if sx <= 0 or sy == 0:
        raise GridError("grid: pixel size must be > 0")
    if snap or crs_transform is not None:
        x0 = _snap_floor(minx, ox, sx)
        x1 = _snap_ceil(maxx, ox, sx)
        if sy < 0:
            y0 = _snap_ceil(maxy, oy, -sy)
            y1 = _snap_floor(miny, oy, -sy)
        else:
            y0 = _snap_floor(miny, oy, sy)
            y1 = _snap_ceil(maxy, oy, sy)
    else:
        x0, x1 = minx, maxx
        y0, y1 = (maxy, miny) if sy < 0 else (miny, maxy)
    width = max(1, int(round((x1 - x0) / sx)))
    height = max(1, int(round(abs(y1 - y0) / abs(sy))))
    if width * height > max_pixels:
        raise GridError(f"grid of {width} x {height} pixels is larger than {max_pixels:.3g}")
    return PixelGrid(crs, (sx, 0.0, x0, 0.0, sy, y0), width, height)


def chip_grid(point_x: float, point_y: float, crs: str, scale: float, width: int, height: int,
              native: Optional[PixelGrid] = None, snap: bool = True) -> PixelGrid:
    """A ``width`` x ``height`` grid centred on a point (in ``crs``), snapped like any grid."""
    ox = oy = 0.0
    if native is not None and snap and same_crs(native.crs, crs):
        ox, oy = native.transform[2], native.transform[5]
    x0 = point_x - width * scale / 2.0
    y0 = point_y + height * scale / 2.0
    if snap:
        x0 = ox + round((x0 - ox) / scale) * scale
        y0 = oy + round((y0 - oy) / scale) * scale
    return PixelGrid(crs, (scale, 0.0, x0, 0.0, -scale, y0), width, height)


def geometry_bounds_geojson(geom: BaseGeometry) -> Dict[str, Any]:
    return dict(mapping(geom))


def region_geometry(bbox: Optional[List[float]], geometry: Optional[Dict[str, Any]]) -> BaseGeometry:
    from shapely.geometry import shape

    if bbox is not None:
        return box(*bbox)
    if geometry is not None:
        return shape(geometry)
    raise GridError("region has neither bbox nor geometry")
