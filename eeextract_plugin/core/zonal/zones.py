"""Zones: read from a vector file (OGR) or an in-memory list of ``(id, geometry)``, checked,
reprojected to the raster's CRS, repaired, clipped to the raster, and handed out in batches.

Only ids are held for the whole set (to find duplicates); geometries are read a batch at a
time, so a large zone set is processed in bounded memory.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from eeextract_plugin.core.crs import CRS, CRSError, same_crs, transform_bounds, transformation
from eeextract_plugin.core.geometry import Geometry, as_geometry, box, union_all
from eeextract_plugin.core.zonal.errors import ZonalError

log = logging.getLogger(__name__)

#: A file path, or a sequence of ``(id, geometry)``; a geometry is a core Geometry, WKB
#: bytes, WKT text, a GeoJSON-like mapping or anything with ``__geo_interface__`` (shapely).
ZoneInput = Union[str, Path, Sequence[Tuple[Any, Any]]]

STATUS_OK = "ok"
STATUS_REPAIRED = "repaired"
STATUS_OUTSIDE = "outside"
STATUS_INVALID = "invalid"

#: Edges longer than 1/DENSIFY of a zone's size get vertices before reprojection.
DENSIFY = 32


@dataclass
class Zone:
    """One zone ready for an engine. ``geometry`` is in the raster's CRS, clipped to the
    raster's extent; it is ``None`` when the zone is outside the raster or unusable."""

    index: int
    id: Any
    geometry: Optional[Geometry]
    source_geometry: Optional[Geometry]
    status: str = STATUS_OK
    message: str = ""


def to_geometry(value: Any) -> Optional[Geometry]:
    """A geometry from a Geometry, WKB, WKT, a GeoJSON mapping, ``__geo_interface__`` (shapely,
    QGIS) or ``wkb``; ``None`` stays ``None``."""
    if value is None:
        return None
    return as_geometry(value)


def _crs_wkt(crs: Any) -> str:
    if crs is None or crs == "":
        return ""
    try:
        return CRS(str(crs)).to_wkt()
    except CRSError as exc:
        raise ZonalError(f"zones CRS {crs!r} is not understood ({exc})") from None


