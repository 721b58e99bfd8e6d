"""Geometries: a shapely 2 geometry plus its CRS and geodesic flag, and the ``Geometry*``
algorithms.

Coordinates are in EPSG:4326 (longitude, latitude) unless a projection is given. Edges of
geodesic geometries are treated as straight lines in longitude/latitude (a simplification:
Earth Engine follows great circles); areas and lengths of EPSG:4326 geometries are computed on
the WGS 84 ellipsoid, those of projected geometries in the plane of their CRS.

For the imagery side: ``Geometry.shape`` is the shapely geometry in ``Geometry.crs``;
``Geometry.in_crs("EPSG:32631")`` gives the shapely geometry in another CRS (edges densified);
``Geometry.to_geojson()`` the GeoJSON ``getInfo`` returns.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Optional

import numpy as np
import shapely
from shapely.geometry import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
    mapping,
)
from shapely.geometry import (
    shape as shapely_shape,
)
from shapely.geometry.base import BaseGeometry
from shapely.ops import orient

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.imagery.projection import Projection, transform_xy

WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------- projections


@functools.lru_cache(maxsize=64)
def _crs(code: str):
    import pyproj

    try:
        return pyproj.CRS.from_user_input(code)
    except pyproj.exceptions.CRSError:
        raise invalid_argument(f"Unknown or invalid projection: '{code}'.") from None


def normalize_crs(code: Any) -> str:
    """``"EPSG:4326"`` for the usual spellings; WKT and other codes unchanged."""
    if code is None:
        return WGS84
    if not isinstance(code, str) and hasattr(code, "crs"):
        return normalize_crs(code.crs)
    text = str(code).strip()
    if text.upper().startswith("EPSG:"):
        return "EPSG:" + text.split(":", 1)[1].strip()
    return text


def is_geographic(code: str) -> bool:
    return normalize_crs(code) == WGS84 or bool(_crs(normalize_crs(code)).is_geographic)


def transform_shape(geom: BaseGeometry, source: str, target: str, densify: bool = True) -> BaseGeometry:
    """``geom`` from CRS ``source`` to ``target``; edges are densified first so that straight
    edges in one CRS stay close to their image in the other."""
    source, target = normalize_crs(source), normalize_crs(target)
    if source == target or geom.is_empty:
        return geom
    if densify and geom.geom_type not in ("Point", "MultiPoint"):
        minx, miny, maxx, maxy = geom.bounds
        span = max(maxx - minx, maxy - miny)
        if span > 0:
            geom = shapely.segmentize(geom, span / 64.0)
    _crs(source), _crs(target)  # unknown CRSs are the caller's error (400)

    def apply(coords: np.ndarray) -> np.ndarray:
        # The imagery side's transformers are cached per thread (pyproj's are not thread-safe).
        x, y = transform_xy(source, target, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geom, apply)
    if not out.is_valid and out.geom_type in ("Polygon", "MultiPolygon"):
        out = shapely.make_valid(out)
    return out


def _unit_metres(crs: str) -> float:
    try:
        axis = _crs(crs).axis_info[0]
        return float(axis.unit_conversion_factor or 1.0)
    except (IndexError, AttributeError):
        return 1.0


# --------------------------------------------------------------------------- Geometry


class Geometry:
    """A geometry in ``crs`` (EPSG:4326 by default) with Earth Engine's geodesic flag."""

    def __init__(self, shape: BaseGeometry, crs: str = WGS84, geodesic: Optional[bool] = None,
                 even_odd: bool = True):
        self.shape = shape
        self.crs = normalize_crs(crs)
        geographic = self.crs == WGS84
        self.geodesic = bool(geographic if geodesic is None else geodesic) and geographic
        self.even_odd = even_odd

    # ---- constructors

    @classmethod
    def empty(cls) -> Geometry:
        return cls(GeometryCollection())

    @classmethod
    def from_geojson(cls, value: Dict[str, Any]) -> Geometry:
        if not isinstance(value, dict) or "type" not in value:
            raise invalid_argument("Invalid GeoJSON geometry.")
        crs = WGS84
        crs_info = value.get("crs")
        if isinstance(crs_info, dict):
            crs = normalize_crs((crs_info.get("properties") or {}).get("name", WGS84))
        try:
            geom = shapely_shape({k: v for k, v in value.items() if k in ("type", "coordinates", "geometries")}) \
                if value["type"] != "GeometryCollection" else GeometryCollection(
                    [cls.from_geojson(g).shape for g in value.get("geometries", [])])
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise invalid_argument(f"Invalid GeoJSON geometry: {exc}") from None
        return cls(geom, crs, value.get("geodesic"), value.get("evenOdd", True))

    # ---- conversions

    def in_crs(self, crs: str) -> BaseGeometry:
        return transform_shape(self.shape, self.crs, crs)

    def to_wgs84(self) -> BaseGeometry:
        return self.in_crs(WGS84)

    def transform(self, crs: str) -> Geometry:
        target = normalize_crs(crs)
        if target == self.crs:
            return self
        return Geometry(self.in_crs(target), target, geodesic=False if target != WGS84 else self.geodesic)

    @property
    def type(self) -> str:
        return self.shape.geom_type

    def to_geojson(self) -> Dict[str, Any]:
        geom = _oriented(self.shape)
        info: Dict[str, Any]
        if geom.is_empty and geom.geom_type != "GeometryCollection":
            geom = GeometryCollection()
        if geom.geom_type == "GeometryCollection":
            info = {"type": "GeometryCollection",
                    "geometries": [Geometry(g, self.crs, self.geodesic).to_geojson() for g in geom.geoms]}
        else:
            info = dict(mapping(geom))
            info["coordinates"] = _listify(info["coordinates"])
        if self.crs != WGS84:
            info["crs"] = {"type": "name", "properties": {"name": self.crs}}
        if not self.geodesic and geom.geom_type not in ("Point", "MultiPoint", "GeometryCollection"):
            info["geodesic"] = False
        return info

    def to_info(self) -> Dict[str, Any]:
        return self.to_geojson()

    # ---- measures (EPSG:4326: on the ellipsoid; projected: in the CRS's plane)

    def area(self) -> float:
        if self.crs == WGS84:
            return _geodesic_area(self.shape)
        return float(self.shape.area) * _unit_metres(self.crs) ** 2

    def length(self) -> float:
        if self.crs == WGS84:
            return _geodesic_length(self.shape)
        return float(self.shape.length) * _unit_metres(self.crs)

    def perimeter(self) -> float:
        return Geometry(self.shape.boundary, self.crs, self.geodesic).length()

    def bounds(self, crs: Optional[str] = None) -> Geometry:
        target = normalize_crs(crs) if crs else WGS84
        geom = self.in_crs(target)
        if geom.is_empty:
            return Geometry(Polygon(), target, geodesic=False)
        minx, miny, maxx, maxy = geom.bounds
        return Geometry(box(minx, miny, maxx, maxy), target, geodesic=False)

    def centroid(self) -> Geometry:
        if self.shape.is_empty:
            return Geometry(Point(), self.crs)
        # In longitude/latitude the planar centroid (close to Earth Engine's for regions that are
        # not continent-sized).
        return Geometry(self.shape.centroid, self.crs)

    def buffer(self, distance: float) -> Geometry:
        """Buffer by ``distance`` metres (in the CRS's units for projected geometries)."""
        if self.crs == WGS84:
            local = _local_aeqd(self.shape)
            buffered = transform_shape(self.shape, WGS84, local).buffer(distance, quad_segs=16)
            return Geometry(transform_shape(buffered, local, WGS84, densify=False), WGS84, self.geodesic)
        return Geometry(self.shape.buffer(distance, quad_segs=16), self.crs, self.geodesic)

    def intersects(self, other: Geometry) -> bool:
        return bool(self.to_wgs84().intersects(other.to_wgs84()))

    def __repr__(self) -> str:  # pragma: no cover
        return f"Geometry({self.shape.wkt[:80]}, {self.crs})"


