"""Loading a job's results into the project (main thread only).

* Mosaics and per-image rasters: raster layers in a group named after the job; three bands are
  shown as RGB, one band with a colour ramp (stretched on a sample of the pixels).
* Tables (zonal statistics, samples, time series): CSV or GeoPackage layers; a table with the
  zone id can be joined to the zone layer (:func:`join_table_to_zones`).
* Chips: a footprint layer (one polygon per chip, with its file path) or a VRT; the index is
  built by :func:`write_chip_index` on a worker thread (no QGIS objects involved), and loaded
  here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMultiBandColorRenderer,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsVectorLayer,
    QgsVectorLayerJoinInfo,
)

LOGGER = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".png", ".jpg", ".jpeg")
TABLE_SUFFIXES = (".csv", ".gpkg", ".geojson", ".shp")
RAMP_NAME = "Viridis"
# The layer's custom property naming the job it came from (to find a job's layers again).
JOB_PROPERTY = "eeextract/job_id"


def job_group(project: QgsProject, job_name: str) -> QgsLayerTreeGroup:
    """The layer-tree group named after the job (created at the top when missing)."""
    root = project.layerTreeRoot()
    group = root.findGroup(job_name)
    if group is None:
        group = root.insertGroup(0, job_name)
        group.setExpanded(True)
    return group


def _add_to_group(project: QgsProject, layer: QgsMapLayer, group: QgsLayerTreeGroup) -> None:
    project.addMapLayer(layer, False)
    group.addLayer(layer)


def style_raster(layer: QgsRasterLayer) -> None:
    """RGB for three or more bands, a colour ramp for one; stretched on a pixel sample."""
    provider = layer.dataProvider()
    bands = layer.bandCount()
    if bands >= 3:
        renderer = QgsMultiBandColorRenderer(provider, 1, 2, 3)
        for band, setter in ((1, renderer.setRedContrastEnhancement),
                             (2, renderer.setGreenContrastEnhancement),
                             (3, renderer.setBlueContrastEnhancement)):
            lo, hi = _stretch(layer, band)
            ce = QgsContrastEnhancement(provider.dataType(band))
            ce.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
            ce.setMinimumValue(lo)
            ce.setMaximumValue(hi)
            setter(ce)
        layer.setRenderer(renderer)
    elif bands == 1:
        lo, hi = _stretch(layer, 1)
        ramp = QgsStyle.defaultStyle().colorRamp(RAMP_NAME)
        shader_fn = QgsColorRampShader(lo, hi)
        shader_fn.setColorRampType(QgsColorRampShader.Interpolated)
        if ramp is not None:
            shader_fn.setSourceColorRamp(ramp)
            shader_fn.classifyColorRamp(5, -1)
        shader = QgsRasterShader()
        shader.setRasterShaderFunction(shader_fn)
        renderer = QgsSingleBandPseudoColorRenderer(provider, 1, shader)
        renderer.setClassificationMin(lo)
        renderer.setClassificationMax(hi)
        layer.setRenderer(renderer)
    layer.triggerRepaint()


def _stretch(layer: QgsRasterLayer, band: int) -> tuple[float, float]:
    """2–98 % cumulative cut on a sample of at most 250,000 pixels (uses overviews of a COG)."""
    provider = layer.dataProvider()
    try:
        lo, hi = provider.cumulativeCut(band, 0.02, 0.98, layer.extent(), 250000)
    except Exception:  # noqa: BLE001 - fall back on the band's statistics
        lo, hi = float("nan"), float("nan")
    if not (lo == lo and hi == hi) or hi <= lo:  # NaN or flat
        stats = provider.bandStatistics(band, QgsRasterBandStats.Min | QgsRasterBandStats.Max,
                                        layer.extent(), 250000)
        lo, hi = stats.minimumValue, stats.maximumValue
        if hi <= lo:
            hi = lo + 1.0
    return float(lo), float(hi)


def load_raster(path: str, project: QgsProject, group: QgsLayerTreeGroup, job_id: str = "",
                name: Optional[str] = None) -> Optional[QgsRasterLayer]:
    layer = QgsRasterLayer(str(path), name or Path(path).stem, "gdal")
    if not layer.isValid():
        LOGGER.warning("could not load %s as a raster layer", path)
        return None
    style_raster(layer)
    if job_id:
        layer.setCustomProperty(JOB_PROPERTY, job_id)
    _add_to_group(project, layer, group)
    return layer


def load_table(path: str, project: QgsProject, group: QgsLayerTreeGroup, job_id: str = "",
               name: Optional[str] = None) -> Optional[QgsVectorLayer]:
    """A CSV (read with field types guessed) or a GeoPackage / GeoJSON as a vector layer."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        uri = f"{p.resolve().as_uri()}?type=csv&detectTypes=yes&geomType=none"
        layer = QgsVectorLayer(uri, name or p.stem, "delimitedtext")
    else:
        layer = QgsVectorLayer(str(p), name or p.stem, "ogr")
    if not layer.isValid():
        LOGGER.warning("could not load %s as a table", path)
        return None
    if job_id:
        layer.setCustomProperty(JOB_PROPERTY, job_id)
    _add_to_group(project, layer, group)
    return layer