class ZoneSource:
    """Polygon zones with a unique id each, from a file (OGR) or from memory.

    ``crs`` (anything OSR understands: ``EPSG:n``, WKT, PROJ strings) is the CRS of in-memory geometries, or overrides a
    file's; when absent, a file's own CRS is used, else the raster's is assumed.
    """

    def __init__(
        self,
        zones: ZoneInput,
        id_field: Optional[str] = None,
        layer: Optional[Union[str, int]] = None,
        crs: Any = None,
        kind: str = "zones",
    ) -> None:
        self.kind = kind  # "zones" (polygons) or "points" (sampling)
        self.id_field = id_field
        self.layer_name = layer
        self._items: Optional[List[Tuple[Any, Any]]] = None
        self._path: Optional[str] = None
        self.id_type = "str"
        if isinstance(zones, (str, Path)):
            self._path = str(zones)
            self.crs_wkt = _crs_wkt(crs)
            self._open_layer().close()  # checks the file, the layer and the id field now
        else:
            self._items = list(zones)
            self.crs_wkt = _crs_wkt(crs)
            if not self.id_field:
                self.id_field = "id"

    # ------------------------------------------------------------------------------ file
    def _open_layer(self):
        from osgeo import ogr

        path = self._path
        assert path is not None
        if not Path(path).exists() and not path.startswith("/vsi"):
            raise ZonalError(f"{self.kind} file {path}: no such file")
        try:
            ds = ogr.Open(path)
        except RuntimeError as exc:
            raise ZonalError(f"{self.kind} file {path}: cannot be opened by OGR ({exc})") from None
        if ds is None:
            raise ZonalError(f"{self.kind} file {path}: cannot be opened by OGR")
        names = [ds.GetLayerByIndex(i).GetName() for i in range(ds.GetLayerCount())]
        if self.layer_name is None or self.layer_name == "":
            if len(names) != 1:
                raise ZonalError(
                    f"{self.kind} file {path} has {len(names)} layers "
                    f"({', '.join(names)}); name the one to use"
                )
            lyr = ds.GetLayerByIndex(0)
        elif isinstance(self.layer_name, int):
            lyr = ds.GetLayerByIndex(self.layer_name)
        else:
            lyr = ds.GetLayerByName(str(self.layer_name))
        if lyr is None:
            raise ZonalError(
                f"{self.kind} file {path}: no layer {self.layer_name!r}; "
                f"layers are: {', '.join(names)}"
            )
        self.layer_label = f"layer '{lyr.GetName()}' of {path}"
        problem = self._describe_layer(_layer_facts(lyr))
        if problem:
            lyr = None  # children before their dataset (GDAL < 3.8 crashes otherwise)
            ds = None
            raise ZonalError(problem)
        return _OgrLayer(ds, lyr)

    def _describe_layer(self, facts: Dict[str, Any]) -> Optional[str]:
        """Takes in the layer's id type and CRS; returns what is wrong with it, if anything."""
        fields = facts["fields"]
        listed = ", ".join(fields) or "(none)"
        if not self.id_field:
            return f"{self.kind}: no id field given for {self.layer_label}; fields are: {listed}"
        if self.id_field not in fields:
            return (
                f"{self.kind}: id field '{self.id_field}' not found in "
                f"{self.layer_label}; fields are: {listed}"
            )
        self.id_type = facts["types"][fields.index(self.id_field)]
        if not self.crs_wkt:
            self.crs_wkt = facts["crs_wkt"]
        return self._geometry_type_problem(facts["geom_name"], facts["geom_type"])

    def _geometry_type_problem(self, name: str, gtype: int) -> Optional[str]:
        from osgeo import ogr

        polygonal = {
            ogr.wkbPolygon,
            ogr.wkbMultiPolygon,
            ogr.wkbCurvePolygon,
            ogr.wkbMultiSurface,
            ogr.wkbPolyhedralSurface,
            ogr.wkbTIN,
        }
        punctual = {ogr.wkbPoint, ogr.wkbMultiPoint}
        if gtype == ogr.wkbUnknown or gtype == ogr.wkbGeometryCollection:
            return None
        if self.kind == "zones" and gtype not in polygonal:
            return (
                f"zones: {self.layer_label} has {name} geometries; zonal "
                "statistics need polygons (sample points instead)"
            )
        if self.kind == "points" and gtype not in punctual:
            return (
                f"points: {self.layer_label} has {name} geometries; sampling "
                "needs points (use zonal statistics for polygons)"
            )
        return None

    @property
    def label(self) -> str:
        return getattr(self, "layer_label", f"in-memory {self.kind}")

    # ------------------------------------------------------------------------------ checks
    def check_ids(self) -> int:
        """Reads every id once: no null id, no duplicate, at least one zone. Returns the count."""
        seen: Dict[Any, int] = {}
        for pos, zid in self._iter_ids():
            if zid is None or (isinstance(zid, str) and not zid.strip()):
                raise ZonalError(
                    f"{self.kind}: feature {pos} of {self.label} has no id "
                    f"(field '{self.id_field}' is empty)"
                )
            if zid in seen:
                raise ZonalError(
                    f"{self.kind}: duplicate id {zid!r} in field '{self.id_field}' "
                    f"of {self.label} (features {seen[zid]} and {pos})"
                )
            seen[zid] = pos
        n = len(seen)
        if n == 0:
            raise ZonalError(f"{self.kind}: {self.label} is empty (no feature)")
        if self._items is not None:
            self.id_type = (
                "int"
                if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in seen)
                else "str"
            )
        return n

    def _iter_ids(self) -> Iterator[Tuple[Any, Any]]:
        if self._items is not None:
            for i, item in enumerate(self._items):
                try:
                    zid, _ = item
                except (TypeError, ValueError):
                    raise ZonalError(
                        f"{self.kind}: item {i} is not an (id, geometry) pair"
                    ) from None
                yield i, zid
            return
        with self._open_layer() as lyr:
            others = [n for n in _layer_facts(lyr)["fields"] if n != self.id_field]
            lyr.SetIgnoredFields(others + ["OGR_GEOMETRY", "OGR_STYLE"])
            lyr.ResetReading()
            for f in lyr:
                null = not f.IsFieldSet(self.id_field) or f.IsFieldNull(self.id_field)
                yield f.GetFID(), (None if null else f.GetField(self.id_field))
            lyr.SetIgnoredFields([])

    def bounds(self) -> Optional[Tuple[float, float, float, float]]:
        """(xmin, ymin, xmax, ymax) of all zones in the zones' CRS; ``None`` if no geometry."""
        if self._items is not None:
            bounds = None
            for _, g in self._items:
                geom = to_geometry(g)
                if geom is None or geom.is_empty:
                    continue
                b = geom.bounds
                bounds = (
                    b
                    if bounds is None
                    else (
                        min(bounds[0], b[0]),
                        min(bounds[1], b[1]),
                        max(bounds[2], b[2]),
                        max(bounds[3], b[3]),
                    )
                )
            return bounds
        with self._open_layer() as lyr:
            try:
                extent = lyr.GetExtent(force=1)
            except RuntimeError:
                return None
        if extent is None:
            return None
        xmin, xmax, ymin, ymax = extent
        return xmin, ymin, xmax, ymax

    # ------------------------------------------------------------------------------ reading
    def iter_raw(self) -> Iterator[Tuple[int, Any, Optional[Geometry]]]:
        """(position, id, geometry in the zones' CRS) for every zone, one at a time."""
        if self._items is not None:
            for i, (zid, g) in enumerate(self._items):
                try:
                    geom = to_geometry(g)
                except Exception as exc:  # a bad geometry is reported on its zone, not raised
                    log.warning("%s %r: unreadable geometry (%s)", self.kind, zid, exc)
                    geom = None
                yield i, zid, geom
            return
        with self._open_layer() as lyr:
            lyr.ResetReading()
            for i, f in enumerate(lyr):
                zid = f.GetField(self.id_field)
                ref = f.GetGeometryRef()
                geom = None
                if ref is not None and not ref.IsEmpty():
                    if ref.HasCurveGeometry():
                        ref = ref.GetLinearGeometry()
                    geom = Geometry(ref.Clone())
                ref = None
                yield i, zid, geom


