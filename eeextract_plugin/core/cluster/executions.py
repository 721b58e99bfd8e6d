"""The thread engine's executions with their units, finishing and post-processing as Dask tasks.

Each subclass keeps everything the client must do — the plan's units from the registry, the
adaptive concurrency and rate limit, retries and splits, progress, cancel, the registry written
as each task ends — and changes only where the work happens:

- direct: the client creates each unit's URL with its credentials (``request_kind`` ``auto``
  means ``url`` here); a worker GETs it and ``pwrite``\\ s the tile into the staging raster on
  shared storage (or writes the chip); a worker builds the COG from the staging VRT and runs the
  zonal statistics;
- tables: the client creates a table download URL per cell (GeoJSON); a worker GETs it and
  stages the rows by the thread engine's rule (:class:`~eeextract_plugin.core.tables.RowShape`);
  the client writes the CSV / GeoPackage from the staged rows, as on threads;
- exports: the client submits and tracks the Export tasks and lists their parts; workers
  download the parts (with storage credentials they load themselves: only the credential
  source's name travels), mosaic them into the output and run the zonal statistics.

A unit costs two requests here (create the URL, GET it), so the rate limiter counts units at
half the project's request rate.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from eeextract_plugin.core.cluster import tasks
from eeextract_plugin.core.cluster.units import ClusterUnits
from eeextract_plugin.core.context import ExecutionContext
from eeextract_plugin.core.direct import DirectExecution
from eeextract_plugin.core.export.execution import ExportExecution, storage_endpoint
from eeextract_plugin.core.export.parts import RemotePart
from eeextract_plugin.core.plan import OutputPlan, UnitPlan
from eeextract_plugin.core.registry import UnitRecord
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.tables import TableExecution
from eeextract_plugin.core.urls import create_table_url
from eeextract_plugin.core.writer import StagingRaster

log = logging.getLogger(__name__)

#: Earth Engine requests per unit on the cluster: the URL's creation and its GET.
REQUESTS_PER_UNIT = 2
#: Finished exports whose parts are downloaded and mosaicked at once (by the workers).
POST_PROCESSING_IN_FLIGHT = 16


def with_unit_rate(spec: JobSpec) -> JobSpec:
    """The spec with its request rate counted in units (two requests each)."""
    ex = dataclasses.replace(spec.execution,
                             requests_per_second=spec.execution.requests_per_second / REQUESTS_PER_UNIT)
    return dataclasses.replace(spec, execution=ex)


def _timeout(ctx: ExecutionContext) -> float:
    return float(getattr(getattr(ctx.session, "config", None), "request_timeout_s", 330.0))


class DaskDirectExecution(DirectExecution):
    """Direct tiles and chips on the cluster."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec, cluster: Any, cap: Any) -> None:
        super().__init__(ctx, job_id, with_unit_rate(spec))
        if self.urls is not None:  # the thread engine's own fetcher: workers fetch here
            self.urls.close()
            self.urls = None
        self.units = ClusterUnits(cluster, job_id, getattr(ctx.session, "quota", None), self.cancel, cap)
        self.project = str(getattr(ctx.session, "project", "") or "")
        self.timeout_s = _timeout(ctx)

    def handle(self, u: UnitPlan) -> int:
        out = self.outputs[u.output_id]
        grid = out.grid.window(u.col, u.row, u.width, u.height)
        img = self.image(u.output_id)
        if out.fetch == "NPY":
            st = self.staging(u.output_id)  # created here, written by the workers
            target = tasks.TileTarget(str(st.base), out.grid, tuple(out.bands), str(out.dtype),
                                      self.spec.output.nodata, u.col, u.row, u.width, u.height)
            url = self.source.pixels_url(img, grid, out.bands)
            return self.units.request(tasks.fetch_tile, url, self.project, self.timeout_s, target, label="tile")
        url = self.source.visualized_url(img, grid, out.fetch)
        tmp = self.publisher.temp_path(out.path)
        nbytes = self.units.request(tasks.fetch_picture, url, self.project, self.timeout_s, str(tmp), out.fetch,
                                    label="chip")
        try:
            self.publisher.publish_bytes(out.path, tmp.read_bytes())  # chips are small
        finally:
            tmp.unlink(missing_ok=True)
        return nbytes

    def write_output(self, st: StagingRaster, out: OutputPlan) -> None:
        # A worker writes the file under this job's temporary name; it is put in place here,
        # under the job's overwrite rule (the registry and the publisher stay on the client).
        tmp = self.publisher.temp_path(out.path)
        self.units.call(tasks.write_output, str(st.vrt_path), str(tmp), out.format, str(out.dtype),
                        self.spec.output.compression, self.spec.output.nodata, self.units.event_name,
                        label="cog")
        self.publisher.publish(tmp, out.path)

    def zonal_of(self, path: str) -> Tuple[List[str], Optional[str]]:
        return self.units.call(tasks.zonal, path, self.spec.zonal, label="zonal")


class DaskTableExecution(TableExecution):
    """Table cells and time series on the cluster (GeoJSON table downloads)."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec, cluster: Any, cap: Any) -> None:
        super().__init__(ctx, job_id, with_unit_rate(spec))
        self.units = ClusterUnits(cluster, job_id, getattr(ctx.session, "quota", None), self.cancel, cap)
        self.project = str(getattr(ctx.session, "project", "") or "")
        self.timeout_s = _timeout(ctx)

    def handle(self, unit: UnitRecord) -> int:
        collection, shape = self.query(unit)
        url = create_table_url(self.ee, collection)
        return self.units.request(tasks.fetch_rows, url, self.project, self.timeout_s, shape,
                                  str(self.unit_file(unit)), label="rows")


class DaskExportExecution(ExportExecution):
    """Export part downloads, their mosaic and zonal statistics on the cluster."""

    def __init__(self, ctx: ExecutionContext, job_id: str, spec: JobSpec, cluster: Any, cap: Any) -> None:
        super().__init__(ctx, job_id, spec)
        # The client only waits on these: the downloads and mosaics run on the workers.
        self.post_workers = POST_PROCESSING_IN_FLIGHT
        self.units = ClusterUnits(cluster, job_id, getattr(ctx.session, "quota", None), self.cancel, None)
        config = getattr(self.session, "config", None)
        self.recipe = tasks.StoreRecipe(spec.method, getattr(self.session, "project", None),
                                        storage_endpoint(self.session),
                                        str(getattr(config, "credentials", "persistent") or "persistent"))

    def download_parts(self, unit: UnitRecord, ex: Dict[str, Any], todo: List[RemotePart],
                       paths: Dict[str, Path], downloaded: set) -> int:
        total = [0]

        def landed(i: int, size: int) -> None:
            total[0] += int(size)
            self.part_downloaded(unit, ex, downloaded, todo[i].name)

        self.units.call_each(tasks.download_part,
                             [(self.recipe, p, str(paths[p.name]), self.units.event_name) for p in todo],
                             "part", landed)
        return total[0]

    def mosaic(self, part_paths: List[Path], vrt: Path, out: OutputPlan) -> None:
        tmp = self.publisher.temp_path(out.path)
        self.units.call(tasks.mosaic, [str(p) for p in part_paths], str(vrt), out,
                        self.spec.output.compression, self.spec.output.nodata, str(tmp), label="mosaic")
        self.publisher.publish(tmp, out.path)

    def zonal_of(self, path: str) -> Tuple[List[str], Optional[str]]:
        return self.units.call(tasks.zonal, path, self.spec.zonal, label="zonal")


__all__ = ["DaskDirectExecution", "DaskTableExecution", "DaskExportExecution", "with_unit_rate"]
