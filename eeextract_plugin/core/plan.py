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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.core.crs import spatial_reference
from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.geometry import Geometry, as_geometry
from eeextract_plugin.core.grid import GridError, PixelGrid, chip_grid, grid_for_region, reproject
from eeextract_plugin.core.naming import distinct_ids, unique_names
from eeextract_plugin.core.regions import RegionFeature, geojson_4326, region_geojson_4326, union
from eeextract_plugin.core.source import ImageRef, SourceInfo
from eeextract_plugin.core.spec import JobSpec, SpecError
from eeextract_plugin.core.wording import format_bytes, format_duration

log = logging.getLogger(__name__)

MIB = 1024 * 1024
EXTENSIONS = {"COG": ".tif", "GEO_TIFF": ".tif", "NPY": ".npy", "PNG": ".png", "JPEG": ".jpg",
              "CSV": ".csv", "GPKG": ".gpkg"}


class PlanError(BadInput):
    """The job cannot be planned (region outside the source, chip larger than a request…)."""


@dataclass(frozen=True)
class RequestLimits:
    """Earth Engine's request limits and the models the planner's estimates use.

    The quota (``max_concurrent``, ``max_requests_per_s``) is the project's: the runner sets it
    from the spec's ``execution`` section (:meth:`for_execution`). The latency and export models
    are assumptions, stated wherever an estimate is shown; tests set them to the sandbox's."""

    max_payload_bytes: int = 48 * MIB
    max_grid_dimension: int = 32768
    # getThumbURL / getDownloadURL results: "Total request size (…) must be less than or equal
    # to 33554432 bytes" and "Pixel grid dimensions (…) must be less than or equal to 10000."
    max_url_bytes: int = 32 * MIB
    max_url_dimension: int = 10000
    memory_budget_bytes: int = 256 * MIB
    # The project's quota (Earth Engine's documented defaults).
    max_concurrent: int = 40
    max_requests_per_s: float = 100.0
    # A typical interactive request: fixed latency + per megapixel computed.
    latency_fixed_s: float = 0.3
    latency_per_megapixel_s: float = 0.1
    # The most work units one job may have: planning refuses more before it enumerates any
    # (a job's units are rows of the registry and are held in memory while it runs).
    max_units: int = 500_000
    # Batch exports: wait and start-up per task, computing speed per running task, tasks running
    # at once (Earth Engine runs about 2 per project), the queue, downloading the parts.
    export_startup_s: float = 60.0
    export_megapixels_per_s: float = 20.0
    export_running_tasks: int = 2
    export_queue_limit: int = 3000
    download_bytes_per_s: float = 50e6

    def for_execution(self, execution: Any) -> RequestLimits:
        """These limits with the project's quota from a spec's ``execution`` section."""
        return replace(self, max_concurrent=int(execution.max_concurrent_requests),
                       max_requests_per_s=float(execution.requests_per_second))


def direct_bound_s(units: int, pixels: int, largest_unit_pixels: int, limits: RequestLimits) -> float:
    """A lower bound on the time of ``units`` direct requests at the quota: all requests in
    flight at the project's concurrency, never faster than its request rate nor than the
    slowest single request."""
    if units <= 0:
        return 0.0
    per_mp = limits.latency_per_megapixel_s / 1e6
    total = units * limits.latency_fixed_s + per_mp * pixels
    slowest = limits.latency_fixed_s + per_mp * largest_unit_pixels
    return max(total / max(1, limits.max_concurrent), slowest, units / max(1e-9, limits.max_requests_per_s))


def batch_estimate_s(tasks: int, pixels: int, nbytes: int, limits: RequestLimits) -> float:
    """The expected time of ``tasks`` Export tasks: each waits and starts (``export_startup_s``),
    ``export_running_tasks`` compute at once at ``export_megapixels_per_s`` each, then the
    parts are downloaded."""
    if tasks <= 0:
        return 0.0
    running = max(1, min(tasks, limits.export_running_tasks))
    waves = math.ceil(tasks / running)
    compute = pixels / 1e6 / (limits.export_megapixels_per_s * running)
    return waves * limits.export_startup_s + compute + nbytes / max(1.0, limits.download_bytes_per_s)


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


