"""The planner: a job spec + what the source is → outputs and work units under Earth Engine's
request limits, and a summary (pixels, bytes, requests, files, lower bound on time).

Limits (earth-engine-facts.md §5): a pixel request (``getPixels`` / ``computePixels``) may carry
at most 48 MiB **counting one mask byte per band per pixel** on top of the band's own bytes, and
at most 32,768 px a side; PNG / JPEG (the download-URL formats) are held to the documented
download limits, 32 MB and 10,000 px a side. Tiles are also kept small enough that all requests
in flight fit a memory budget (256 MiB by default), so memory stays bounded whatever the output.
The region is reprojected into the output CRS before it is tiled.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from .grid import GridError, PixelGrid, chip_grid, grid_for_region, reproject
from .regions import RegionFeature
from .source import ImageRef, SourceInfo
from .spec import JobSpec, SpecError

log = logging.getLogger(__name__)

MIB = 1024 * 1024
EXTENSIONS = {"COG": ".tif", "GEO_TIFF": ".tif", "NPY": ".npy", "PNG": ".png", "JPEG": ".jpg",
              "CSV": ".csv", "GPKG": ".gpkg"}


class PlanError(ValueError):
    """The job cannot be planned (region outside the source, chip larger than a request…)."""


@dataclass(frozen=True)
class RequestLimits:
    max_payload_bytes: int = 48 * MIB
    max_grid_dimension: int = 32768
    max_url_bytes: int = 32 * 1000 * 1000
    max_url_dimension: int = 10000
    memory_budget_bytes: int = 256 * MIB
    # For the time bound: Earth Engine's quota and a typical request latency.
    max_concurrent: int = 40
    max_requests_per_s: float = 100.0
    latency_fixed_s: float = 0.3
    latency_per_megapixel_s: float = 0.1


@dataclass
class OutputPlan:
    output_id: str
    path: str
    format: str  # COG | GEO_TIFF | NPY | PNG | JPEG
    grid: PixelGrid
    bands: List[str]
    dtype: str
    fetch: str  # "NPY" (tiles into a staging raster) or "PNG" / "JPEG" (bytes written as they come)
    image: Optional[Dict[str, Any]] = None  # ImageRef of a collection output
    region: Optional[Dict[str, Any]] = None  # GeoJSON (EPSG:4326) to filter collections

    def to_info(self) -> Dict[str, Any]:
        d = asdict(self)
        d["grid"] = self.grid.to_dict()
        return d

    @classmethod
    def from_info(cls, d: Dict[str, Any]) -> OutputPlan:
        d = dict(d)
        d["grid"] = PixelGrid.from_dict(d["grid"])
        return cls(**d)


@dataclass
class UnitPlan:
    unit_id: str
    output_id: str
    col: int
    row: int
    width: int
    height: int
    seq: int = 0
    feature_ids: Optional[List[str]] = None  # table units: the features one request serves

    @property
    def pixels(self) -> int:
        return 0 if self.feature_ids is not None else self.width * self.height

    def params(self) -> Dict[str, Any]:
        if self.feature_ids is not None:
            return {"feature_ids": self.feature_ids}
        return {"col": self.col, "row": self.row, "width": self.width, "height": self.height}

    def split(self, min_side: int = 16) -> Optional[List[UnitPlan]]:
        """Four quarters (or two halves of a thin tile); None when too small to split."""
        if self.width <= min_side and self.height <= min_side:
            return None
        ws = [self.width] if self.width <= min_side else [self.width // 2, self.width - self.width // 2]
        hs = [self.height] if self.height <= min_side else [self.height // 2, self.height - self.height // 2]
        out, i, r = [], 0, self.row
        for h in hs:
            c = self.col
            for w in ws:
                out.append(UnitPlan(f"{self.unit_id}.{i}", self.output_id, c, r, w, h, self.seq))
                c += w
                i += 1
            r += h
        return out


@dataclass
class PlanSummary:
    outputs: int
    units: int
    requests: int
    pixels: int
    bytes: int
    request_bytes: int
    tile_size: int
    bytes_per_pixel: int
    lower_bound_s: float
    huge: bool

    def lines(self) -> List[str]:
        if self.pixels == 0 and self.tile_size == 0:  # a table job: units are groups of features
            return [
                f"files:     {self.outputs:,}",
                f"requests:  {self.requests:,} (features grouped in grid cells, one request each)",
                f"time:      >= {_fmt_s(self.lower_bound_s)} at the quota (40 requests in flight, "
                "100 requests/s, 0.3 s per request)",
            ]
        return [
            f"files:     {self.outputs:,}",
            f"requests:  {self.requests:,} (work units {self.units:,}, tiles up to {self.tile_size} px a side)",
            f"pixels:    {self.pixels:,}",
            f"bytes:     {self.bytes:,} ({self.bytes / 1e9:.3f} GB of data; "
            f"{self.request_bytes / 1e9:.3f} GB as Earth Engine counts, with mask bytes)",
            f"time:      >= {_fmt_s(self.lower_bound_s)} at the quota (40 requests in flight, "
            "100 requests/s, 0.3 s + 0.1 s/MP per request)",
        ]


def _fmt_s(s: float) -> str:
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


@dataclass
class Plan:
    outputs: List[OutputPlan]
    units: List[UnitPlan]
    tile_size: int
    bytes_per_pixel: int  # values only
    request_bytes_per_pixel: int  # values + one mask byte per band
    limits: RequestLimits = field(default_factory=RequestLimits)
    huge_bytes: int = 10 * 1024**3
    huge_requests: int = 20000

    def summary(self) -> PlanSummary:
        pixels = sum(u.pixels for u in self.units)
        lim = self.limits
        per_req = [lim.latency_fixed_s + lim.latency_per_megapixel_s * u.pixels / 1e6 for u in self.units]
        bound = max(sum(per_req) / lim.max_concurrent, max(per_req),
                    len(self.units) / lim.max_requests_per_s) if per_req else 0.0
        nbytes = pixels * self.bytes_per_pixel
        return PlanSummary(len(self.outputs), len(self.units), len(self.units), pixels, nbytes,
                           pixels * self.request_bytes_per_pixel, self.tile_size,
                           self.bytes_per_pixel, bound,
                           nbytes > self.huge_bytes or len(self.units) > self.huge_requests)


def bytes_per_pixel(dtypes: Sequence[str], mask: bool) -> int:
    return sum(np.dtype(d).itemsize + (1 if mask else 0) for d in dtypes)


def tile_side(request_bpp: int, value_bpp: int, limits: RequestLimits, concurrency: int,
              url_format: bool = False) -> int:
    """The largest square tile side under the request limits and the memory budget."""
    payload = limits.max_url_bytes if url_format else limits.max_payload_bytes
    max_dim = limits.max_url_dimension if url_format else limits.max_grid_dimension
    side = math.isqrt(payload // max(1, request_bpp))
    # ~3 copies of a tile exist while it is decoded and written.
    per_request = limits.memory_budget_bytes // max(1, 3 * concurrency)
    side = min(side, math.isqrt(per_request // max(1, value_bpp)), max_dim)
    if side >= 256:
        side -= side % 256
    elif side >= 16:
        side -= side % 16
    return max(1, side)


def output_dtype(info: SourceInfo, fmt: str) -> str:
    if fmt in ("PNG", "JPEG"):
        return "uint8"
    dt = info.dtype
    if dt == "int8":
        dt = "int16"
    return dt


def _union(features: Sequence[RegionFeature], dst_crs: str) -> BaseGeometry:
    return unary_union([reproject(f.geometry, f.crs, dst_crs) for f in features])


def _region_4326(features: Sequence[RegionFeature]) -> Dict[str, Any]:
    g = _union(features, "EPSG:4326")
    if g.geom_type not in ("Polygon", "MultiPolygon", "Point", "MultiPoint"):
        g = g.envelope
    return dict(mapping(g))


def _geojson_4326(geom: BaseGeometry, crs: str) -> Dict[str, Any]:
    return dict(mapping(reproject(geom, crs, "EPSG:4326")))


def build_plan(spec: JobSpec, info: SourceInfo, features: Sequence[RegionFeature],
               limits: Optional[RequestLimits] = None) -> Plan:
    """Outputs and units for a raster job (kinds mosaic, chips, collection, features)."""
    limits = limits or RequestLimits()
    if spec.kind in ("table", "timeseries"):
        raise PlanError(f"kind {spec.kind!r} is planned by core/tables.py")
    fmt = spec.output.format or "COG"
    url_format = fmt in ("PNG", "JPEG")
    dtype = output_dtype(info, fmt)
    vis = spec.output.visualization
    if url_format:
        nb = len(vis.bands) if vis and vis.bands else (3 if len(info.bands) >= 3 else 1)
        bands = ["vis-red", "vis-green", "vis-blue"][:nb] if nb == 3 else ["vis-gray"]
    else:
        bands = info.band_names
    value_bpp = bytes_per_pixel([dtype] * len(bands), mask=False)
    request_bpp = bytes_per_pixel([b.dtype for b in info.bands] if not url_format else [dtype] * len(bands), mask=True)
    conc = spec.execution.max_concurrent_requests
    side = tile_side(request_bpp, value_bpp, limits, conc, url_format)
    if spec.execution.tile_size:
        ts = spec.execution.tile_size
        if ts * ts * request_bpp > (limits.max_url_bytes if url_format else limits.max_payload_bytes):
            raise SpecError("execution.tile_size", f"{ts} px tiles of {ts * ts * request_bpp:,} bytes "
                            "(with mask bytes) exceed Earth Engine's request limit")
        side = ts
    crs = spec.grid.crs or (info.native.crs if info.native else "EPSG:4326")
    native = info.native if spec.grid.snap else None
    directory = Path(spec.output.directory)
    name = spec.output_name
    ext = EXTENSIONS[fmt]
    outputs: List[OutputPlan] = []
    units: List[UnitPlan] = []

    def add_output(oid: str, fname: str, grid: PixelGrid, region_geom: Optional[BaseGeometry],
                   image: Optional[ImageRef] = None, fetch: Optional[str] = None,
                   region4326: Optional[Dict[str, Any]] = None) -> None:
        out = OutputPlan(oid, str(directory / fname), fmt, grid, bands, dtype,
                         fetch or ("NPY" if not url_format else fmt),
                         asdict(image) if image else None, region4326)
        outputs.append(out)
        if out.fetch != "NPY" or grid.width <= side and grid.height <= side:
            if url_format and (grid.width > side or grid.height > side):
                raise PlanError(f"output {fname}: {grid.width} x {grid.height} px is larger than one "
                                f"{fmt} request allows ({side} px a side); use COG for large areas")
            units.append(UnitPlan(f"{oid}/0", oid, 0, 0, grid.width, grid.height, len(units)))
            return
        for col, row, w, h in grid.tiles(side, side):
            if region_geom is not None and region_geom.geom_type in ("Polygon", "MultiPolygon"):
                if not grid.window(col, row, w, h).footprint().intersects(region_geom):
                    continue
            units.append(UnitPlan(f"{oid}/{row // side}-{col // side}", oid, col, row, w, h, len(units)))

    def region_grid(geom: BaseGeometry) -> PixelGrid:
        try:
            return grid_for_region(geom, crs, scale=spec.grid.scale, crs_transform=spec.grid.crs_transform,
                                   native=native or info.native, snap=spec.grid.snap)
        except GridError as exc:
            raise PlanError(f"grid: {exc}") from None

    collection = spec.source.type != "asset"

    if spec.kind == "chips":
        cw, ch = spec.output.chip_size or [256, 256]
        scale = spec.grid.scale or (abs(info.native.scale_x) if info.native and info.native.crs == crs else None)
        if scale is None:
            g0 = region_grid(reproject(features[0].geometry.buffer(1e-6), features[0].crs, crs))
            scale = abs(g0.scale_x)
        for f in features:
            p = reproject(f.geometry, f.crs, crs)
            if p.geom_type != "Point":
                p = p.centroid
            grid = chip_grid(p.x, p.y, crs, scale, cw, ch, native, spec.grid.snap)
            add_output(f.id, f"{name}_{f.id}{ext}", grid, None,
                       region4326=_geojson_4326(grid.footprint(), crs) if collection else None)
        if any(o.fetch == "NPY" and (o.grid.width > side or o.grid.height > side) for o in outputs):
            pass  # large chips are tiled like any output
    elif spec.kind == "features":
        for f in features:
            geom = reproject(f.geometry, f.crs, crs)
            grid = region_grid(geom)
            add_output(f.id, f"{name}_{f.id}{ext}", grid, geom,
                       region4326=_geojson_4326(f.geometry, f.crs) if collection else None)
    else:
        geom = _union(features, crs)
        if geom.is_empty:
            raise PlanError("region: empty after reprojection into the output CRS")
        grid = region_grid(geom)
        if spec.kind == "mosaic":
            add_output("mosaic", f"{name}{ext}", grid, geom,
                       region4326=_region_4326(features) if collection else None)
        else:  # collection
            r4326 = _region_4326(features)
            for ref in info.images:
                add_output(ref.key, f"{name}_{ref.key}{ext}", grid, geom, image=ref, region4326=r4326)
    if not units:
        raise PlanError("region: no pixel of the region falls on the output grid")
    return Plan(outputs, units, side, value_bpp, request_bpp, limits)


def check_region_inside(info: SourceInfo, features: Sequence[RegionFeature]) -> None:
    """A region that misses the source's footprint entirely is an error (stored images)."""
    nat = info.native
    if nat is None or nat.width <= 0 or nat.height <= 0:
        return
    try:
        region = _union(features, nat.crs)
    except Exception:  # unprojectable: leave it to the server
        return
    if region.is_empty or not all(math.isfinite(v) for v in region.bounds):
        return
    if not region.intersects(nat.footprint()):
        b = [round(v, 6) for v in nat.bounds]
        raise PlanError(f"region: outside the source (source bounds {b} in {nat.crs})")
