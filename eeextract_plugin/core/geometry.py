"""Geometries with GDAL's OGR (and so the GEOS every QGIS build already has).

:class:`Geometry` is immutable: every operation returns a new one. It holds an OGR geometry that
no caller ever sees or changes, pickles as WKB, and speaks GeoJSON (``__geo_interface__``), so
anything that reads GeoJSON or WKB (shapely, QGIS, the ``ee`` client) takes it. The core uses
this, not shapely, so that the command line and the QGIS plugin share one implementation and the
plugin needs nothing QGIS does not ship.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from eeextract_plugin.core.crs import quiet_gdal, transform_points

Bounds = Tuple[float, float, float, float]

# OGR flat type → shapely's / GeoJSON's name
_NAMES = {1: "Point", 2: "LineString", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
          6: "MultiPolygon", 7: "GeometryCollection", 101: "LinearRing"}
_MULTI_OF = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


def _ogr() -> Any:
    from osgeo import ogr

    return ogr


def _parsed(create: str, text: str, what: str) -> Any:
    """An OGR geometry from ``text`` by ``ogr.<create>``, or :class:`GeometryError` saying what
    GDAL did not like."""
    try:
        with quiet_gdal() as messages:
            g = getattr(_ogr(), create)(text)
    except RuntimeError as exc:
        raise GeometryError(f"bad {what} ({exc})") from None
    if g is None:
        raise GeometryError(f"bad {what} ({'; '.join(messages) or 'unreadable'})")
    return g


class GeometryError(ValueError):
    """Input that is not a geometry (bad WKB, WKT or GeoJSON)."""


class Geometry:
    """An immutable geometry; ``geom_type`` names follow GeoJSON (``"Polygon"``...)."""

    __slots__ = ("_g",)

    def __init__(self, ogr_geometry: Any) -> None:
        if ogr_geometry is None:
            raise GeometryError("no geometry")
        self._g = ogr_geometry

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_wkb(cls, data: Any) -> Geometry:
        if isinstance(data, str):
            data = bytes.fromhex(data)
        try:
            with quiet_gdal() as messages:
                g = _ogr().CreateGeometryFromWkb(bytes(data))
        except RuntimeError as exc:
            raise GeometryError(f"bad WKB ({exc})") from None
        if g is None:
            raise GeometryError(f"bad WKB ({'; '.join(messages) or 'unreadable'})")
        return cls(g)

    @classmethod
    def from_wkt(cls, text: str) -> Geometry:
        return cls(_parsed("CreateGeometryFromWkt", text, "WKT"))

    @classmethod
    def from_geojson(cls, obj: Dict[str, Any]) -> Geometry:
        """A GeoJSON geometry (a Feature's geometry is taken too)."""
        if not isinstance(obj, dict):
            raise GeometryError(f"a GeoJSON geometry is an object, not {type(obj).__name__}")
        if obj.get("type") == "Feature":
            obj = obj.get("geometry") or {}
        kind = obj.get("type")
        if kind not in set(_NAMES.values()) - {"LinearRing"}:
            raise GeometryError(f"unknown geometry type {kind!r}")
        key = "geometries" if kind == "GeometryCollection" else "coordinates"
        if key not in obj:
            raise GeometryError(f"{kind} without {key}")
        _check_coordinates(kind, obj.get(key))
        if not obj.get(key):
            return empty(kind)
        try:
            text = json.dumps(obj, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise GeometryError(str(exc)) from None
        return cls(_parsed("CreateGeometryFromJson", text, "GeoJSON"))

    # -- what it is ---------------------------------------------------------------------------
    @property
    def ogr(self) -> Any:
        """A copy of the OGR geometry (for writing to a layer)."""
        return self._g.Clone()

    @property
    def geom_type(self) -> str:
        return _NAMES.get(_ogr().GT_Flatten(self._g.GetGeometryType()), self._g.GetGeometryName().title())

    @property
    def is_empty(self) -> bool:
        return bool(self._g.IsEmpty())

    @property
    def is_valid(self) -> bool:
        try:
            with quiet_gdal():
                return bool(self._g.IsValid())
        except RuntimeError:
            return False

    def validity_reason(self) -> str:
        """Why the geometry is invalid (GEOS's words), "" when valid."""
        try:
            with quiet_gdal() as messages:
                ok = bool(self._g.IsValid())
        except RuntimeError as exc:
            return str(exc)
        return "" if ok else ("; ".join(m for m in messages if m) or "invalid geometry")

    @property
    def bounds(self) -> Bounds:
        """(minx, miny, maxx, maxy); NaNs when empty."""
        if self.is_empty:
            return (math.nan, math.nan, math.nan, math.nan)
        minx, maxx, miny, maxy = self._g.GetEnvelope()
        return (minx, miny, maxx, maxy)

    @property
    def area(self) -> float:
        kind = self.geom_type
        if kind in ("Polygon", "MultiPolygon", "GeometryCollection"):
            return float(self._g.GetArea())
        return 0.0

    @property
    def x(self) -> float:
        return float(self._g.GetX())

    @property
    def y(self) -> float:
        return float(self._g.GetY())

    @property
    def wkb(self) -> bytes:
        """ISO WKB, little-endian, 2D."""
        g = self._g
        if g.Is3D() or g.IsMeasured():
            g = g.Clone()
            g.FlattenTo2D()
        return bytes(g.ExportToIsoWkb(_ogr().wkbNDR))

    @property
    def wkb_hex(self) -> str:
        return self.wkb.hex().upper()

    @property
    def wkt(self) -> str:
        return self._g.ExportToIsoWkt()

    @property
    def parts(self) -> List[Geometry]:
        """The members of a multi-geometry or collection; a single geometry is its own part."""
        if self.geom_type.startswith("Multi") or self.geom_type == "GeometryCollection":
            return [Geometry(self._g.GetGeometryRef(i).Clone()) for i in range(self._g.GetGeometryCount())]
        return [self]

    geoms = parts  # shapely's name

    @property
    def __geo_interface__(self) -> Dict[str, Any]:
        return self.to_geojson()

    def to_geojson(self) -> Dict[str, Any]:
        """The GeoJSON geometry, coordinates as Python floats (exactly the stored values)."""
        return _geojson(self._g, self.geom_type)

    def __reduce__(self) -> Any:
        return (Geometry.from_wkb, (self.wkb,))

    def __repr__(self) -> str:
        text = self.wkt
        return f"<Geometry {text[:80]}{'...' if len(text) > 80 else ''}>"

    def equals_exact(self, other: Geometry) -> bool:
        return self.wkb == other.wkb

    # -- derived geometries ---------------------------------------------------------------
    def _op(self, name: str, *args: Any) -> Optional[Geometry]:
        try:
            with quiet_gdal():
                g = getattr(self._g, name)(*args)
        except RuntimeError:
            return None
        return Geometry(g) if g is not None else None

    @property
    def centroid(self) -> Geometry:
        return self._op("Centroid") or empty("Point")

    def representative_point(self) -> Geometry:
        return self._op("PointOnSurface") or self.centroid

    @property
    def envelope(self) -> Geometry:
        return box(*self.bounds) if not self.is_empty else empty("Polygon")

    def buffer(self, distance: float, quadsegs: int = 16) -> Geometry:
        return self._op("Buffer", float(distance), int(quadsegs)) or empty("Polygon")

    def make_valid(self) -> Optional[Geometry]:
        """GEOS's repair (``MakeValid``), else a zero buffer; None when neither works."""
        fixed = self._op("MakeValid") if hasattr(self._g, "MakeValid") else None
        if fixed is None or fixed.is_empty and not self.is_empty:
            fixed = self._op("Buffer", 0.0)
        return fixed

    def intersects(self, other: Geometry) -> bool:
        try:
            with quiet_gdal():
                return bool(self._g.Intersects(other._g))
        except RuntimeError:
            return False

    def contains(self, other: Geometry) -> bool:
        try:
            with quiet_gdal():
                return bool(self._g.Contains(other._g))
        except RuntimeError:
            return False

    def intersection(self, other: Geometry) -> Geometry:
        return self._op("Intersection", other._g) or empty("GeometryCollection")

    def union(self, other: Geometry) -> Geometry:
        return self._op("Union", other._g) or empty("GeometryCollection")

    def force_2d(self) -> Geometry:
        if not (self._g.Is3D() or self._g.IsMeasured()):
            return self
        g = self._g.Clone()
        g.FlattenTo2D()
        return Geometry(g)

    def segmentize(self, max_length: float) -> Geometry:
        """Vertices added so that no edge is longer than ``max_length``: an edge of length
        ``L`` is cut into ``ceil(L / max_length)`` equal parts (GEOS's densifier, to the bit,
        so grids come out as they did when shapely did this)."""
        if not max_length > 0 or not math.isfinite(max_length):
            return self
        if self.geom_type not in ("LineString", "LinearRing", "Polygon", "MultiLineString",
                                  "MultiPolygon", "GeometryCollection"):
            return self
        return Geometry(_map(self._g, lambda pts: _densify(pts, float(max_length))))

    def transformed(self, ct: Any) -> Optional[Geometry]:
        """The geometry through an ``osr.CoordinateTransformation``; None when a point cannot
        be transformed."""
        g = self._g.Clone()
        try:
            with quiet_gdal():
                err = g.Transform(ct)
        except RuntimeError:
            return None
        if err != 0:
            return None
        out = Geometry(g)
        if not self.is_empty and not all(math.isfinite(v) for v in out.bounds):
            return None
        return out

    def map_points(self, fn: Any) -> Geometry:
        """A geometry of the same shape with every (x, y) replaced by ``fn([(x, y), ...])``."""
        return Geometry(_map(self._g, fn))


def _check_coordinates(kind: str, coords: Any) -> None:
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
             "MultiPolygon": 3}.get(kind)
    if depth is None:
        if not isinstance(coords, list):
            raise GeometryError("GeometryCollection geometries must be a list")
        for g in coords:
            if not isinstance(g, dict):
                raise GeometryError("GeometryCollection members must be GeoJSON geometries")
            _check_coordinates(g.get("type"), g.get("geometries" if g.get("type") == "GeometryCollection"
                                                   else "coordinates"))
        return

    def walk(c: Any, d: int) -> None:
        if d == 0:
            if not (isinstance(c, (list, tuple)) and len(c) >= 2
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in c)):
                raise GeometryError(f"{kind}: a position is a list of 2 or 3 numbers, not {c!r}"[:120])
            return
        if not isinstance(c, (list, tuple)):
            raise GeometryError(f"{kind}: coordinates nested wrongly")
        for item in c:
            walk(item, d - 1)

    walk(coords, depth)