def join_table_to_zones(zones: QgsVectorLayer, table: QgsVectorLayer, id_field: str,
                        table_id_field: Optional[str] = None, prefix: str = "") -> bool:
    """Join ``table`` to ``zones`` on the zone id (a live join, saved with the project)."""
    table_id_field = table_id_field or id_field
    if zones.fields().indexOf(id_field) < 0 or table.fields().indexOf(table_id_field) < 0:
        LOGGER.warning("cannot join %s to %s: id field %s missing", table.name(), zones.name(), id_field)
        return False
    for existing in zones.vectorJoins():
        if existing.joinLayerId() == table.id():
            return True
    info = QgsVectorLayerJoinInfo()
    info.setJoinLayer(table)
    info.setJoinFieldName(table_id_field)
    info.setTargetFieldName(id_field)
    info.setUsingMemoryCache(True)
    info.setPrefix(prefix if prefix else f"{table.name()}_")
    return zones.addJoin(info)


def find_vector_layer(project: QgsProject, path: str, sublayer: Optional[str] = None) -> Optional[QgsVectorLayer]:
    """The project's vector layer reading ``path`` (and ``sublayer``), if there is one."""
    from qgis.core import QgsProviderRegistry

    wanted = str(Path(path).resolve())
    for layer in project.mapLayers().values():
        if not isinstance(layer, QgsVectorLayer) or layer.providerType() != "ogr":
            continue
        parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
        if parts.get("path") and str(Path(parts["path"]).resolve()) == wanted and (
                not sublayer or parts.get("layerName") == sublayer):
            return layer
    return None


def write_chip_index(chip_paths: Sequence[str], index_path: str) -> str:
    """A GeoJSON of chip footprints (polygon, ``path``, ``name``) in the chips' CRS.

    Pure GDAL/OGR, no QGIS object: safe on a worker thread. Chips without georeferencing (PNG
    without a world file) are skipped. Returns ``index_path``.
    """
    from osgeo import gdal, osr

    features = []
    crs_wkt = None
    for path in chip_paths:
        ds = gdal.Open(str(path))
        if ds is None:
            continue
        gt = ds.GetGeoTransform(can_return_null=True)
        if gt is None:
            continue
        w, h = ds.RasterXSize, ds.RasterYSize
        xs = [gt[0], gt[0] + w * gt[1]]
        ys = [gt[3], gt[3] + h * gt[5]]
        ring = [[min(xs), min(ys)], [max(xs), min(ys)], [max(xs), max(ys)],
                [min(xs), max(ys)], [min(xs), min(ys)]]
        crs_wkt = crs_wkt or ds.GetProjection()
        features.append({"type": "Feature",
                         "properties": {"name": Path(path).stem, "path": str(Path(path).resolve())},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
        ds = None
    collection: dict = {"type": "FeatureCollection", "features": features}
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
        code = srs.GetAuthorityCode(None)
        name = srs.GetAuthorityName(None)
        if code and name:
            collection["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{name}::{code}"}}
    Path(index_path).write_text(json.dumps(collection), encoding="utf-8")
    return index_path


def build_vrt(raster_paths: Sequence[str], vrt_path: str) -> Optional[str]:
    """A VRT mosaic of many rasters of one CRS (worker-safe, GDAL only)."""
    from osgeo import gdal

    ds = gdal.BuildVRT(str(vrt_path), [str(p) for p in raster_paths])
    if ds is None:
        return None
    ds = None
    return vrt_path


def load_results(
    project: QgsProject,
    job_name: str,
    paths: Iterable[str],
    job_id: str = "",
    chip_index: Optional[str] = None,
    max_rasters: int = 50,
) -> List[QgsMapLayer]:
    """Load a job's outputs into the group named after the job; return the new layers.

    Many small rasters (chips, per-image outputs beyond ``max_rasters``) are not loaded one by
    one: their index (footprints or VRT) stands for them.
    """
    paths = [str(p) for p in paths]
    rasters = [p for p in paths if p.lower().endswith(RASTER_SUFFIXES)]
    tables = [p for p in paths if p.lower().endswith(TABLE_SUFFIXES) and p != chip_index]
    group = job_group(project, job_name)
    loaded: List[QgsMapLayer] = []
    existing = {
        lyr.source() for lyr in project.mapLayers().values()
        if lyr.customProperty(JOB_PROPERTY) == job_id and job_id
    }
    if chip_index:
        lyr = load_table(chip_index, project, group, job_id, name=f"{job_name} footprints")
        if lyr is not None:
            loaded.append(lyr)
    if len(rasters) <= max_rasters:
        for path in rasters:
            if path in existing:
                continue
            lyr = load_raster(path, project, group, job_id)
            if lyr is not None:
                loaded.append(lyr)
    for path in tables:
        if path in existing:
            continue
        # A CSV and a GeoPackage of the same table: the GeoPackage (it has geometry) wins.
        if path.lower().endswith(".csv") and str(Path(path).with_suffix(".gpkg")) in tables:
            continue
        lyr = load_table(path, project, group, job_id)
        if lyr is not None:
            loaded.append(lyr)
    # A view cannot expand a group that was empty when it appeared: toggle so it syncs now.
    group.setExpanded(False)
    group.setExpanded(True)
    LOGGER.info("job %s: %d layer(s) loaded", job_name, len(loaded))
    return loaded