class _OgrLayer:
    """An OGR layer and its dataset, released child first: with GDAL < 3.8 a layer or a
    feature definition used after its dataset closed crashes the interpreter."""

    def __init__(self, ds: Any, lyr: Any) -> None:
        self.ds, self.lyr = ds, lyr

    def __enter__(self) -> Any:
        return self.lyr

    def __exit__(self, *exc: Any) -> bool:
        self.close()
        return False

    def close(self) -> None:
        self.lyr = None
        self.ds = None


def _layer_facts(lyr: Any) -> Dict[str, Any]:
    """Plain data about a layer (the feature definition never leaves this function)."""
    from osgeo import ogr

    defn = lyr.GetLayerDefn()
    kinds = {ogr.OFTInteger: "int", ogr.OFTInteger64: "int", ogr.OFTReal: "float"}
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    types = [kinds.get(defn.GetFieldDefn(i).GetType(), "str") for i in range(len(fields))]
    srs = lyr.GetSpatialRef()
    gtype = ogr.GT_Flatten(lyr.GetGeomType())
    defn = None
    return {
        "fields": fields,
        "types": types,
        "crs_wkt": srs.ExportToWkt() if srs is not None else "",
        "geom_type": gtype,
        "geom_name": ogr.GeometryTypeToName(gtype),
    }