def _geojson(g: Any, kind: str) -> Dict[str, Any]:
    ogr = _ogr()
    if kind == "GeometryCollection":
        members = []
        for i in range(g.GetGeometryCount()):
            m = g.GetGeometryRef(i)
            members.append(_geojson(m, _NAMES.get(ogr.GT_Flatten(m.GetGeometryType()), "GeometryCollection")))
        return {"type": kind, "geometries": members}
    return {"type": "LineString" if kind == "LinearRing" else kind, "coordinates": _coords(g, kind)}


def _xy(g: Any) -> List[List[float]]:
    return [[float(p[0]), float(p[1])] for p in (g.GetPoints() or [])]


def _coords(g: Any, kind: str) -> Any:
    if g.IsEmpty():
        return []
    if kind == "Point":
        return [float(g.GetX()), float(g.GetY())]
    if kind in ("LineString", "LinearRing"):
        return _xy(g)
    if kind == "Polygon":
        return [_xy(g.GetGeometryRef(i)) for i in range(g.GetGeometryCount())]
    part = {"MultiPoint": "Point", "MultiLineString": "LineString", "MultiPolygon": "Polygon"}[kind]
    return [_coords(g.GetGeometryRef(i), part) for i in range(g.GetGeometryCount())]


def _map(g: Any, fn: Any, ring: bool = False) -> Any:
    ogr = _ogr()
    t = ogr.GT_Flatten(g.GetGeometryType())
    if ring or g.GetGeometryName() == "LINEARRING":
        t = ogr.wkbLinearRing
    out = ogr.Geometry(t)
    if t in (ogr.wkbPoint, ogr.wkbLineString, ogr.wkbLinearRing):
        if g.IsEmpty():
            return out
        pts = g.GetPoints() or []
        for x, y in fn([(p[0], p[1]) for p in pts]):
            out.AddPoint_2D(float(x), float(y))
        return out
    for i in range(g.GetGeometryCount()):
        out.AddGeometry(_map(g.GetGeometryRef(i), fn, ring=t == ogr.wkbPolygon))
    return out


