"""Tables computed in Earth Engine: values at points, statistics per polygon, time series.

Work units (seed 001): features are grouped into grid cells (``table.cell_size``, default about
200 features per cell), so one ``reduceRegions`` request serves all the points or polygons of a
cell and any input tile is read once for its many neighbours. A time series is one request per
region (the collection mapped to one row per image). Each unit's rows are staged as a JSON file
(written atomically, then the unit is marked done), so a resumed job refetches nothing; when all
units are done the rows are written, sorted, to CSV and/or GeoPackage.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import math
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.errors import BadInput, JobAborted
from eeextract_plugin.core.fetch import TileFetcher, json_object
from eeextract_plugin.core.grid import PixelGrid, reproject
from eeextract_plugin.core.naming import unique_names
from eeextract_plugin.core.plan import EXTENSIONS, OutputPlan, Plan, RequestLimits, UnitPlan
from eeextract_plugin.core.progress import ProgressTracker
from eeextract_plugin.core.publish import Publisher
from eeextract_plugin.core.regions import RegionFeature, read_region, region_geojson_4326
from eeextract_plugin.core.registry import UnitRecord
from eeextract_plugin.core.results import JobResult
from eeextract_plugin.core.source import EarthEngineSource
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.writer import DiskFullError, write_atomic

log = logging.getLogger(__name__)

FEATURES_PER_CELL = 200


@dataclass(frozen=True)
class RowShape:
    """How one unit's answer (a FeatureCollection as JSON) becomes rows. Plain data, so the
    process that fetches the answer (a Dask worker) shapes the rows by the same rule.

    A time series (``feature_id`` set) gives one row per image for that region; a table one row
    per feature, its id from ``_eeid``; a one-band image's ``reduceRegions`` names the value
    after the reducer, so it is renamed after the band."""

    feature_id: Optional[str]
    bands: Tuple[str, ...]
    reducer: str

    def rows(self, result: Dict[str, Any]) -> List[Dict[str, Any]]:
        out = []
        for feat in result.get("features", []):
            props = dict(feat.get("properties") or {})
            if self.feature_id is not None:
                out.append({"id": self.feature_id, **props})
                continue
            fid = str(props.pop("_eeid", ""))
            if len(self.bands) == 1 and self.reducer in props and self.bands[0] not in props:
                props[self.bands[0]] = props.pop(self.reducer)
            out.append({"id": fid, **props})
        return out


def rows_bytes(rows: List[Dict[str, Any]]) -> bytes:
    """A unit's staged rows file."""
    return json.dumps(rows, sort_keys=True).encode()


@dataclass
class TableUnit:
    unit_id: str
    feature_ids: List[str]


