"""QGIS things (layers, extents, CRSs) as the job spec's region: plain data.

Main thread only (it reads layers). The job form calls :func:`region_from_extent`,
:func:`region_from_features`, ... and assembles a dict that :meth:`JobSpec.from_dict` validates:
the dock builds exactly what a job file would contain.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, Dict, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsJsonExporter,
    QgsProviderRegistry,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)


class FormError(BadInput):
    """Something the form cannot turn into a spec; ``field`` names the spec field."""


def _no_features(selected_only: bool) -> str:
    return tr("no features selected") if selected_only else tr("the layer has no features")


def crs_string(crs: QgsCoordinateReferenceSystem) -> str:
    """``EPSG:4326`` style when QGIS knows an authority id, WKT otherwise."""
    if not crs.isValid():
        raise FormError(tr("the CRS is not a valid coordinate reference system"))
    authid = crs.authid()
    if authid and not authid.upper().startswith("USER:"):  # USER:n means nothing outside QGIS
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WKT_PREFERRED)


def _round(v: float) -> float:
    return float(f"{v:.10g}")


def region_from_extent(extent: QgsRectangle, crs: QgsCoordinateReferenceSystem) -> Dict[str, Any]:
    if extent.isNull() or extent.isEmpty():
        raise FormError(field="region", reason=tr("the extent is empty"))
    return {"type": "bbox",
            "bbox": [_round(extent.xMinimum()), _round(extent.yMinimum()),
                     _round(extent.xMaximum()), _round(extent.yMaximum())],
            "crs": crs_string(crs)}


def layer_file(layer: QgsVectorLayer) -> Optional[Dict[str, str]]:
    """``{"path", "layer"?}`` when the layer is read straight from a file by OGR, else None."""
    if layer is None or layer.providerType() != "ogr":
        return None
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    path = parts.get("path") or ""
    if not path or not Path(path).is_file():
        return None
    if parts.get("subset"):
        return None  # a filtered layer: its file holds more than the layer shows
    out = {"path": str(Path(path).resolve())}
    if parts.get("layerName"):
        out["layer"] = str(parts["layerName"])
    return out


def _features(layer: QgsVectorLayer, selected_only: bool):
    if selected_only:
        return list(layer.getSelectedFeatures())
    return list(layer.getFeatures(QgsFeatureRequest()))


def geometry_geojson(layer: QgsVectorLayer, selected_only: bool) -> Dict[str, Any]:
    """The union of the layer's (selected) features as one GeoJSON (Multi)Polygon/(Multi)Point."""
    feats = _features(layer, selected_only)
    geoms = [f.geometry() for f in feats if f.hasGeometry()]
    if not geoms:
        raise FormError(field="region", reason=_no_features(selected_only))
    collected = QgsGeometry.collectGeometry(geoms)
    if collected.isMultipart() and collected.constGet().numGeometries() == 1:
        collected = QgsGeometry(collected.constGet().geometryN(0).clone())  # one part: not Multi
    if collected.type() == QgsWkbTypes.PolygonGeometry:
        collected = collected.makeValid() if not collected.isGeosValid() else collected
    return json.loads(collected.asJson(10))


def write_features_geojson(layer: QgsVectorLayer, selected_only: bool, path: Path) -> str:
    """A GeoJSON copy of the layer's (selected) features, in the layer's CRS, for the engine."""
    feats = _features(layer, selected_only)
    if not feats:
        raise FormError(field="region", reason=_no_features(selected_only))
    exporter = QgsJsonExporter(layer, 10)
    exporter.setTransformGeometries(False)
    collection = json.loads(exporter.exportFeatures(feats))
    collection["crs"] = {"type": "name", "properties": {"name": crs_string(layer.crs())}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(collection), encoding="utf-8")
    return str(path.resolve())


def region_from_features(layer: QgsVectorLayer, selected_only: bool, per_feature: bool,
                         id_field: str = "", copy_dir: Optional[Path] = None) -> Dict[str, Any]:
    """Region for features of a layer.

    ``per_feature`` (one output per feature, chips at points): the layer's file when it is one,
    else a GeoJSON copy written to ``copy_dir`` (only when the job is started). Otherwise the
    union of the (selected) features as an inline geometry.
    """
    if layer is None or not isinstance(layer, QgsVectorLayer):
        raise FormError(field="region", reason=tr("choose a vector layer"))
    crs = crs_string(layer.crs())
    if not per_feature:
        return {"type": "geometry", "geometry": geometry_geojson(layer, selected_only), "crs": crs}
    # A file carries its own CRS: the engine reads it there (a "crs" here would be ignored).
    region: Dict[str, Any] = {"type": "file"}
    source = None if selected_only else layer_file(layer)
    if source is not None:
        region.update(source)
    elif copy_dir is not None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", layer.name()) or "region"
        region["path"] = write_features_geojson(layer, selected_only, copy_dir / f"{safe}-region.geojson")
    else:
        # Not written yet (estimate, preview): the features' union stands in for the file.
        return {"type": "geometry", "geometry": geometry_geojson(layer, selected_only), "crs": crs,
                **({"id_field": id_field} if id_field else {})}
    if id_field:
        region["id_field"] = id_field
    return region


def geometry_from_geojson(geometry: Dict[str, Any]) -> QgsGeometry:
    """A GeoJSON geometry (a spec's inline region) as a QgsGeometry."""
    from osgeo import ogr

    ogr_geometry = ogr.CreateGeometryFromJson(json.dumps(geometry))
    if ogr_geometry is None:
        raise FormError(field="region.geometry", reason=tr("is not a GeoJSON geometry"))
    return QgsGeometry.fromWkt(ogr_geometry.ExportToWkt())