#: A job at or above any of these is "huge": every front end asks before it starts one.
HUGE_BYTES = 10 * 1024**3
HUGE_REQUESTS = 20_000
HUGE_SECONDS = 3600.0


def is_huge(nbytes: int, requests: int, lower_bound_s: float) -> bool:
    """The one rule for jobs a user must confirm (``--yes``, a dialog in the dock)."""
    return nbytes >= HUGE_BYTES or requests >= HUGE_REQUESTS or lower_bound_s >= HUGE_SECONDS


def _at_least(seconds: float) -> str:
    return "under 1 s" if seconds < 1 else f"≥ {format_duration(seconds)}"


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
    lower_bound_s: float  # of the chosen method: direct's bound, or batch's estimate
    huge: bool
    method: str = "direct"
    export_tasks: int = 0  # batch exports: one Export task per output
    max_concurrent: int = 40
    max_requests_per_s: float = 100.0
    latency_fixed_s: float = 0.3
    latency_per_megapixel_s: float = 0.1
    method_reason: str = ""  # why this method (auto), in one line
    direct_s: float = 0.0  # the direct plan's lower bound at the quota
    batch_s: Optional[float] = None  # the batch plan's expected time (None: batch not possible)
    export_startup_s: float = 60.0
    export_megapixels_per_s: float = 20.0
    export_running_tasks: int = 2

    @property
    def table(self) -> bool:
        return self.pixels == 0 and self.tile_size == 0  # units are groups of features

    @property
    def bound_bytes_per_s(self) -> float:
        """The direct plan's bound as a rate (bytes / bound): what a run is measured against."""
        return self.bytes / self.direct_s if self.direct_s > 0 else 0.0

    def assumptions(self) -> str:
        per_request = (f"{self.latency_fixed_s:g} s per request" if self.table else
                       f"{self.latency_fixed_s:g} s + {self.latency_per_megapixel_s:g} s/MP per request")
        return (f"at the quota: {self.max_concurrent} requests in flight, "
                f"{self.max_requests_per_s:g} requests/s, {per_request}")

    def batch_assumptions(self) -> str:
        return (f"{self.export_startup_s:g} s to start each task, {self.export_running_tasks} running at "
                f"once, {self.export_megapixels_per_s:g} MP/s each")

    def direct_line(self) -> str:
        return f"{_at_least(self.direct_s)} by direct requests ({self.assumptions()})"

    def batch_line(self) -> str:
        tasks = self.export_tasks or self.outputs
        return (f"≈ {format_duration(self.batch_s)} by {tasks:,} Export task(s) "
                f"({self.batch_assumptions()})")

    def lines(self) -> List[str]:
        if self.table:
            return [
                f"files:     {self.outputs:,}",
                f"requests:  {self.requests:,} (features grouped in grid cells, one request each)",
                f"time:      {self.direct_line()}",
            ]
        chosen, other = ((self.batch_line(), self.direct_line()) if self.method != "direct"
                         else (self.direct_line(), self.batch_line() if self.batch_s is not None else None))
        lines = [
            f"method:    {self.method}" + (f" — {self.method_reason}" if self.method_reason else ""),
            f"files:     {self.outputs:,}",
            f"requests:  {self.requests:,} (work units {self.units:,}, tiles up to {self.tile_size} px a side)",
            f"pixels:    {self.pixels:,}",
            f"bytes:     {self.bytes:,} ({self.bytes / 1e9:.3f} GB of data; "
            f"{self.request_bytes / 1e9:.3f} GB as Earth Engine counts, with mask bytes)",
            f"time:      {chosen}",
        ]
        if other:
            lines.append(f"otherwise: {other}")
        return lines

    def short_line(self) -> str:
        """One line for the dock's estimate."""
        work = (f"{self.export_tasks:,} export task(s)" if self.method != "direct"
                else f"{self.requests:,} request(s)")
        text = f"{self.pixels:,} px, {format_bytes(self.bytes)}, {work}, {self.outputs:,} file(s)"
        if self.method == "direct":
            text += f", {_at_least(self.lower_bound_s)} at the quota"
        else:
            text += f", ≈ {format_duration(self.lower_bound_s)} by batch export"
        return text


