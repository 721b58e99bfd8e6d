"""Post-processing of finished outputs, the same for every execution and every front end:

- :func:`zonal_for_output` — the spec's zonal statistics on one finished raster;
- :func:`footprints` / :func:`write_index` — one polygon per output (its pixel grid's bounds)
  with its id, file and image dates: the index of chips, per-feature rasters and per-image
  rasters, written as a GeoPackage next to them. It comes from the plan's grids, so PNG / JPEG
  chips, which carry no georeferencing of their own, are indexed too;
- :func:`write_vrt` — a VRT over the job's georeferenced rasters (``output.vrt``).

GDAL/OGR only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from eeextract_plugin.core.registry import OutputRecord
from eeextract_plugin.core.zonal import ZonalRequest, run_for_job

log = logging.getLogger(__name__)

INDEX_LAYER = "footprints"
INDEX_FIELDS = ("id", "file", "image_id", "start", "end")


def zonal_for_output(raster: Union[str, Path], zonal_spec: Any) -> Tuple[List[str], Optional[str]]:
    """Zonal statistics of one finished raster as the spec's ``zonal`` section asks: the files
    written, and the error (``"<file>: <reason>"``) or None. A failure never loses the raster:
    the job ends ``completed_with_failures`` saying so."""
    try:
        res = run_for_job(raster, zonal_spec)
    except Exception as exc:  # noqa: BLE001 — reported in the job's result
        log.error("zonal statistics of %s failed: %s", raster, exc)
        return [], f"{Path(raster).name}: {exc}"
    return [str(p) for p in (res.csv_path, res.gpkg_path) if p], None


def zonal_files_for(raster: Union[str, Path], zonal_spec: Any) -> List[str]:
    """The zonal statistics tables of one raster that exist (where :func:`zonal_for_output`
    writes them)."""
    request = ZonalRequest.from_spec(zonal_spec, raster)
    return [str(p) for p in (request.csv_path, request.gpkg_path) if p is not None and Path(p).is_file()]


@dataclass(frozen=True)
class Footprint:
    """One output's footprint: a closed ring in ``crs`` and what the index says of it."""

    output_id: str
    path: str
    crs: str
    ring: Tuple[Tuple[float, float], ...]
    image_id: str = ""
    start: str = ""
    end: str = ""


def _ring(grid: dict, per_side: int = 8) -> Tuple[Tuple[float, float], ...]:
    """The grid's outline, each side cut in ``per_side`` segments (so it bends when reprojected)."""
    sx, hx, tx, hy, sy, ty = grid["transform"]
    w, h = grid["width"], grid["height"]

    def xy(c: float, r: float) -> Tuple[float, float]:
        return (tx + sx * c + hx * r, ty + hy * c + sy * r)

    pts: List[Tuple[float, float]] = []
    for (c0, r0), (c1, r1) in (((0, 0), (w, 0)), ((w, 0), (w, h)), ((w, h), (0, h)), ((0, h), (0, 0))):
        for i in range(per_side):
            f = i / per_side
            pts.append(xy(c0 + (c1 - c0) * f, r0 + (r1 - r0) * f))
    pts.append(pts[0])
    return tuple(pts)


def footprints(records: Sequence[OutputRecord], done_only: bool = True) -> List[Footprint]:
    """Footprints of a job's raster outputs (from the registry's records)."""
    out = []
    for rec in records:
        if done_only and rec.state != "done":
            continue
        grid = rec.info.get("grid") or {}
        if not grid.get("width") or rec.info.get("fetch") == "TABLE":
            continue
        image = rec.info.get("image") or {}
        start = image.get("start") or ""
        if not start and image.get("time_ms") is not None:
            start = datetime.fromtimestamp(image["time_ms"] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(Footprint(rec.output_id, rec.path, grid["crs"], _ring(grid),
                             image.get("image_id") or "", start, image.get("end") or ""))
    return out


def _srs(crs: str) -> Any:
    from osgeo import osr

    srs = osr.SpatialReference()
    if srs.SetFromUserInput(crs) != 0:
        raise ValueError(f"unknown CRS {crs[:60]!r}")
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def write_index(items: Sequence[Footprint], path: Union[str, Path], layer_name: str = INDEX_LAYER,
                publisher: Any = None) -> Optional[str]:
    """A GeoPackage of ``items`` (written to a temporary name, then put in place by the job's
    ``publisher``, or renamed). One CRS: the outputs' own when they share one, else EPSG:4326.
    None when there is nothing to index."""
    if not items:
        return None
    from osgeo import ogr, osr

    crs = items[0].crs if all(f.crs == items[0].crs for f in items) else "EPSG:4326"
    target_srs = _srs(crs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = publisher.temp_path(path) if publisher is not None else path.with_name(f".{path.stem}.part{path.suffix}")
    if tmp.exists():
        tmp.unlink()
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
    if ds is None:
        raise OSError(f"cannot create {path}")
    layer = ds.CreateLayer(layer_name, target_srs, ogr.wkbPolygon)
    for name in INDEX_FIELDS:
        layer.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    transforms: dict = {}
    layer.StartTransaction()
    for item in items:
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in item.ring:
            ring.AddPoint_2D(float(x), float(y))
        poly = ogr.Geometry(ogr.wkbPolygon)
        poly.AddGeometry(ring)
        if item.crs != crs:
            if item.crs not in transforms:
                transforms[item.crs] = osr.CoordinateTransformation(_srs(item.crs), target_srs)
            poly.Transform(transforms[item.crs])
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetGeometry(poly)
        for name, value in zip(INDEX_FIELDS, (item.output_id, item.path, item.image_id, item.start, item.end)):
            feat.SetField(name, value)
        layer.CreateFeature(feat)
        feat = None
    layer.CommitTransaction()
    layer = None  # noqa: F841 — OGR objects released before their dataset (GDAL 3.6)
    ds = None  # noqa: F841
    if publisher is not None:
        publisher.publish(tmp, path)
    else:
        os.replace(tmp, path)
    return str(path)


def write_vrt(rasters: Sequence[str], path: Union[str, Path], publisher: Any = None) -> Optional[str]:
    """A VRT over the georeferenced rasters among ``rasters`` (those in the first one's CRS;
    GDAL skips others with a warning). None when fewer than two."""
    from osgeo import gdal

    tiffs = [p for p in rasters if p.lower().endswith((".tif", ".tiff"))]
    if len(tiffs) < 2:
        return None
    path = Path(path)
    tmp = publisher.temp_path(path) if publisher is not None else path
    ds = gdal.BuildVRT(str(tmp), [str(p) for p in tiffs])
    if ds is None:
        log.warning("could not build %s: %s", path, gdal.GetLastErrorMsg())
        return None
    ds = None  # noqa: F841 — written on close
    if publisher is not None:
        publisher.publish(tmp, path)
    return str(path)


__all__ = ["zonal_for_output", "zonal_files_for", "Footprint", "footprints", "write_index", "write_vrt"]