def _densify(pts: List[Tuple[float, float]], tol: float) -> List[Tuple[float, float]]:
    """GEOS's ``Densifier::densifyPoints`` in numpy (same operations, same order)."""
    import numpy as np

    if len(pts) < 2:
        return pts
    a = np.asarray(pts, dtype=float)
    p0, p1 = a[:-1], a[1:]
    d = p1 - p0
    length = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    count = np.where(length > tol, np.ceil(length / tol), 1.0)
    out: List[Tuple[float, float]] = []
    last = None
    for i in range(len(p0)):
        x0, y0 = float(p0[i, 0]), float(p0[i, 1])
        if last != (x0, y0):
            out.append((x0, y0))
            last = (x0, y0)
        n = int(count[i])
        if n <= 1:
            continue
        seg_len = float(length[i]) / n
        j = np.arange(1, n, dtype=float)
        frac = (j * seg_len) / float(length[i])
        xs = x0 + frac * float(d[i, 0])
        ys = y0 + frac * float(d[i, 1])
        for x, y in zip(xs.tolist(), ys.tolist()):
            if last != (x, y):
                out.append((x, y))
                last = (x, y)
    end = (float(a[-1, 0]), float(a[-1, 1]))
    if last != end:
        out.append(end)
    return out


def empty(kind: str = "GeometryCollection") -> Geometry:
    ogr = _ogr()
    code = {v: k for k, v in _NAMES.items()}[kind]
    return Geometry(ogr.Geometry(code))


