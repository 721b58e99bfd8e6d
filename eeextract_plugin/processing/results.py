"""Engine results → what Processing returns: files moved onto the destinations QGIS chose,
footprint / index layers from the engine's registry, tables under the layer's own id field."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
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
    """One polygon per output of the job (its pixel grid's bounds) with the output's id and file,
    from the engine's registry — also for PNG/JPEG chips, which carry no georeferencing of their
    own. The layer has the first output's CRS; outputs on other grids (e.g. per-tile UTM zones)
    are reprojected into it."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsFeatureSink,
        QgsField,
        QgsFields,
        QgsGeometry,
        QgsRectangle,
        QgsWkbTypes,
    )
    records = [r for r in job_outputs(result) if r.path in set(result.outputs) or r.state == "done"]
    fields = QgsFields()
    fields.append(QgsField(id_name, _string_type()))
    fields.append(QgsField("file", _string_type()))
    if image_fields:
        for name in ("image_id", "start", "end"):
            fields.append(QgsField(name, _string_type()))
    crs = _crs(records[0].info["grid"]["crs"]) if records else QgsCoordinateReferenceSystem()
    sink, sink_id = algorithm.parameterAsSink(parameters, sink_name, context, fields,
                                              QgsWkbTypes.Polygon, crs)
    if sink is None:
        return len(records), None
    for record in records:
        grid = record.info["grid"]
        sx, _, tx, _, sy, ty = grid["transform"]
        x1, y1 = tx + sx * grid["width"], ty + sy * grid["height"]
        geometry = QgsGeometry.fromRect(QgsRectangle(min(tx, x1), min(ty, y1), max(tx, x1), max(ty, y1)))
        grid_crs = _crs(grid["crs"])
        if grid_crs != crs:
            geometry = geometry.densifyByCount(8)
            geometry.transform(QgsCoordinateTransform(grid_crs, crs, context.transformContext()))
        feature = QgsFeature(fields)
        feature.setGeometry(geometry)
        feature[id_name] = str(record.output_id)
        feature["file"] = record.path
        if image_fields:
            image = record.info.get("image") or {}
            feature["image_id"] = image.get("image_id") or ""
            start = image.get("start") or ""
            if not start and image.get("time_ms") is not None:
                start = datetime.fromtimestamp(image["time_ms"] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            feature["start"] = start
            feature["end"] = image.get("end") or ""
        sink.addFeature(feature, QgsFeatureSink.FastInsert)
    return len(records), sink_id