def tiles_touching(region: Geometry, grid: PixelGrid, side: int) -> np.ndarray:
    """A (tile rows × tile columns) boolean array: which ``side``-px tiles of ``grid`` touch
    ``region`` (a polygon in the grid's CRS). The region is burnt into a raster whose cells are
    the tiles, every cell it touches counted (GDAL's ALL_TOUCHED)."""
    from osgeo import gdal, ogr

    ncols, nrows = -(-grid.width // side), -(-grid.height // side)
    sx, hx, tx, hy, sy, ty = grid.transform
    srs = spatial_reference(grid.crs)  # the region is in the grid's CRS: both say so
    raster = gdal.GetDriverByName("MEM").Create("", ncols, nrows, 1, gdal.GDT_Byte)
    raster.SetGeoTransform((tx, sx * side, hx * side, ty, hy * side, sy * side))
    raster.SetSpatialRef(srs)
    vectors = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = vectors.CreateLayer("region", srs, ogr.wkbUnknown)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(as_geometry(region).ogr)
    layer.CreateFeature(feature)
    feature = None  # noqa: F841 - released before its layer (GDAL 3.6)
    gdal.RasterizeLayer(raster, [1], layer, burn_values=[1], options=["ALL_TOUCHED=TRUE"])
    touched = raster.GetRasterBand(1).ReadAsArray().astype(bool)
    layer = vectors = raster = None  # noqa: F841
    return touched


@dataclass
class Tiling:
    """How one output is cut into work units, without listing them: the whole grid as one unit
    (``side`` 0), or tiles of ``side`` px keeping those that touch ``region`` (None: all)."""

    output_id: str
    grid: PixelGrid
    side: int
    region: Optional[Geometry] = None

    @property
    def bound(self) -> int:
        """Units at most (before tiles outside the region are left out): arithmetic only."""
        if not self.side:
            return 1
        return -(-self.grid.width // self.side) * -(-self.grid.height // self.side)

    @property
    def _tested(self) -> bool:
        return bool(self.side) and self.region is not None and self.region.geom_type in ("Polygon", "MultiPolygon")

    def rows(self) -> Iterator[Tuple[int, int, np.ndarray, np.ndarray]]:
        """(row, height, columns, widths) of the tiles kept, row by row. Which tiles touch the
        region comes from one rasterisation of the region on the grid of tiles (GDAL, all touched
        cells: a million tiles take well under a second)."""
        g, side = self.grid, self.side
        cols = np.arange(0, g.width, side, dtype=np.int64)
        widths = np.minimum(side, g.width - cols)
        touched = tiles_touching(self.region, g, side) if self._tested else None
        for i, row in enumerate(range(0, g.height, side)):
            h = min(side, g.height - row)
            if touched is None:
                yield row, h, cols, widths
            else:
                keep = touched[i]
                yield row, h, cols[keep], widths[keep]

    def stats(self) -> Tuple[int, int, int]:
        """(units, pixels, pixels of the largest unit), counted without making any unit."""
        g, side = self.grid, self.side
        if not side:
            return 1, g.pixels, g.pixels
        if not self._tested:
            return self.bound, g.pixels, min(side, g.width) * min(side, g.height)
        n = pixels = largest = 0
        for _, h, _, widths in self.rows():
            if len(widths):
                n += len(widths)
                pixels += h * int(widths.sum())
                largest = max(largest, h * int(widths.max()))
        return n, pixels, largest

    def units(self, first_seq: int) -> Iterator[UnitPlan]:
        oid, side = self.output_id, self.side
        if not side:
            yield UnitPlan(f"{oid}/0", oid, 0, 0, self.grid.width, self.grid.height, first_seq)
            return
        seq = first_seq
        for row, h, cols, widths in self.rows():
            for col, w in zip(cols.tolist(), widths.tolist()):
                yield UnitPlan(f"{oid}/{row // side}-{col // side}", oid, col, row, w, h, seq)
                seq += 1


class PlannedUnits(Sequence[UnitPlan]):
    """A raster plan's work units, made when they are walked (a job is recorded), never held
    before: the plan's figures and the huge-job question come from :meth:`stats` alone."""

    def __init__(self, tilings: List[Tiling]) -> None:
        self.tilings = tilings
        counted = [t.stats() for t in tilings]
        self._count = sum(c[0] for c in counted)
        self._pixels = sum(c[1] for c in counted)
        self._largest = max((c[2] for c in counted if c[0]), default=0)
        self._list: Optional[List[UnitPlan]] = None

    def stats(self) -> Tuple[int, int, int]:
        return self._count, self._pixels, self._largest

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[UnitPlan]:
        if self._list is not None:
            yield from self._list
            return
        seq = 0
        for t in self.tilings:
            for u in t.units(seq):
                yield u
                seq += 1

    def __getitem__(self, i):  # type: ignore[override]
        if self._list is None:
            self._list = list(iter(self))
        return self._list[i]


def unit_stats(units: Sequence[UnitPlan]) -> Tuple[int, int, int]:
    """(units, pixels, pixels of the largest unit) of a plan's units."""
    if isinstance(units, PlannedUnits):
        return units.stats()
    px = [u.pixels for u in units]
    return len(px), sum(px), max(px, default=0)


@dataclass
class Plan:
    outputs: List[OutputPlan]
    units: Sequence[UnitPlan]  # a list, or PlannedUnits made on demand
    tile_size: int
    bytes_per_pixel: int  # values only
    request_bytes_per_pixel: int  # values + one mask byte per band
    limits: RequestLimits = field(default_factory=RequestLimits)
    method: str = "direct"  # resolved: direct, export_gcs, export_drive
    method_reason: str = ""
    batch_method: Optional[str] = None  # the export method batch would use, when it can

    def summary(self) -> PlanSummary:
        lim = self.limits
        n, pixels, largest = unit_stats(self.units)
        nbytes = pixels * self.bytes_per_pixel
        direct_s = direct_bound_s(n, pixels, largest, lim)
        batch_s = (batch_estimate_s(len(self.outputs), pixels, nbytes, lim)
                   if self.batch_method is not None else None)
        exported = self.method != "direct"
        work = len(self.outputs) if exported else n
        lower = (batch_s or 0.0) if exported else direct_s
        return PlanSummary(len(self.outputs), n, n, pixels, nbytes,
                           pixels * self.request_bytes_per_pixel, self.tile_size,
                           self.bytes_per_pixel, lower, is_huge(nbytes, work, 0.0 if exported else direct_s),
                           method=self.method, export_tasks=len(self.outputs) if exported else 0,
                           max_concurrent=lim.max_concurrent, max_requests_per_s=lim.max_requests_per_s,
                           latency_fixed_s=lim.latency_fixed_s,
                           latency_per_megapixel_s=lim.latency_per_megapixel_s,
                           method_reason=self.method_reason, direct_s=direct_s, batch_s=batch_s,
                           export_startup_s=lim.export_startup_s,
                           export_megapixels_per_s=lim.export_megapixels_per_s,
                           export_running_tasks=lim.export_running_tasks)


EXPORT_FORMATS = ("COG", "GEO_TIFF")


def choose_method(spec: JobSpec, plan: Plan) -> None:
    """Sets ``plan.method`` (and why) from ``spec.method``: a forced method stays; ``auto``
    compares the direct plan's bound with the batch plan's estimate and takes the faster,
    direct when batch is not possible (tables, PNG/JPEG/NPY, no bucket or Drive folder)."""
    m = spec.method
    exportable = spec.kind not in ("table", "timeseries") and (spec.output.format or "COG") in EXPORT_FORMATS
    plan.batch_method = m.batch_type if exportable else None
    if m.type != "auto":
        plan.method = m.type
        plan.method_reason = "chosen in the job"
        return
    s = plan.summary()
    requests = f"{s.requests:,} request(s)"
    if not exportable:
        why = ("tables are computed interactively" if spec.kind in ("table", "timeseries")
               else f"exports write GeoTIFF, not {spec.output.format}")
        plan.method, plan.method_reason = "direct", f"auto: {why}"
        return
    if plan.batch_method is None:
        plan.method = "direct"
        plan.method_reason = "auto: batch would need method.bucket or method.folder"
        return
    assert s.batch_s is not None
    tasks = f"{len(plan.outputs):,} export task(s)"
    queue = (f"; submitted {plan.limits.export_queue_limit:,} at a time (Earth Engine's queue)"
             if len(plan.outputs) > plan.limits.export_queue_limit else "")
    if s.batch_s < s.direct_s:
        plan.method = plan.batch_method
        plan.method_reason = (f"auto: batch ≈ {format_duration(s.batch_s)} by {tasks} vs direct ≥ "
                              f"{format_duration(s.direct_s)} by {requests}{queue}")
    else:
        plan.method = "direct"
        plan.method_reason = (f"auto: direct ≥ {format_duration(s.direct_s)} by {requests} vs batch ≈ "
                              f"{format_duration(s.batch_s)} by {tasks}")


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


#: Tiles in the outputs' boxes, as a multiple of the cap, beyond which planning does not count them.
BOUND_FACTOR = 4


def too_many(cap: int, what: str) -> str:
    return (f"plan: more than {cap:,} work units ({what}); use larger tiles (execution.tile_size), "
            "a coarser grid.scale, a smaller region or fewer features per job, or an export method")


def check_nodata(nodata: float, dtype: str) -> None:
    """``output.nodata`` must be a value of the output's type: never silently clamped or cut."""
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if nodata != int(nodata) or not info.min <= nodata <= info.max:
            raise SpecError("output.nodata", f"{nodata:g} is not a value of the output's type {dt.name} "
                                             f"(whole numbers {info.min:,} to {info.max:,})")
    elif dt.kind == "f" and abs(nodata) > np.finfo(dt).max:
        raise SpecError("output.nodata", f"{nodata:g} is beyond the range of the output's type {dt.name} "
                                         f"(±{float(np.finfo(dt).max):.4g})")


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
    if spec.output.nodata is not None and not url_format:
        check_nodata(spec.output.nodata, dtype)
    value_bpp = bytes_per_pixel([dtype] * len(bands), mask=False)
    request_bpp = bytes_per_pixel([b.dtype for b in info.bands] if not url_format else [dtype] * len(bands), mask=True)
    conc = spec.execution.max_concurrent_requests
    # Thumbnail / download URLs are held to their own limits (32 MiB, 10,000 px a side).
    url_limits = url_format or spec.execution.uses_urls
    side = tile_side(request_bpp, value_bpp, limits, conc, url_limits)
    if spec.execution.tile_size:
        ts = spec.execution.tile_size
        if ts * ts * request_bpp > (limits.max_url_bytes if url_limits else limits.max_payload_bytes):
            raise SpecError("execution.tile_size", f"{ts} px tiles of {ts * ts * request_bpp:,} bytes "
                            "(with mask bytes) exceed Earth Engine's request limit")
        side = ts
    crs = spec.grid.crs or (info.native.crs if info.native else "EPSG:4326")
    native = info.native if spec.grid.snap else None
    directory = Path(spec.output.directory)
    name = spec.output_name
    ext = EXTENSIONS[fmt]
    outputs: List[OutputPlan] = []
    tilings: List[Tiling] = []
    at_most = [0]  # units at most so far: the cap is checked before any unit is made

    def add_output(oid: str, fname: str, grid: PixelGrid, region_geom: Optional[Geometry],
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
            tiling = Tiling(oid, grid, 0)
        else:
            tiling = Tiling(oid, grid, side, region_geom)
        at_most[0] += tiling.bound
        # Arithmetic first: tiles are counted (tested against the region) only when their
        # boxes hold at most a few times the cap, so counting stays a matter of a second or two.
        if at_most[0] > BOUND_FACTOR * limits.max_units:
            raise PlanError(too_many(limits.max_units, f"{len(outputs):,} file(s) so far, the last "
                                     f"{grid.width:,} x {grid.height:,} px in tiles of {side} px"))
        tilings.append(tiling)

    def region_grid(geom: Geometry) -> PixelGrid:
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
        ids = distinct_ids(f.id for f in features)
        names = unique_names(ids)
        for f, oid in zip(features, ids):
            p = reproject(f.geometry, f.crs, crs)
            if p.geom_type != "Point":
                p = p.centroid
            grid = chip_grid(p.x, p.y, crs, scale, cw, ch, native, spec.grid.snap)
            add_output(oid, f"{name}_{names[oid]}{ext}", grid, None,
                       region4326=geojson_4326(grid.footprint(), crs) if collection else None)
        if any(o.fetch == "NPY" and (o.grid.width > side or o.grid.height > side) for o in outputs):
            pass  # large chips are tiled like any output
    elif spec.kind == "features":
        ids = distinct_ids(f.id for f in features)
        names = unique_names(ids)
        for f, oid in zip(features, ids):
            geom = reproject(f.geometry, f.crs, crs)
            grid = region_grid(geom)
            add_output(oid, f"{name}_{names[oid]}{ext}", grid, geom,
                       region4326=geojson_4326(f.geometry, f.crs) if collection else None)
    else:
        geom = union(features, crs)
        if geom.is_empty:
            raise PlanError("region: empty after reprojection into the output CRS")
        grid = region_grid(geom)
        if spec.kind == "mosaic":
            add_output("mosaic", f"{name}{ext}", grid, geom,
                       region4326=region_geojson_4326(features) if collection else None)
        else:  # collection
            r4326 = region_geojson_4326(features)
            ids = distinct_ids(ref.key for ref in info.images)
            names = unique_names(ids)
            for ref, oid in zip(info.images, ids):
                add_output(oid, f"{name}_{names[oid]}{ext}", grid, geom, image=ref, region4326=r4326)
    units = PlannedUnits(tilings)
    if len(units) > limits.max_units:
        raise PlanError(too_many(limits.max_units, f"{len(units):,} tiles touch the region"))
    if not len(units):
        raise PlanError("region: no pixel of the region falls on the output grid")
    plan = Plan(outputs, units, side, value_bpp, request_bpp, limits)
    choose_method(spec, plan)
    return plan


def check_region_inside(info: SourceInfo, features: Sequence[RegionFeature]) -> None:
    """A region that misses the source's footprint entirely is an error (stored images)."""
    nat = info.native
    if nat is None or nat.width <= 0 or nat.height <= 0:
        return
    try:
        region = union(features, nat.crs)
    except Exception:  # unprojectable: leave it to the server
        return
    if region.is_empty or not all(math.isfinite(v) for v in region.bounds):
        return
    if not region.intersects(nat.footprint()):
        b = [round(v, 6) for v in nat.bounds]
        raise PlanError(f"region: outside the source (source bounds {b} in {nat.crs})")