def box(minx: float, miny: float, maxx: float, maxy: float) -> Geometry:
    """The rectangle, counter-clockwise from (maxx, miny) like shapely's ``box``."""
    ogr = _ogr()
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ((maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny), (maxx, miny)):
        ring.AddPoint_2D(float(x), float(y))
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return Geometry(poly)


def point(x: float, y: float) -> Geometry:
    ogr = _ogr()
    p = ogr.Geometry(ogr.wkbPoint)
    p.AddPoint_2D(float(x), float(y))
    return Geometry(p)


def polygon(ring: Sequence[Tuple[float, float]]) -> Geometry:
    ogr = _ogr()
    r = ogr.Geometry(ogr.wkbLinearRing)
    for x, y in ring:
        r.AddPoint_2D(float(x), float(y))
    if len(ring) and tuple(ring[0]) != tuple(ring[-1]):
        r.AddPoint_2D(float(ring[0][0]), float(ring[0][1]))
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(r)
    return Geometry(poly)


def multi(geoms: Sequence[Geometry]) -> Geometry:
    """The multi-geometry of same-typed parts (a Polygon list → MultiPolygon...)."""
    ogr = _ogr()
    kinds = {g.geom_type for g in geoms}
    if len(kinds) != 1 or next(iter(kinds)) not in _MULTI_OF:
        out = ogr.Geometry(ogr.wkbGeometryCollection)
    else:
        out = ogr.Geometry({v: k for k, v in _NAMES.items()}[_MULTI_OF[kinds.pop()]])
    for g in geoms:
        out.AddGeometry(g._g)
    return Geometry(out)


def union_all(geoms: Iterable[Geometry]) -> Geometry:
    """The union of ``geoms`` (polygons by GEOS's cascaded union)."""
    items = [g for g in geoms if g is not None and not g.is_empty]
    if not items:
        return empty()
    polygons: List[Geometry] = []
    others: List[Geometry] = []
    for g in items:
        for p in g.parts if g.geom_type in ("MultiPolygon", "GeometryCollection") else [g]:
            (polygons if p.geom_type == "Polygon" else others).append(p)
    result: Optional[Geometry] = None
    if polygons:
        result = multi(polygons)._op("UnionCascaded")
        if result is None:  # GEOS refused (invalid input): pairwise
            result = polygons[0]
            for p in polygons[1:]:
                result = result.union(p)
    points = [p for p in others if p.geom_type == "Point"]
    rest = [p for p in others if p.geom_type != "Point"]
    if points:
        seen = []
        for p in points:
            xy = (p.x, p.y)
            if xy not in seen:
                seen.append(xy)
        pts = point(*seen[0]) if len(seen) == 1 else multi([point(x, y) for x, y in seen])
        result = pts if result is None else result.union(pts)
    for g in rest:
        result = g if result is None else result.union(g)
    assert result is not None
    return result


def as_geometry(value: Any) -> Geometry:
    """A :class:`Geometry` from a Geometry, WKB (bytes or hex), WKT, a GeoJSON mapping (or
    Feature), anything with ``__geo_interface__`` (shapely, QGIS features) or with ``wkb``."""
    if isinstance(value, Geometry):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return Geometry.from_wkb(bytes(value))
    if isinstance(value, str):
        text = value.strip()
        if text and all(c in "0123456789abcdefABCDEF" for c in text):
            return Geometry.from_wkb(text)
        return Geometry.from_wkt(text)
    if isinstance(value, dict):
        return Geometry.from_geojson(value)
    wkb = getattr(value, "wkb", None)
    if isinstance(wkb, (bytes, bytearray)):
        return Geometry.from_wkb(bytes(wkb))
    if hasattr(value, "__geo_interface__"):
        return Geometry.from_geojson(dict(value.__geo_interface__))
    try:  # other bytes-like WKB (a QByteArray from QgsGeometry.asWkb())
        return Geometry.from_wkb(bytes(memoryview(value)))
    except TypeError:
        data = getattr(value, "data", None)
        if callable(data) and isinstance(data(), bytes):
            return Geometry.from_wkb(data())
    raise TypeError(f"cannot read a geometry from {type(value).__name__}")


def transform_geometry(geom: Geometry, ct: Any) -> Optional[Geometry]:
    """Point by point (a point that fails becomes infinite): for callers that want to see
    which parts fail instead of losing the whole geometry."""
    return geom.map_points(lambda pts: transform_points(ct, pts))


__all__ = ["Geometry", "GeometryError", "as_geometry", "box", "empty", "multi", "point", "polygon",
           "transform_geometry", "union_all"]
