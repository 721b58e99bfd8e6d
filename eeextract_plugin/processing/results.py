"""Engine results → what Processing returns: files moved onto the destinations QGIS chose,
footprint / index layers from the engine's registry, tables under the layer's own id field."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List

from qgis.core import QgsProcessingContext, QgsProcessingFeedback


def move_file(source: str, destination: str) -> str:
    """Moves an engine output onto the destination QGIS chose (replacing it), returns it."""
    target = Path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    shutil.move(source, target)
    return str(target)


def job_outputs(result: Any) -> List[Any]:
    """The registry's records of a finished job's outputs (path, info: grid, image)."""
    from eeextract_plugin.core.registry import Registry, default_registry_path

    with Registry(default_registry_path(result.workdir)) as registry:
        return registry.outputs(result.job_id)


ENGINE_ID_COLUMN = "id"  # the engine's name for the region / point id in its tables


def rename_id_column_csv(path: str, id_field: str) -> None:
    """The table's id column under the layer's own id field name (so joins in QGIS just work)."""
    if not id_field or id_field == ENGINE_ID_COLUMN:
        return
    target = Path(path)
    lines = target.read_text(encoding="utf-8").split("\n", 1)
    header = lines[0].rstrip("\r").split(",")
    if ENGINE_ID_COLUMN in header and id_field not in header:
        header[header.index(ENGINE_ID_COLUMN)] = id_field
        target.write_text(",".join(header) + "\n" + (lines[1] if len(lines) > 1 else ""), encoding="utf-8")


def rename_id_field_gpkg(path: str, id_field: str) -> None:
    if not id_field or id_field == ENGINE_ID_COLUMN:
        return
    from osgeo import ogr

    ds = ogr.Open(str(path), 1)
    if ds is None:
        return
    try:
        for i in range(ds.GetLayerCount()):
            layer = ds.GetLayer(i)
            definition = layer.GetLayerDefn()
            index = definition.GetFieldIndex(ENGINE_ID_COLUMN)
            if index < 0 or definition.GetFieldIndex(id_field) >= 0:
                continue
            renamed = ogr.FieldDefn(id_field, definition.GetFieldDefn(index).GetType())
            layer.AlterFieldDefn(index, renamed, ogr.ALTER_NAME_FLAG)
    finally:
        ds = None


def _crs(text: str) -> Any:
    """A grid's CRS (an authority code or WKT) for QGIS."""
    from qgis.core import QgsCoordinateReferenceSystem

    if text.lstrip().upper().startswith(("PROJCS", "GEOGCS", "PROJCRS", "GEOGCRS", "COMPOUNDCRS", "BOUNDCRS")):
        return QgsCoordinateReferenceSystem.fromWkt(text)
    return QgsCoordinateReferenceSystem(text)


def _string_type() -> Any:
    """QgsField's string type: QMetaType from QGIS 3.38 on (the only one Qt6 builds accept),
    QVariant before (3.22-3.36)."""
    from qgis.core import Qgis

    if Qgis.QGIS_VERSION_INT >= 33800:
        from qgis.PyQt.QtCore import QMetaType

        return QMetaType.Type.QString
    from qgis.PyQt.QtCore import QVariant

    return QVariant.String


def write_footprints(algorithm: Any, sink_name: str, result: Any, parameters: Dict[str, Any],
                     context: QgsProcessingContext, feedback: QgsProcessingFeedback,
                     id_name: str = "id", image_fields: bool = False):
    """The core's footprints of the job's outputs (one polygon per file, from its pixel grid —
    also for PNG/JPEG chips, which carry no georeferencing of their own) into a Processing sink.
    The layer has the first output's CRS; outputs on other grids (e.g. per-tile UTM zones) are
    reprojected into it."""
    from qgis.core import (
        QgsCoordinateTransform,
        QgsFeature,
        QgsFeatureSink,
        QgsField,
        QgsFields,
        QgsGeometry,
        QgsPointXY,
        QgsWkbTypes,
    )

    from eeextract_plugin.core.postprocess import footprints

    items = footprints(job_outputs(result))
    fields = QgsFields()
    fields.append(QgsField(id_name, _string_type()))
    fields.append(QgsField("file", _string_type()))
    if image_fields:
        for name in ("image_id", "start", "end"):
            fields.append(QgsField(name, _string_type()))
    from qgis.core import QgsCoordinateReferenceSystem

    crs = _crs(items[0].crs) if items else QgsCoordinateReferenceSystem()
    sink, sink_id = algorithm.parameterAsSink(parameters, sink_name, context, fields,
                                              QgsWkbTypes.Polygon, crs)
    if sink is None:
        return len(items), None
    for item in items:
        geometry = QgsGeometry.fromPolygonXY([[QgsPointXY(x, y) for x, y in item.ring]])
        item_crs = _crs(item.crs)
        if item_crs != crs:
            geometry.transform(QgsCoordinateTransform(item_crs, crs, context.transformContext()))
        feature = QgsFeature(fields)
        feature.setGeometry(geometry)
        feature[id_name] = item.output_id
        feature["file"] = item.path
        if image_fields:
            feature["image_id"] = item.image_id
            feature["start"] = item.start
            feature["end"] = item.end
        sink.addFeature(feature, QgsFeatureSink.FastInsert)
    return len(items), sink_id
