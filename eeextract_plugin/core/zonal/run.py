"""The entry point: :class:`ZonalRequest` → :func:`run_zonal` → :class:`ZonalResult`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.core.zonal.engines import (
    DEFAULT_ENGINE,
    choose_engine,
    empty_row,
    make_engine,
)
from eeextract_plugin.core.zonal.errors import ZonalError
from eeextract_plugin.core.zonal.outputs import ScratchRows, write_csv, write_gpkg
from eeextract_plugin.core.zonal.rasters import BandSelector, RasterInfo
from eeextract_plugin.core.zonal.statistics import class_label, parse_statistics
from eeextract_plugin.core.zonal.zones import (
    STATUS_INVALID,
    STATUS_OUTSIDE,
    ZoneInput,
    ZonePreparer,
    ZoneSource,
    batches,
)

log = logging.getLogger(__name__)

ProgressFn = Callable[[float], None]  # percent, 0..100 (the tasks' setProgress)
CancelFn = Callable[[], bool]


@dataclass
class ZonalRequest:
    """Zonal statistics of one raster over one set of zones.

    ``zones``: a vector file (with ``layer`` when it has several) or a list of
    ``(id, geometry)`` pairs (shapely, WKB, WKT or GeoJSON-like; ``zones_crs`` says their CRS,
    default the raster's). ``statistics``: names from :mod:`.statistics` (``mean``, ``p90``,
    ``frac``...). ``bands``: 1-based indexes or band names, default all. Outputs: ``csv_path``
    and/or ``gpkg_path``; when both are ``None``, ``<raster stem>_zonal.csv`` and ``.gpkg``
    are written next to the raster.
    """

    raster: Union[str, Path]
    zones: ZoneInput
    id_field: Optional[str] = None
    statistics: Sequence[str] = ("mean",)
    engine: str = DEFAULT_ENGINE
    layer: Optional[Union[str, int]] = None
    zones_crs: Any = None
    bands: Optional[Sequence[BandSelector]] = None
    csv_path: Optional[Union[str, Path]] = None
    gpkg_path: Optional[Union[str, Path]] = None
    batch_size: int = 500

    @classmethod
    def from_spec(
        cls, zonal: Any, raster: Union[str, Path], output_dir: Optional[Union[str, Path]] = None
    ) -> ZonalRequest:
        """From the job spec's ``zonal`` section (:class:`core.spec.Zonal` or its dict) for
        one finished raster. ``zonal.output`` is a folder (default: ``output_dir``, else the
        raster's folder) that receives ``<raster stem>_zonal.csv`` and ``.gpkg``; a path ending
        ``.csv`` or ``.gpkg`` names that one file instead. Relative paths are taken from
        ``output_dir`` (else the raster's folder)."""
        d = zonal.to_dict() if hasattr(zonal, "to_dict") else dict(zonal)
        raster = Path(raster)
        base = Path(output_dir) if output_dir is not None else raster.parent
        out = d.get("output")
        folder = base
        csv_path = gpkg_path = None
        if out:
            p = Path(out)
            p = p if p.is_absolute() else base / p
            if p.suffix.lower() == ".csv":
                csv_path = p
            elif p.suffix.lower() == ".gpkg":
                gpkg_path = p
            else:
                folder = p
        if csv_path is None and gpkg_path is None:
            stem = folder / f"{raster.stem}_zonal"
            csv_path, gpkg_path = stem.with_suffix(".csv"), stem.with_suffix(".gpkg")
        return cls(
            raster=raster,
            zones=d["polygons"],
            id_field=d.get("id_field"),
            statistics=d.get("statistics") or ["mean"],
            engine=d.get("engine") or DEFAULT_ENGINE,
            layer=d.get("layer"),
            bands=d.get("bands"),
            csv_path=csv_path,
            gpkg_path=gpkg_path,
        )


@dataclass
class ZonalResult:
    """What was written and what happened to the zones (ids listed, never silently lost)."""

    csv_path: Optional[str]
    gpkg_path: Optional[str]
    engine: str
    columns: List[str]
    zones: int = 0
    zones_with_data: int = 0
    outside: List[Any] = field(default_factory=list)
    repaired: List[Any] = field(default_factory=list)
    invalid: Dict[Any, str] = field(default_factory=dict)
    seconds: float = 0.0


def _resolve_outputs(req: ZonalRequest):
    if req.csv_path is None and req.gpkg_path is None:
        r = Path(req.raster)
        stem = r.with_name(f"{r.stem}_zonal")
        return str(stem.with_suffix(".csv")), str(stem.with_suffix(".gpkg"))
    return (
        str(req.csv_path) if req.csv_path else None,
        str(req.gpkg_path) if req.gpkg_path else None,
    )


def run_zonal(
    request: ZonalRequest, progress: Optional[ProgressFn] = None, cancel: Optional[CancelFn] = None
) -> ZonalResult:
    """Computes the statistics zone batch by zone batch and writes the CSV and/or GeoPackage.

    Raises :class:`ZonalError` (one line naming the problem) on bad input, before any output is
    written; :class:`Cancelled` when ``cancel()`` turns true (checked between batches).
    """
    t0 = time.perf_counter()
    engine_name = choose_engine(request.engine)
    stats = parse_statistics(request.statistics)
    if request.batch_size < 1:
        raise ZonalError(f"batch_size must be at least 1, not {request.batch_size}")
    raster = RasterInfo.open(request.raster, request.bands)
    source = ZoneSource(request.zones, request.id_field, request.layer, request.zones_crs)
    total = source.check_ids()
    preparer = ZonePreparer(source.crs_wkt, raster.crs_wkt, raster.extent)
    bounds = source.bounds()
    _check_overlap(bounds, preparer, raster, source)
    csv_path, gpkg_path = _resolve_outputs(request)

    engine = make_engine(engine_name, raster, stats)
    if engine_name != request.engine:
        log.info("zonal: engine %s runs for %r here", engine_name, request.engine)
    result = ZonalResult(
        csv_path=csv_path, gpkg_path=gpkg_path, engine=engine.name, columns=[], zones=total
    )
    scratch = ScratchRows()
    frac_classes: Dict[str, Dict[str, float]] = {b: {} for b in raster.band_names}
    blank = empty_row(raster.band_names, stats)
    done = 0
    try:
        for batch in batches(source, preparer, request.batch_size):
            if cancel is not None and cancel():
                raise Cancelled("zonal statistics cancelled")
            computed = iter(engine.compute(batch))
            for z in batch:
                values = next(computed) if z.geometry is not None else dict(blank)
                if z.geometry is not None:
                    result.zones_with_data += 1 if _has_data(values, raster.band_names) else 0
                    for band in raster.band_names:
                        prefix = f"{band}_frac_"
                        for k in values:
                            if k.startswith(prefix):
                                frac_classes[band].setdefault(k, _class_value(k, prefix))
                if z.status == STATUS_OUTSIDE:
                    result.outside.append(z.id)
                elif z.status == STATUS_INVALID:
                    result.invalid[z.id] = z.message
                elif z.status == "repaired":
                    result.repaired.append(z.id)
                scratch.add(z.id, z.status, z.message, z.source_geometry, values)
            done += len(batch)
            if progress is not None:
                progress(100.0 * done / max(total, 1) * 0.95)
        if len(result.outside) + len(result.invalid) == total and total > 0:
            raise ZonalError(
                f"zones of {source.label} do not overlap raster {raster.path} "
                "(every zone is outside it or invalid)"
            )
        columns: List[str] = []
        kinds: Dict[str, str] = {}
        for band in raster.band_names:
            for s in stats:
                if s.name == "frac":
                    for k, _ in sorted(frac_classes[band].items(), key=lambda kv: kv[1]):
                        columns.append(k)
                        kinds[k] = "real"
                else:
                    columns.append(s.column(band))
                    kinds[s.column(band)] = "int" if s.name == "variety" else "real"
        result.columns = columns
        id_field = source.id_field or "id"
        if csv_path:
            write_csv(csv_path, id_field, columns, scratch)
        if gpkg_path:
            write_gpkg(
                gpkg_path,
                Path(gpkg_path).stem,
                source.crs_wkt or raster.crs_wkt,
                id_field,
                source.id_type,
                {c: kinds[c] for c in columns},
                scratch,
            )
    finally:
        scratch.close()
        engine.close()
    if progress is not None:
        progress(100.0)
    result.seconds = time.perf_counter() - t0
    if result.invalid:
        log.warning(
            "zonal: %d zone(s) with unusable geometry: %s",
            len(result.invalid),
            ", ".join(f"{k} ({v})" for k, v in list(result.invalid.items())[:10]),
        )
    log.info(
        "zonal: %d zones (%d outside, %d repaired) with %s in %.1f s -> %s",
        total,
        len(result.outside),
        len(result.repaired),
        engine.name,
        result.seconds,
        ", ".join(p for p in (csv_path, gpkg_path) if p),
    )
    return result


def run_for_job(
    raster: Union[str, Path],
    zonal_spec: Any,
    output_dir: Optional[Union[str, Path]] = None,
    progress: Optional[ProgressFn] = None,
    cancel: Optional[CancelFn] = None,
) -> ZonalResult:
    """The engine's hook: zonal statistics of one finished raster as the job spec's ``zonal``
    section asks (see :meth:`ZonalRequest.from_spec` for where the files go)."""
    return run_zonal(ZonalRequest.from_spec(zonal_spec, raster, output_dir), progress, cancel)


def _class_value(column: str, prefix: str) -> float:
    label = column[len(prefix) :]
    try:
        return float(label.replace("m", "-").replace("_", "."))
    except ValueError:
        return float("inf")


def _has_data(values: Dict[str, Any], bands: List[str]) -> bool:
    return any(v not in (None, 0) for v in values.values())


def _check_overlap(bounds, preparer: ZonePreparer, raster: RasterInfo, source: ZoneSource) -> None:
    if bounds is None:
        raise ZonalError(f"zones of {source.label} have no geometry")
    try:
        xmin, ymin, xmax, ymax = preparer.transform_bounds(bounds)
    except Exception:  # bounds that cannot be transformed are checked zone by zone instead
        return
    rx0, ry0, rx1, ry1 = raster.extent
    if xmax < rx0 or xmin > rx1 or ymax < ry0 or ymin > ry1:
        raise ZonalError(
            f"zones of {source.label} do not overlap raster {raster.path}: zones extent "
            f"({xmin:.6g}, {ymin:.6g}, {xmax:.6g}, {ymax:.6g}) vs raster extent "
            f"({rx0:.6g}, {ry0:.6g}, {rx1:.6g}, {ry1:.6g}) in the raster's CRS"
        )


__all__ = ["ZonalRequest", "ZonalResult", "class_label", "run_for_job", "run_zonal"]
