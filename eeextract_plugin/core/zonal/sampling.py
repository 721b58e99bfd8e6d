"""Raster values at points (local): one row per point, one column per band, to CSV and/or a
GeoPackage of the points. A point takes the value of the pixel it falls in (Earth Engine's
``sample`` at the image's native scale does the same); outside the raster or on nodata → empty.

Points stream through in batches; within a batch the raster is read block by block, each block
once, so memory stays bounded whatever the number of points.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.core.geometry import Geometry
from eeextract_plugin.core.zonal.errors import ZonalError
from eeextract_plugin.core.zonal.outputs import ScratchRows, write_csv, write_gpkg
from eeextract_plugin.core.zonal.rasters import BandSelector, RasterInfo
from eeextract_plugin.core.zonal.zones import (
    STATUS_INVALID,
    STATUS_OUTSIDE,
    Zone,
    ZoneInput,
    ZonePreparer,
    ZoneSource,
    batches,
)

log = logging.getLogger(__name__)

STATUS_NODATA = "nodata"


@dataclass
class SampleRequest:
    """Values of ``raster`` at ``points`` (a point file + ``layer``, or ``(id, geometry)``
    pairs in ``points_crs``, default the raster's). Outputs as for zonal statistics; when both
    are ``None``, ``<raster stem>_samples.csv`` and ``.gpkg`` next to the raster."""

    raster: Union[str, Path]
    points: ZoneInput
    id_field: Optional[str] = None
    layer: Optional[Union[str, int]] = None
    points_crs: Any = None
    bands: Optional[Sequence[BandSelector]] = None
    csv_path: Optional[Union[str, Path]] = None
    gpkg_path: Optional[Union[str, Path]] = None
    batch_size: int = 10000


@dataclass
class SampleResult:
    csv_path: Optional[str]
    gpkg_path: Optional[str]
    columns: List[str]
    points: int = 0
    sampled: int = 0
    outside: List[Any] = field(default_factory=list)
    nodata: List[Any] = field(default_factory=list)
    invalid: Dict[Any, str] = field(default_factory=dict)
    seconds: float = 0.0


class _BlockSampler:
    def __init__(self, raster: RasterInfo) -> None:
        from osgeo import gdal

        self.raster = raster
        self.ds = gdal.Open(raster.path)
        band = self.ds.GetRasterBand(raster.bands[0])
        bx, by = band.GetBlockSize()
        # Whole-row strips are common (GTiff without tiles): read them in chunks of rows.
        self.bx = max(1, min(bx, raster.width))
        self.by = max(1, by if by > 1 else 256)
        x0, dx, _, y0, _, dy = raster.geotransform
        self.gt = (x0, dx, y0, dy)

    def pixels(self, xy: np.ndarray):
        x0, dx, y0, dy = self.gt
        col = np.floor((xy[:, 0] - x0) / dx).astype(np.int64)
        row = np.floor((xy[:, 1] - y0) / dy).astype(np.int64)
        return col, row

    def sample(self, col: np.ndarray, row: np.ndarray) -> List[List[Optional[float]]]:
        """Values per point (list per band); ``None`` for nodata/NaN."""
        from osgeo import gdal

        n = len(col)
        out = np.full((len(self.raster.bands), n), np.nan)
        valid = np.ones((len(self.raster.bands), n), dtype=bool)
        bcol, brow = col // self.bx, row // self.by
        keys = brow * (10**9) + bcol
        order = np.argsort(keys, kind="stable")
        uniq, starts = np.unique(keys[order], return_index=True)
        ends = list(starts[1:]) + [n]
        for s, e in zip(starts, ends):
            idx = order[s:e]
            bc, br = int(bcol[idx[0]]), int(brow[idx[0]])
            xoff, yoff = bc * self.bx, br * self.by
            w = min(self.bx, self.raster.width - xoff)
            h = min(self.by, self.raster.height - yoff)
            for k, (b, nd) in enumerate(zip(self.raster.bands, self.raster.nodata)):
                band = self.ds.GetRasterBand(b)
                arr = band.ReadAsArray(xoff, yoff, w, h)
                vals = arr[row[idx] - yoff, col[idx] - xoff].astype(np.float64)
                out[k, idx] = vals
                bad = np.isnan(vals)
                if nd is not None:
                    bad |= vals == nd
                flags = band.GetMaskFlags()
                if not flags & (gdal.GMF_ALL_VALID | gdal.GMF_NODATA):
                    # An alpha band or a mask (mosaics): 0 marks pixels without data.
                    m = band.GetMaskBand().ReadAsArray(xoff, yoff, w, h)
                    bad |= m[row[idx] - yoff, col[idx] - xoff] == 0
                valid[k, idx] = ~bad
        result = []
        for k in range(len(self.raster.bands)):
            result.append([float(v) if ok else None for v, ok in zip(out[k], valid[k])])
        return result

    def close(self) -> None:
        self.ds = None


def run_sampling(
    request: SampleRequest,
    progress: Optional[Callable[[float], None]] = None,
    cancel: Optional[Callable[[], bool]] = None,
) -> SampleResult:
    """Samples every band at every point and writes the CSV and/or GeoPackage."""
    t0 = time.perf_counter()
    raster = RasterInfo.open(request.raster, request.bands)
    source = ZoneSource(
        request.points, request.id_field, request.layer, request.points_crs, kind="points"
    )
    total = source.check_ids()
    preparer = ZonePreparer(source.crs_wkt, raster.crs_wkt, raster.extent, polygons=False)
    if request.csv_path is None and request.gpkg_path is None:
        r = Path(request.raster)
        stem = r.with_name(f"{r.stem}_samples")
        csv_path: Optional[str] = str(stem.with_suffix(".csv"))
        gpkg_path: Optional[str] = str(stem.with_suffix(".gpkg"))
    else:
        csv_path = str(request.csv_path) if request.csv_path else None
        gpkg_path = str(request.gpkg_path) if request.gpkg_path else None
    columns = list(raster.band_names)
    result = SampleResult(csv_path=csv_path, gpkg_path=gpkg_path, columns=columns, points=total)
    sampler = _BlockSampler(raster)
    scratch = ScratchRows()
    done = 0
    try:
        for batch in batches(source, preparer, request.batch_size):
            if cancel is not None and cancel():
                raise Cancelled("sampling cancelled")
            live: List[Zone] = []
            for z in batch:
                if z.geometry is not None and z.geometry.geom_type != "Point":
                    z.status, z.message = STATUS_INVALID, f"{z.geometry.geom_type} is not a point"
                    z.geometry = None
                if z.geometry is not None:
                    live.append(z)
            values: Dict[int, List[Optional[float]]] = {}
            if live:
                xy = np.array([(z.geometry.x, z.geometry.y) for z in live])
                col, row = sampler.pixels(xy)
                inside = (col >= 0) & (col < raster.width) & (row >= 0) & (row < raster.height)
                for k in np.flatnonzero(~inside):
                    live[k].status, live[k].message = STATUS_OUTSIDE, "outside the raster"
                ins = np.flatnonzero(inside)
                if len(ins):
                    per_band = sampler.sample(col[ins], row[ins])
                    for j, k in enumerate(ins):
                        values[live[k].index] = [per_band[b][j] for b in range(len(columns))]
            for z in batch:
                v = values.get(z.index)
                row_values = {c: None for c in columns}
                if v is not None:
                    row_values = dict(zip(columns, v))
                    if all(x is None for x in v):
                        z.status, z.message = STATUS_NODATA, "nodata at this point"
                    else:
                        result.sampled += 1
                if z.status == STATUS_OUTSIDE:
                    result.outside.append(z.id)
                elif z.status == STATUS_NODATA:
                    result.nodata.append(z.id)
                elif z.status == STATUS_INVALID:
                    result.invalid[z.id] = z.message
                scratch.add(z.id, z.status, z.message, z.source_geometry, row_values)
            done += len(batch)
            if progress is not None:
                progress(95.0 * done / max(total, 1))
        if result.sampled == 0 and len(result.nodata) == 0:
            raise ZonalError(
                f"points of {source.label} do not overlap raster {raster.path} "
                "(every point is outside it or invalid)"
            )
        id_field = source.id_field or "id"

        def xy_of(rec: Dict[str, Any]) -> List[Any]:
            if not rec["wkb"]:
                return [None, None]
            g = Geometry.from_wkb(rec["wkb"])
            return [g.x, g.y] if g.geom_type == "Point" else [None, None]

        if csv_path:
            write_csv(
                csv_path,
                id_field,
                columns,
                scratch,
                status_field="sample_status",
                extra=xy_of,
                extra_columns=["x", "y"],
            )
        if gpkg_path:
            write_gpkg(
                gpkg_path,
                Path(gpkg_path).stem,
                source.crs_wkt or raster.crs_wkt,
                id_field,
                source.id_type,
                {c: "real" for c in columns},
                scratch,
                geometry="point",
                status_field="sample_status",
            )
    finally:
        scratch.close()
        sampler.close()
    if progress is not None:
        progress(100.0)
    result.seconds = time.perf_counter() - t0
    log.info(
        "sampling: %d points (%d outside, %d nodata) in %.1f s",
        total,
        len(result.outside),
        len(result.nodata),
        result.seconds,
    )
    return result


__all__ = ["SampleRequest", "SampleResult", "run_sampling"]