class ZonePreparer:
    """Reprojects zones to the raster's CRS (edges densified), repairs invalid ones and clips
    them to the raster's extent, a batch at a time (OGR/GEOS)."""

    def __init__(
        self,
        source_crs_wkt: str,
        raster_crs_wkt: str,
        raster_extent: Tuple[float, float, float, float],
        polygons: bool = True,
    ):
        self.polygons = polygons
        self.extent_box = box(*raster_extent)
        self.source_crs = self.raster_crs = ""
        if source_crs_wkt and raster_crs_wkt:
            if not same_crs(source_crs_wkt, raster_crs_wkt):
                self.source_crs, self.raster_crs = source_crs_wkt, raster_crs_wkt
                transformation(self.source_crs, self.raster_crs)  # fails here, not per zone
        elif not source_crs_wkt and raster_crs_wkt:
            log.info("zones have no CRS: assuming the raster's")

    @property
    def reprojects(self) -> bool:
        return bool(self.source_crs)

    def transform_bounds(
        self, b: Tuple[float, float, float, float]
    ) -> Tuple[float, float, float, float]:
        if not self.reprojects:
            return b
        out = transform_bounds(self.source_crs, self.raster_crs, b, points_per_edge=21)
        if not all(math.isfinite(v) for v in out):
            return b
        return out

    def _reproject(self, g: Geometry) -> Optional[Geometry]:
        if not self.reprojects:
            return g
        if self.polygons:
            # A straight edge in one CRS is a curve in another: add vertices so that no edge
            # is longer than 1/DENSIFY of its zone's size (short edges are left alone).
            xmin, ymin, xmax, ymax = g.bounds
            size = max(xmax - xmin, ymax - ymin)
            if math.isfinite(size) and size > 0:
                g = g.segmentize(size / DENSIFY)
        return g.transformed(transformation(self.source_crs, self.raster_crs))

    def prepare(self, raw: Sequence[Tuple[int, Any, Optional[Geometry]]]) -> List[Zone]:
        zones = [Zone(index=i, id=zid, geometry=None, source_geometry=to_geometry(g)) for i, zid, g in raw]
        for z in zones:
            src = z.source_geometry
            if src is None or src.is_empty:
                z.status, z.message = STATUS_INVALID, "no geometry"
                continue
            g = self._reproject(src.force_2d())
            if g is None:
                z.status, z.message = STATUS_INVALID, "cannot be reprojected to the raster's CRS"
                continue
            if self.polygons:
                reason = g.validity_reason()
                if reason:
                    fixed = _polygonal_part(g.make_valid())
                    if fixed is None:
                        z.status, z.message = (
                            STATUS_INVALID,
                            f"invalid geometry not repairable ({reason})",
                        )
                        continue
                    z.status, z.message = STATUS_REPAIRED, f"repaired ({reason})"
                    g = fixed
                if _not_polygonal(g):
                    z.status, z.message = STATUS_INVALID, f"{g.geom_type} is not a polygon"
                    continue
            if not self.extent_box.intersects(g):
                z.status, z.message = STATUS_OUTSIDE, "outside the raster"
                continue
            if self.polygons and not self.extent_box.contains(g):
                g = _polygonal_part(g.intersection(self.extent_box))
                if g is None:  # touches the edge only
                    z.status, z.message = STATUS_OUTSIDE, "outside the raster"
                    continue
            z.geometry = g
        return zones


def _not_polygonal(g: Geometry) -> bool:
    return g.geom_type not in ("Polygon", "MultiPolygon")


def _polygonal_part(g: Optional[Geometry]) -> Optional[Geometry]:
    """The polygons of a geometry (make_valid may return a collection), or ``None``."""
    if g is None or g.is_empty:
        return None
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    if g.geom_type == "GeometryCollection":
        parts = [p for p in g.parts if p.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            return None
        u = union_all(parts)
        return u if not u.is_empty else None
    return None


def batches(source: ZoneSource, preparer: ZonePreparer, size: int) -> Iterator[List[Zone]]:
    """Prepared zones, ``size`` at a time."""
    pending: List[Tuple[int, Any, Optional[Geometry]]] = []
    for item in source.iter_raw():
        pending.append(item)
        if len(pending) >= size:
            yield preparer.prepare(pending)
            pending = []
    if pending:
        yield preparer.prepare(pending)
