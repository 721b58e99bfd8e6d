"""Loading a job's results into the project (main thread only).

* Mosaics and per-image rasters: raster layers in a group named after the job; three bands are
  shown as RGB, one band with a colour ramp (stretched on a sample of the pixels).
* Tables (zonal statistics, samples, time series): CSV or GeoPackage layers; a table with the
  zone id can be joined to the zone layer (:func:`join_table_to_zones`).
* Many outputs (chips, per feature, per image): the footprint index the engine wrote (one
  polygon per file, with its path) drawn as outlines above the rasters (it never hides them),
  and, when asked for, the VRT over them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List, Optional

from qgis.core import (
    QgsColorRampShader,
    QgsContrastEnhancement,
    QgsFillSymbol,
    QgsLayerTreeGroup,
    QgsMapLayer,
    QgsMultiBandColorRenderer,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsSingleBandPseudoColorRenderer,
    QgsSingleSymbolRenderer,
    QgsStyle,
    QgsVectorLayer,
    QgsVectorLayerJoinInfo,
)

from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)

RAMP_NAME = "Viridis"
FOOTPRINT_OUTLINE = "#e8710a"  # i18n: not translated (a colour)
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


def style_footprints(layer: QgsVectorLayer) -> None:
    """Outlines only: a footprint index sits above the rasters it indexes and must not hide them."""
    symbol = QgsFillSymbol.createSimple({"style": "no", "outline_color": FOOTPRINT_OUTLINE,  # i18n: not translated (symbol properties)
                                         "outline_width": "0.4", "outline_width_unit": "MM"})
    layer.setRenderer(QgsSingleSymbolRenderer(symbol))


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
        log.warning("could not load %s as a raster layer", path)
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
        log.warning("could not load %s as a table", path)
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
        log.warning("cannot join %s to %s: id field %s missing", table.name(), zones.name(), id_field)
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


def load_results(
    project: QgsProject,
    job_name: str,
    result: Any,
    job_id: str = "",
    max_rasters: int = 50,
) -> List[QgsMapLayer]:
    """Load a job's outputs (a core :class:`~eeextract_plugin.core.results.JobResult`) into the
    group named after the job; return the new layers. Zonal statistics tables are not loaded
    here (the jobs board joins them to their zones).

    Many small rasters (chips, per-image outputs beyond ``max_rasters``) are not loaded one by
    one: their footprint index and the VRT, when there is one, stand for them.
    """
    rasters = [str(p) for p in result.rasters]
    tables = [str(p) for p in result.tables]
    group = job_group(project, job_name)
    loaded: List[QgsMapLayer] = []
    existing = {
        lyr.source() for lyr in project.mapLayers().values()
        if lyr.customProperty(JOB_PROPERTY) == job_id and job_id
    }
    if result.index and result.index not in existing:
        lyr = load_table(result.index, project, group, job_id, name=tr("{job} footprints").format(job=job_name))
        if lyr is not None:
            style_footprints(lyr)
            loaded.append(lyr)
    if result.vrt and result.vrt not in existing:
        lyr = load_raster(result.vrt, project, group, job_id)
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
    log.info("job %s: %d layer(s) loaded", job_name, len(loaded))
    return loaded