def _cells(features: Sequence[RegionFeature], cell_size: Optional[float]) -> List[List[RegionFeature]]:
    if not features:
        return []
    pts = [f.geometry.representative_point() for f in features]
    xs = [p.x for p in pts]
    ys = [p.y for p in pts]
    if cell_size is None:
        w = max(max(xs) - min(xs), 1e-9)
        h = max(max(ys) - min(ys), 1e-9)
        n_cells = max(1, math.ceil(len(features) / FEATURES_PER_CELL))
        cell_size = max(w, h) / max(1, math.ceil(math.sqrt(n_cells))) * 1.0000001
    groups: Dict[Tuple[int, int], List[RegionFeature]] = defaultdict(list)
    x0, y0 = min(xs), min(ys)
    for f, p in zip(features, pts):
        groups[(int((p.x - x0) // cell_size), int((p.y - y0) // cell_size))].append(f)
    out = []
    for key in sorted(groups):
        g = groups[key]
        for i in range(0, len(g), 5 * FEATURES_PER_CELL):  # never huge requests
            out.append(g[i:i + 5 * FEATURES_PER_CELL])
    return out


def plan_table(session: Any, spec: JobSpec, limits: Optional[RequestLimits] = None) -> Plan:
    features = read_region(spec.region)
    src = EarthEngineSource(session, spec)
    src.describe(region_geojson_4326(features) if spec.source.type != "asset" else None)
    table = spec.table
    assert table is not None
    if spec.kind == "table" and table.operation == "sample":
        if any(f.geometry.geom_type != "Point" for f in features):
            raise BadInput(field="region", reason="table.operation 'sample' needs points")
    fmt = spec.output.format or "CSV+GPKG"
    directory = Path(spec.output.directory)
    name = spec.output_name
    outputs = []
    for f in ("CSV", "GPKG"):
        if f in fmt:
            outputs.append(OutputPlan(f.lower(), str(directory / f"{name}{EXTENSIONS[f]}"), f,
                                      PixelGrid("EPSG:4326", (1, 0, 0, 0, -1, 0), 0, 0), [], "float64",
                                      "TABLE"))
    units: List[UnitPlan] = []
    groups = [[f] for f in features] if spec.kind == "timeseries" else _cells(features, table.cell_size)
    for i, g in enumerate(groups):
        units.append(UnitPlan(f"cell/{i}", "table", 0, 0, len(g), 1, i, [f.id for f in g]))
    return Plan(outputs, units, 0, 0, 0, limits or RequestLimits(), method="direct",
                method_reason="tables are computed interactively")


class TableExecution:
    """One run (fresh or resumed) of a table or time-series job."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec) -> None:
        self.ctx = ctx
        self.reg = ctx.registry
        self.job_id = job_id
        self.spec = spec
        self.table = spec.table
        self.dir = ctx.staging_dir(job_id)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.features = {f.id: f for f in read_region(spec.region)}
        self.source = EarthEngineSource(ctx.session, spec)
        self.ee = ctx.session.ee
        self._image = None
        self._bands: Optional[List[str]] = None
        self.cancel = ctx.job_cancel_token(job_id)
        self._staging_names = unique_names(u.unit_id for u in self.reg.units(job_id))

    def image(self) -> Any:
        if self._image is None:
            self._image = self.source.image(None, region_geojson_4326(list(self.features.values()))
                                            if self.spec.source.type != "asset" else None)
        return self._image

    def band_names(self) -> List[str]:
        if self._bands is None:
            info = self.source.describe(region_geojson_4326(list(self.features.values()))
                                        if self.spec.source.type != "asset" else None)
            self._bands = info.band_names
        return self._bands

    def reducer(self) -> Any:
        r = self.table.reducer if self.table.operation != "sample" else "first"
        return getattr(self.ee.Reducer, r)()

    def unit_file(self, unit: UnitRecord) -> Path:
        """Where a unit's rows are staged (JSON; one safe, unique name per unit)."""
        return self.dir / f"{self._staging_names[unit.unit_id]}.json"

    def query(self, unit: UnitRecord) -> Tuple[Any, RowShape]:
        """The ``ee.FeatureCollection`` one unit computes, and how its answer becomes rows."""
        ee = self.ee
        ids = unit.params["feature_ids"]
        feats = [self.features[i] for i in ids]
        scale = self.table.scale or self.spec.grid.scale
        if self.spec.kind == "timeseries":
            return self._timeseries(feats[0], scale), RowShape(feats[0].id, (), "")
        fc = ee.FeatureCollection([
            ee.Feature(ee.Geometry(reproject(f.geometry, f.crs, "EPSG:4326").to_geojson()), {"_eeid": f.id})
            for f in feats])
        kwargs: Dict[str, Any] = {"collection": fc, "reducer": self.reducer()}
        if scale:
            kwargs["scale"] = scale
        rname = "first" if self.table.operation == "sample" else self.table.reducer
        return self.image().reduceRegions(**kwargs), RowShape(None, tuple(self.band_names()), rname)

    def handle(self, unit: UnitRecord) -> int:
        collection, shape = self.query(unit)
        answer = json_object(collection.getInfo)()  # a truncated body is retried
        return write_atomic(self.unit_file(unit), rows_bytes(shape.rows(answer)))

    def _timeseries(self, f: RegionFeature, scale: Optional[float]) -> Any:
        ee = self.ee
        geom = ee.Geometry(reproject(f.geometry, f.crs, "EPSG:4326").to_geojson())
        col = self.source.collection(region_geojson_4326([f]))
        src = self.spec.source
        reducer = self.reducer()
        index = src.index
        bands = src.bands

        def row(img: Any) -> Any:
            im = ee.Image(img)
            if bands:
                im = im.select(bands)
            if index:
                im = im.normalizedDifference(index["normalized_difference"]).rename(index["name"])
            kwargs: Dict[str, Any] = {"reducer": reducer, "geometry": geom}
            if scale:
                kwargs["scale"] = scale
            stats = im.reduceRegion(**kwargs)
            return ee.Feature(None, stats).set({"image_id": ee.Image(img).get("system:index"),
                                                "time": ee.Image(img).get("system:time_start")})

        return ee.FeatureCollection(col.map(row))

    def run(self) -> JobResult:
        t0 = time.monotonic()
        self.reg.set_job_state(self.job_id, reg.RUNNING, None, os.getpid())
        for u in self.reg.units(self.job_id, [reg.DONE]):  # rows staged per unit: refetch lost ones
            if not self.unit_file(u).exists():
                self.reg.mark_unit(self.job_id, u.unit_id, reg.PENDING)
        live = [u for u in self.reg.units(self.job_id) if u.state != reg.SPLIT]
        todo = [u for u in live if u.state != reg.DONE]
        tracker = ProgressTracker(len(live), self.ctx.progress, done=len(live) - len(todo))
        ex = self.spec.execution

        def on_done(u: UnitRecord, nbytes: int, attempts: int) -> None:
            self.reg.mark_unit(self.job_id, u.unit_id, reg.DONE, nbytes=nbytes, attempts=attempts)
            tracker.unit_done(nbytes)

        def on_failed(u: UnitRecord, msg: str, attempts: int) -> None:
            self.reg.mark_unit(self.job_id, u.unit_id, reg.FAILED, error=msg, attempts=attempts)
            tracker.unit_done(0, failed=True)

        cancel = self.cancel
        notices: List[str] = []
        fetcher: TileFetcher[UnitRecord] = TileFetcher(
            self.handle, cancel=cancel, on_done=on_done, on_failed=on_failed,
            **self.ctx.fetch_options(ex, tracker, notices))
        state, message = reg.COMPLETED, None
        try:
            fetcher.run(todo)
        except JobAborted as exc:
            state, message = reg.FAILED, str(exc)
        except DiskFullError as exc:
            state, message = reg.FAILED, f"disk full: {exc.strerror or exc} — free space and resume"
        if state == reg.COMPLETED and cancel.cancelled and self.reg.units(self.job_id, [reg.PENDING, reg.FAILED]):
            state, message = reg.CANCELLED, "cancelled; resume to finish"
        elif state == reg.COMPLETED and fetcher.stats.failures:
            state, message = reg.FAILED, f"{fetcher.stats.failures} unit(s) failed after retries; resume to retry them"
        outputs: List[str] = []
        if state == reg.COMPLETED:
            try:
                outputs = self.write_outputs()
            except OSError as exc:
                state, message = reg.FAILED, f"writing the table failed: {exc}"
        counts = self.reg.unit_counts(self.job_id)
        self.reg.set_job_state(self.job_id, state, message, None)
        return JobResult(self.job_id, state, message, tables=outputs, units_total=len(live),
                         units_done=counts.get(reg.DONE, 0), units_failed=counts.get(reg.FAILED, 0),
                         bytes=counts.get("bytes_done", 0), elapsed_s=time.monotonic() - t0,
                         workdir=str(self.ctx.workdir), stats=fetcher.stats, notices=notices)

    def rows(self) -> List[Dict[str, Any]]:
        rows: List[Dict[str, Any]] = []
        for u in self.reg.units(self.job_id, [reg.DONE]):
            rows += json.loads(self.unit_file(u).read_text())
        rows.sort(key=lambda r: (_natural(r.get("id")), r.get("time") or 0))
        return rows

    def write_outputs(self) -> List[str]:
        rows = self.rows()
        keys: List[str] = ["id"]
        for r in rows:
            for k in r:
                if k not in keys:
                    keys.append(k)
        if "time" in keys:
            keys.remove("time")
            keys.insert(1, "time")
            for r in rows:
                if r.get("time") is not None and "date" not in r:
                    r["date"] = dt.datetime.fromtimestamp(r["time"] / 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            keys.insert(2, "date")
        paths = []
        publisher = Publisher(self.reg, self.job_id, self.spec.output.overwrite)
        for rec in self.reg.outputs(self.job_id):
            path = Path(rec.path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = publisher.temp_path(path)
            if rec.output_id == "csv":
                with open(tmp, "w", newline="", encoding="utf-8") as fh:
                    w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
                    w.writeheader()
                    for r in rows:
                        w.writerow({k: r.get(k, "") for k in keys})
            else:
                self._write_gpkg(tmp, rows, keys)
            publisher.publish(tmp, path)
            self.reg.set_output_state(self.job_id, rec.output_id, reg.DONE)
            paths.append(str(path))
        return paths

    def _write_gpkg(self, path: Path, rows: List[Dict[str, Any]], keys: List[str]) -> None:
        from osgeo import ogr, osr

        if path.exists():
            path.unlink()
        ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
        if ds is None:
            raise OSError(f"cannot create {path}")
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(4326)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        lyr = ds.CreateLayer(self.spec.output_name, srs, ogr.wkbUnknown)
        types: Dict[str, int] = {}
        for k in keys:
            vals = [r.get(k) for r in rows if r.get(k) is not None]
            if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
                types[k] = ogr.OFTReal if any(isinstance(v, float) for v in vals) else ogr.OFTInteger64
            else:
                types[k] = ogr.OFTString
            lyr.CreateField(ogr.FieldDefn(k, types[k]))
        lyr.StartTransaction()
        for r in rows:
            feat = ogr.Feature(lyr.GetLayerDefn())
            f = self.features.get(str(r.get("id")))
            if f is not None:
                g = reproject(f.geometry, f.crs, "EPSG:4326")
                feat.SetGeometry(g.ogr)
            for k in keys:
                v = r.get(k)
                if v is None:
                    continue
                feat.SetField(k, v if types[k] != ogr.OFTString else str(v))
            lyr.CreateFeature(feat)
        lyr.CommitTransaction()
        feat = None  # noqa: F841 - release OGR objects before their dataset (GDAL 3.6 crashes)
        lyr = None  # noqa: F841
        ds = None  # noqa: F841


def _natural(v: Any) -> Tuple[int, Any]:
    s = str(v)
    return (0, int(s)) if s.isdigit() else (1, s)


__all__ = ["plan_table", "TableExecution", "RowShape", "rows_bytes"]
