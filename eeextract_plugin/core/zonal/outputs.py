"""Results to files: a scratch store while zones stream through, then a CSV (one row per
zone, id first, then ``<band>_<stat>`` columns) and a GeoPackage (the zones, in their own CRS,
with the same columns as fields).

Rows go to a JSON-lines scratch file first because ``frac`` columns are only known once every
zone has been seen; the final files are then written in one streaming pass.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from eeextract_plugin.core.geometry import Geometry, multi
from eeextract_plugin.core.zonal.errors import ZonalError

STATUS_FIELD = "zonal_status"


class ScratchRows:
    """Append-only rows on disk: ``{"id", "status", "message", "wkb", "values"}``."""

    def __init__(self, directory: Optional[str] = None) -> None:
        fd, self.path = tempfile.mkstemp(prefix="eeextract-zonal-", suffix=".jsonl", dir=directory)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        self.count = 0

    def add(
        self,
        zid: Any,
        status: str,
        message: str,
        geometry: Optional[Geometry],
        values: Dict[str, Any],
    ) -> None:
        rec = {
            "id": zid,
            "status": status,
            "message": message,
            "wkb": geometry.wkb_hex if geometry is not None else None,
            "values": values,
        }
        self._fh.write(json.dumps(rec, default=_json_default, allow_nan=False) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        self._fh.flush()
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)

    def close(self) -> None:
        try:
            self._fh.close()
        finally:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _json_default(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return None if math.isnan(float(v)) else float(v)
    return str(v)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "" if math.isnan(v) else repr(v)
    return str(v)


def write_csv(
    path: str,
    id_field: str,
    columns: List[str],
    rows: ScratchRows,
    status_field: Optional[str] = STATUS_FIELD,
    extra: Optional[Callable[[Dict[str, Any]], List[Any]]] = None,
    extra_columns: Optional[List[str]] = None,
) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        header = [id_field] + (extra_columns or []) + columns
        if status_field:
            header.append(status_field)
        w.writerow(header)
        for rec in rows:
            vals = rec["values"]
            line = [_cell(rec["id"])]
            if extra:
                line += [_cell(v) for v in extra(rec)]
            line += [_cell(vals.get(c)) for c in columns]
            if status_field:
                line.append(rec["status"])
            w.writerow(line)


def write_gpkg(
    path: str,
    layer_name: str,
    crs_wkt: str,
    id_field: str,
    id_type: str,
    columns: Dict[str, str],
    rows: ScratchRows,
    geometry: str = "polygon",
    status_field: Optional[str] = STATUS_FIELD,
) -> None:
    """``columns``: name → ``"real"`` | ``"int"``. ``geometry``: ``polygon`` (written as
    MultiPolygon) or ``point``."""
    from osgeo import ogr, osr

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    drv = ogr.GetDriverByName("GPKG")
    if Path(path).exists():
        drv.DeleteDataSource(path)
    ds = drv.CreateDataSource(path)
    if ds is None:
        raise ZonalError(f"GeoPackage {path}: cannot be created")
    srs = None
    if crs_wkt:
        srs = osr.SpatialReference()
        srs.ImportFromWkt(crs_wkt)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    gtype = ogr.wkbMultiPolygon if geometry == "polygon" else ogr.wkbPoint
    lyr = ds.CreateLayer(layer_name, srs, gtype, options=["SPATIAL_INDEX=YES"])
    otype = {"int": ogr.OFTInteger64, "float": ogr.OFTReal}.get(id_type, ogr.OFTString)
    lyr.CreateField(ogr.FieldDefn(id_field, otype))
    for name, kind in columns.items():
        lyr.CreateField(ogr.FieldDefn(name, ogr.OFTInteger64 if kind == "int" else ogr.OFTReal))
    if status_field:
        lyr.CreateField(ogr.FieldDefn(status_field, ogr.OFTString))
    defn = lyr.GetLayerDefn()
    lyr.StartTransaction()
    n = 0
    for rec in rows:
        f = ogr.Feature(defn)
        if rec["id"] is not None:
            f.SetField(id_field, rec["id"])
        vals = rec["values"]
        for name in columns:
            v = vals.get(name)
            if v is not None:
                f.SetField(name, v)
        if status_field:
            f.SetField(status_field, rec["status"])
        if rec["wkb"]:
            g = Geometry.from_wkb(rec["wkb"])
            if geometry == "polygon" and g.geom_type == "Polygon":
                g = multi([g])
            if geometry == "polygon" and g.geom_type != "MultiPolygon":
                g = None
            if g is not None:
                f.SetGeometry(g.ogr)
        lyr.CreateFeature(f)
        n += 1
        if n % 5000 == 0:
            lyr.CommitTransaction()
            lyr.StartTransaction()
    lyr.CommitTransaction()
    ds = None