def _listify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value) if abs(value) < 2**53 else value
    return value


def _oriented(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "Polygon" and not geom.is_empty:
        return orient(geom, 1.0)
    if geom.geom_type == "MultiPolygon":
        return MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    return geom


@functools.lru_cache(maxsize=1)
def _geod():
    import pyproj

    return pyproj.Geod(ellps="WGS84")


def _geodesic_area(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    if geom.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
        area, _ = _geod().geometry_area_perimeter(geom)
        return abs(float(area))
    return 0.0


def _geodesic_length(geom: BaseGeometry) -> float:
    if geom.is_empty:
        return 0.0
    if geom.geom_type in ("LineString", "LinearRing", "MultiLineString"):
        return float(_geod().geometry_length(geom))
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return float(_geod().geometry_length(geom.boundary))
    return 0.0


def _local_aeqd(geom: BaseGeometry) -> str:
    """An azimuthal equidistant projection centred near the geometry (centre rounded to 0.05° so
    that nearby geometries share a cached transformer)."""
    c = geom.envelope.centroid if not geom.is_empty else Point(0, 0)
    lat, lon = round(c.y * 20) / 20, round(c.x * 20) / 20
    return f"+proj=aeqd +lat_0={lat:.2f} +lon_0={lon:.2f} +datum=WGS84 +units=m +no_defs"


def union_all(geometries: Iterable[Geometry]) -> Geometry:
    shapes = [g.to_wgs84() for g in geometries]
    return Geometry(shapely.union_all(shapes) if shapes else GeometryCollection(), WGS84)


def as_geometry(value: Any, where: str = "Geometry") -> Geometry:
    """A Geometry from a Geometry, a Feature (its geometry) or a GeoJSON dict."""
    if isinstance(value, Geometry):
        return value
    geometry = getattr(value, "geometry", None)
    if isinstance(geometry, Geometry):
        return geometry
    if isinstance(value, dict):
        return Geometry.from_geojson(value)
    raise invalid_argument(f"{where}: Invalid type.\nExpected type: Geometry.")


def as_projection(value: Any) -> Optional[Projection]:
    """The imagery side's Projection for a Projection, a CRS string or a Projection's info."""
    if value is None:
        return None
    if isinstance(value, Projection):
        return value
    if isinstance(value, str):
        return Projection(normalize_crs(value))
    if isinstance(value, dict) and value.get("type") == "Projection":
        transform = value.get("transform", (1, 0, 0, 0, 1, 0))
        return Projection(normalize_crs(value.get("crs") or value.get("wkt")), tuple(float(v) for v in transform))
    if hasattr(value, "crs") and hasattr(value, "transform"):
        return Projection(normalize_crs(value.crs), tuple(float(v) for v in value.transform))
    raise invalid_argument("Invalid type.\nExpected type: Projection.")


def _crs_of(crs: Any) -> str:
    projection = as_projection(crs)
    return projection.crs if projection is not None else WGS84


# --------------------------------------------------------------------------- constructors


_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _in_projection(crs: Any, shape: BaseGeometry, geodesic: Optional[bool] = None,
                   even_odd: bool = True) -> Geometry:
    """A constructor's geometry. Coordinates are in the units of ``crs``: for a Projection with
    an affine transform (``image.projection()``) those are its pixel units, mapped to the CRS
    through the transform, as Earth Engine does (the client's ``getDownloadURL`` with
    ``crs_transform`` and ``dimensions`` relies on it)."""
    projection = as_projection(crs)
    if projection is None:
        return Geometry(shape, WGS84, geodesic, even_odd)
    transform = tuple(float(v) for v in projection.transform)
    code = normalize_crs(projection.crs)
    if transform != _IDENTITY:
        sx, hx, tx, hy, sy, ty = transform
        shape = shapely.transform(shape, lambda c: np.column_stack(
            [sx * c[:, 0] + hx * c[:, 1] + tx, hy * c[:, 0] + sy * c[:, 1] + ty]))
    return Geometry(shape, code, geodesic, even_odd)


def _coords(value: Any, depth: int, name: str) -> Any:
    """Nested coordinate lists; a flat list of numbers is paired up as Earth Engine does."""
    def numeric(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if depth == 1:
        if isinstance(value, list) and len(value) >= 2 and all(numeric(v) for v in value):
            return [float(v) for v in value[:2]]
        raise invalid_argument(f"{name}: Invalid coordinates.")
    if isinstance(value, list) and value and all(numeric(v) for v in value):
        if len(value) % 2:
            raise invalid_argument(f"{name}: Invalid coordinates.")
        value = [value[i:i + 2] for i in range(0, len(value), 2)]
        if depth > 2:
            value = [value]
            for _ in range(depth - 3):
                value = [value]
    if not isinstance(value, list):
        raise invalid_argument(f"{name}: Invalid coordinates.")
    if value and depth > 2 and all(isinstance(v, list) and v and all(numeric(x) for x in v) for v in value):
        # One level missing (e.g. a Polygon given as a single ring).
        value = [value]
    return [_coords(v, depth - 1, name) for v in value]


def _ring(points: List[List[float]], name: str) -> List[List[float]]:
    if len(points) < 3:
        raise invalid_argument(f"{name}: LinearRing requires at least 3 points.")
    return points


@algorithm("GeometryConstructors.Point")
def point(coordinates, crs=None):
    x, y = _coords(coordinates, 1, "Geometry.Point")
    return _in_projection(crs, Point(x, y))


@algorithm("GeometryConstructors.MultiPoint")
def multi_point(coordinates, crs=None):
    pts = _coords(coordinates, 2, "Geometry.MultiPoint") if coordinates else []
    return _in_projection(crs, MultiPoint([tuple(p) for p in pts]))


@algorithm("GeometryConstructors.LineString")
def line_string(coordinates, crs=None, geodesic=None, maxError=None):
    pts = _coords(coordinates, 2, "Geometry.LineString")
    if len(pts) < 2:
        raise invalid_argument("Geometry.LineString: LineString requires at least 2 points.")
    return _in_projection(crs, LineString(pts), geodesic)


@algorithm("GeometryConstructors.LinearRing")
def linear_ring(coordinates, crs=None, geodesic=None, maxError=None):
    pts = _coords(coordinates, 2, "Geometry.LinearRing")
    return _in_projection(crs, LinearRing(_ring(pts, "Geometry.LinearRing")), geodesic)


@algorithm("GeometryConstructors.MultiLineString")
def multi_line_string(coordinates, crs=None, geodesic=None, maxError=None):
    lines = _coords(coordinates, 3, "Geometry.MultiLineString") if coordinates else []
    return _in_projection(crs, MultiLineString(lines), geodesic)


def _polygon(rings: List[List[List[float]]], name: str) -> Polygon:
    if not rings:
        return Polygon()
    shell = _ring(rings[0], name)
    holes = [_ring(r, name) for r in rings[1:]]
    poly = Polygon(shell, holes)
    if not poly.is_valid:
        poly = shapely.make_valid(poly)
    return poly


@algorithm("GeometryConstructors.Polygon")
def polygon(coordinates, crs=None, geodesic=None, maxError=None, evenOdd=True):
    rings = _coords(coordinates, 3, "Geometry.Polygon")
    return _in_projection(crs, _polygon(rings, "Geometry.Polygon"), geodesic, bool(evenOdd))


@algorithm("GeometryConstructors.Rectangle")
def rectangle(coordinates, crs=None, geodesic=None, evenOdd=True):
    flat = coordinates
    if isinstance(flat, list) and len(flat) == 2 and all(isinstance(c, list) for c in flat):
        flat = flat[0] + flat[1]
    if not isinstance(flat, list) or len(flat) != 4:
        raise invalid_argument("Geometry.Rectangle: The rectangle must be specified by 2 points or 4 numbers.")
    x0, y0, x1, y1 = (float(v) for v in flat)
    return _in_projection(crs, box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)),
                          False if geodesic is None else geodesic, bool(evenOdd))


@algorithm("GeometryConstructors.BBox")
def bbox(west, south, east, north):
    west, south, east, north = float(west), float(south), float(east), float(north)
    if east < west:
        east += 360.0
    return Geometry(box(west, max(-90.0, south), east, min(90.0, north)), WGS84, False)


@algorithm("GeometryConstructors.MultiPolygon")
def multi_polygon(coordinates, crs=None, geodesic=None, maxError=None, evenOdd=True):
    polys = _coords(coordinates, 4, "Geometry.MultiPolygon") if coordinates else []
    parts: List[Polygon] = []
    for rings in polys:
        p = _polygon(rings, "Geometry.MultiPolygon")
        parts.extend(p.geoms if p.geom_type == "MultiPolygon" else [p])
    return _in_projection(crs, MultiPolygon(parts), geodesic, bool(evenOdd))


@algorithm("GeometryConstructors.MultiGeometry")
def multi_geometry(geometries, crs=None, geodesic=None, maxError=None):
    shapes = [as_geometry(g).to_wgs84() for g in geometries]
    return Geometry(GeometryCollection(shapes), WGS84, geodesic)


def geometry_new(geoJson, proj=None, geodesic=None, evenOdd=None):
    geom = Geometry.from_geojson(geoJson)
    if proj is not None:
        geom = _in_projection(proj, geom.shape, geom.geodesic if geodesic is None else geodesic)
    elif geodesic is not None:
        geom = Geometry(geom.shape, geom.crs, geodesic)
    return geom


# --------------------------------------------------------------------------- methods


@algorithm("Geometry.area")
def geometry_area(geometry, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.area")
    if proj is not None:
        geom = geom.transform(_crs_of(proj))
    return geom.area()


@algorithm("Geometry.length")
def geometry_length(geometry, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.length")
    if proj is not None:
        geom = geom.transform(_crs_of(proj))
    return geom.length()


@algorithm("Geometry.perimeter")
def geometry_perimeter(geometry, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.perimeter")
    if proj is not None:
        geom = geom.transform(_crs_of(proj))
    return geom.perimeter()


@algorithm("Geometry.bounds")
def geometry_bounds(geometry, maxError=None, proj=None):
    return as_geometry(geometry, "Geometry.bounds").bounds(_crs_of(proj) if proj is not None else None)


@algorithm("Geometry.centroid")
def geometry_centroid(geometry, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.centroid")
    if proj is not None:
        return Geometry(geom.in_crs(_crs_of(proj)).centroid, _crs_of(proj))
    return geom.centroid()


@algorithm("Geometry.buffer")
def geometry_buffer(geometry, distance, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.buffer")
    if proj is not None:
        crs = _crs_of(proj)
        return Geometry(geom.in_crs(crs).buffer(float(distance), quad_segs=16), crs, False)
    return geom.buffer(float(distance))


@algorithm("Geometry.transform")
def geometry_transform(geometry, proj=None, maxError=None, geodesic=None):
    geom = as_geometry(geometry, "Geometry.transform").transform(_crs_of(proj))
    if geodesic is not None and geom.crs == WGS84:
        geom = Geometry(geom.shape, WGS84, geodesic)
    return geom


@algorithm("Geometry.coordinates")
def geometry_coordinates(geometry):
    info = as_geometry(geometry, "Geometry.coordinates").to_geojson()
    return info.get("coordinates", [])


@algorithm("Geometry.type")
def geometry_type(geometry):
    return as_geometry(geometry, "Geometry.type").type


@algorithm("Geometry.projection")
def geometry_projection(geometry):
    geom = as_geometry(geometry, "Geometry.projection")
    return Projection(geom.crs) if geom.crs != WGS84 else Projection.wgs84_degrees()


@algorithm("Geometry.geometries")
def geometry_geometries(geometry):
    geom = as_geometry(geometry, "Geometry.geometries")
    parts = getattr(geom.shape, "geoms", None)
    if parts is None:
        return [geom]
    return [Geometry(g, geom.crs, geom.geodesic) for g in parts]


@algorithm("Geometry.simplify")
def geometry_simplify(geometry, maxError, proj=None):
    geom = as_geometry(geometry, "Geometry.simplify")
    tolerance = float(maxError if not isinstance(maxError, dict) else maxError.get("value", 0))
    if geom.crs == WGS84:
        tolerance = tolerance / 111320.0
    return Geometry(geom.shape.simplify(tolerance), geom.crs, geom.geodesic)


def _binary(name: str, op):
    @algorithm(name)
    def implementation(left, right, maxError=None, proj=None):
        a = as_geometry(left, name)
        b = as_geometry(right, name)
        crs = _crs_of(proj) if proj is not None else WGS84
        return op(a.in_crs(crs), b.in_crs(crs), crs)

    return implementation


for _name, _op in {
    "Geometry.intersection": lambda a, b, crs: Geometry(a.intersection(b), crs, False if crs != WGS84 else None),
    "Geometry.union": lambda a, b, crs: Geometry(a.union(b), crs, False if crs != WGS84 else None),
    "Geometry.difference": lambda a, b, crs: Geometry(a.difference(b), crs, False if crs != WGS84 else None),
    "Geometry.symmetricDifference": lambda a, b, crs: Geometry(a.symmetric_difference(b), crs, False if crs != WGS84 else None),
    "Geometry.intersects": lambda a, b, crs: bool(a.intersects(b)),
    "Geometry.contains": lambda a, b, crs: bool(a.contains(b)),
    "Geometry.containedIn": lambda a, b, crs: bool(b.contains(a)),
    "Geometry.disjoint": lambda a, b, crs: bool(a.disjoint(b)),
}.items():
    _binary(_name, _op)


@algorithm("Geometry.distance")
def geometry_distance(left, right, maxError=None, proj=None, spherical=False):
    a = as_geometry(left, "Geometry.distance")
    b = as_geometry(right, "Geometry.distance")
    if proj is not None:
        crs = _crs_of(proj)
        return float(a.in_crs(crs).distance(b.in_crs(crs)))
    local = _local_aeqd(shapely.union_all([a.to_wgs84(), b.to_wgs84()]))
    return float(a.in_crs(local).distance(b.in_crs(local)))


@algorithm("Geometry.dissolve")
def geometry_dissolve(geometry, maxError=None, proj=None):
    geom = as_geometry(geometry, "Geometry.dissolve")
    return Geometry(shapely.union_all([geom.shape]), geom.crs, geom.geodesic)


@algorithm("Geometry.isUnbounded")
def geometry_is_unbounded(geometry):
    return False


@algorithm("ErrorMargin")
def error_margin(value=None, unit="meters"):
    """A geometry error margin: accepted and ignored (the sandbox computes exactly)."""
    return {"type": "ErrorMargin", "unit": unit or "meters", "value": value}
