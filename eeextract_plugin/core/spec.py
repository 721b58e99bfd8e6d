"""Job specs: what to extract, from where, on which grid, into which files.

A job spec is plain data (JSON, ``"version": 1``), the one input the dock, the Processing
algorithms and the command line all build. It says *what*, never *how*: the planner
(:mod:`eeextract_plugin.core.plan`) turns it into work units. Validation raises
:class:`SpecError` whose message starts with the field's path, e.g.
``"region.bbox: xmin must be < xmax"``.

Reference: ``docs/job-spec.md``; examples: ``examples/*.json``.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from eeextract_plugin.core.crs import is_known_crs
from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.geometry import Geometry, GeometryError
from eeextract_plugin.core.naming import file_stem_problem
from eeextract_plugin.core.zonal.engines import AUTO
from eeextract_plugin.core.zonal.engines import ENGINES as ZONAL_ENGINE_NAMES

log = logging.getLogger(__name__)

SPEC_VERSION = 1

KINDS = ("mosaic", "chips", "collection", "features", "table", "timeseries")
SOURCE_TYPES = ("asset", "collection", "expression")
COLLECTION_MODES = ("per_image", "composite")
REDUCERS = ("mean", "median", "min", "max", "sum", "first", "last", "mode", "count", "stdDev")
REGION_TYPES = ("bbox", "geometry", "file")
RASTER_FORMATS = ("COG", "GEO_TIFF", "NPY", "PNG", "JPEG")
TABLE_FORMATS = ("CSV", "GPKG", "CSV+GPKG")
METHODS = ("auto", "direct", "export_gcs", "export_drive")
#: How a direct unit's pixels are requested: computePixels/getPixels, or a thumbnail/download URL
#: created with credentials and fetched without them; ``auto`` chooses.
REQUEST_KINDS = ("auto", "pixels", "url")
#: Where a job's units run: this process's threads, or tasks on a Dask cluster (core/cluster/).
EXECUTION_ENGINES = ("threads", "dask")
FILTER_OPS = ("eq", "neq", "lt", "lte", "gt", "gte")
TABLE_OPERATIONS = ("sample", "reduce_regions")
ZONAL_ENGINES = ZONAL_ENGINE_NAMES + (AUTO,)
# Earth Engine's documented defaults for a project's quota (settings, never limits of ours:
# projects can have more).
DEFAULT_CONCURRENCY = 40
DEFAULT_REQUESTS_PER_SECOND = 100.0
DEFAULT_RESTRICTED_CONCURRENCY = 4
MAX_CONCURRENCY = 1000  # a sanity bound on the pool of threads, far above any project's quota
MAX_CHIP_SIDE = 32768  # Earth Engine's largest grid dimension for one pixel request.


class SpecError(BadInput):
    """A job spec that cannot be run; the message names the field (``"grid.scale: ..."``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message, field=path or None, reason=message)


# --------------------------------------------------------------------------------------------
# JSON as a job file may hold it: anything else is refused with one line, never a traceback.

#: Deepest nesting of a job spec (an expression's function calls nest; a few hundred is plenty).
MAX_DEPTH = 400
#: Largest whole number anywhere in a spec (a 64-bit integer: Earth Engine's own limit).
MAX_INTEGER = 2 ** 63


def _no_duplicate_keys(pairs: List[Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SpecError("", f"the key {key!r} appears twice in one object (which one is meant?)")
        out[key] = value
    return out


def parse_json(text: str, origin: str = "job") -> Any:
    """``json.loads`` for job files: malformed JSON, duplicate keys, ``NaN``/``Infinity``,
    nesting deeper than :data:`MAX_DEPTH` and numbers too long to read are :class:`SpecError`."""
    def no_constant(name: str) -> Any:
        raise SpecError("", f"{name} is not a JSON number")

    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=no_constant)
    except json.JSONDecodeError as exc:
        raise SpecError("", f"{origin}: malformed JSON at line {exc.lineno} column {exc.colno}: "
                            f"{exc.msg}") from None
    except SpecError as exc:
        raise SpecError("", f"{origin}: {exc.reason}") from None
    except RecursionError:
        raise SpecError("", f"{origin}: nested more than {MAX_DEPTH} levels deep") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise SpecError("", f"{origin}: unreadable number ({str(exc).split(':')[0]})") from None


def check_plain_data(value: Any, path: str = "", depth: int = 0) -> None:
    """A spec (from a file or a front end's dict) is plain JSON data of sane size: nesting at
    most :data:`MAX_DEPTH`, whole numbers within ±2**63, real numbers finite."""
    stack = [(value, path, depth)]
    while stack:
        v, p, d = stack.pop()
        if d > MAX_DEPTH:
            raise SpecError(p, f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(v, bool) or v is None or isinstance(v, str):
            continue
        if isinstance(v, int):
            if abs(v) >= MAX_INTEGER:
                raise SpecError(p, f"the number {str(v)[:12]}… ({len(str(abs(v)))} digits) is out of range")
        elif isinstance(v, float):
            if not math.isfinite(v):
                raise SpecError(p, f"{v!r} is not a usable number")
        elif isinstance(v, dict):
            for k, item in v.items():
                if not isinstance(k, str):
                    raise SpecError(p, f"has a key that is not a string: {k!r}")
                stack.append((item, f"{p}.{k}" if p else k, d + 1))
        elif isinstance(v, (list, tuple)):
            for i, item in enumerate(v):
                stack.append((item, f"{p}[{i}]", d + 1))
        else:
            raise SpecError(p, f"must be JSON data, not {type(v).__name__}")


# --------------------------------------------------------------------------------------------
# Small checked readers: each names the field it reads.


def _obj(d: Any, path: str) -> Dict[str, Any]:
    if not isinstance(d, dict):
        raise SpecError(path, f"must be an object, not {type(d).__name__}")
    return d


def _unknown(d: Dict[str, Any], path: str, known: Sequence[str]) -> None:
    extra = sorted(set(d) - set(known))
    if extra:
        raise SpecError(f"{path}.{extra[0]}" if path else extra[0],
                        f"unknown field (known: {', '.join(known)})")


def _str(d: Dict[str, Any], key: str, path: str, default: Optional[str] = None,
         required: bool = False, choices: Optional[Sequence[str]] = None) -> Optional[str]:
    p = f"{path}.{key}" if path else key
    if key not in d or d[key] is None:
        if required:
            raise SpecError(p, "is required")
        return default
    v = d[key]
    if not isinstance(v, str):
        raise SpecError(p, f"must be a string, not {type(v).__name__}")
    if choices is not None and v not in choices:
        raise SpecError(p, f"must be one of {', '.join(choices)}, not {v!r}")
    return v


def _num(d: Dict[str, Any], key: str, path: str, default: Optional[float] = None,
         positive: bool = False, integer: bool = False, minimum: Optional[float] = None,
         maximum: Optional[float] = None) -> Optional[float]:
    p = f"{path}.{key}" if path else key
    if key not in d or d[key] is None:
        return default
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SpecError(p, f"must be a number, not {v!r}")
    if integer and int(v) != v:
        raise SpecError(p, f"must be a whole number, not {v!r}")
    if positive and v <= 0:
        raise SpecError(p, f"must be > 0, not {v!r}")
    if minimum is not None and v < minimum:
        raise SpecError(p, f"must be >= {minimum}, not {v!r}")
    if maximum is not None and v > maximum:
        raise SpecError(p, f"must be <= {maximum}, not {v!r}")
    return int(v) if integer else float(v)


def _bool(d: Dict[str, Any], key: str, path: str, default: bool) -> bool:
    p = f"{path}.{key}" if path else key
    if key not in d or d[key] is None:
        return default
    if not isinstance(d[key], bool):
        raise SpecError(p, f"must be true or false, not {d[key]!r}")
    return d[key]


def _strlist(d: Dict[str, Any], key: str, path: str) -> Optional[List[str]]:
    p = f"{path}.{key}" if path else key
    if key not in d or d[key] is None:
        return None
    v = d[key]
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise SpecError(p, "must be a list of non-empty strings")
    if not v:
        raise SpecError(p, "must not be empty (leave it out for all)")
    return list(v)


def _date(d: Dict[str, Any], key: str, path: str) -> Optional[str]:
    s = _str(d, key, path)
    if s is None:
        return None
    try:
        (datetime.fromisoformat(s) if "T" in s else date.fromisoformat(s))
    except ValueError:
        raise SpecError(f"{path}.{key}", f"must be an ISO date (YYYY-MM-DD), not {s!r}") from None
    return s


def _crs(value: Optional[str], path: str) -> Optional[str]:
    if value is None:
        return None
    if not is_known_crs(value):
        raise SpecError(path, f"unknown CRS {value!r}")
    return value


def _is_lonlat(crs: Optional[str]) -> bool:
    return str(crs or "").strip().upper().replace(" ", "") in ("EPSG:4326", "OGC:CRS84", "CRS:84", "WGS84")


def _positions(coords: Any) -> List[List[float]]:
    """The [x, y] positions of GeoJSON coordinates (any nesting)."""
    out: List[List[float]] = []
    stack = [coords]
    while stack:
        c = stack.pop()
        if isinstance(c, (list, tuple)) and c and all(isinstance(v, (int, float)) for v in c):
            out.append([float(c[0]), float(c[1] if len(c) > 1 else 0.0)])
        elif isinstance(c, (list, tuple)):
            stack.extend(c)
    return out


def _rings(coords: Any) -> List[List[List[float]]]:
    """The rings (lists of positions) of Polygon / MultiPolygon coordinates."""
    if not isinstance(coords, list):
        return []
    if coords and isinstance(coords[0], list) and coords[0] and isinstance(coords[0][0], (int, float)):
        return [coords]  # a ring
    rings: List[List[List[float]]] = []
    for c in coords:
        rings += _rings(c)
    return rings


def _check_lonlat(coords: Any, path: str) -> None:
    """Longitudes and latitudes (EPSG:4326, x = longitude): within ±180 / ±90, and no edge that
    crosses the antimeridian (which would be read as running the long way round the globe:
    a polygon from 179° to -179° is 2° wide, not 358°)."""
    for x, y in _positions(coords):
        if not -90.0 <= y <= 90.0:
            raise SpecError(path, f"latitude {y:g} is beyond ±90° (EPSG:4326 coordinates are "
                                  "[longitude, latitude])")
        if not -180.0 <= x <= 180.0:
            raise SpecError(path, f"longitude {x:g} is beyond ±180° (EPSG:4326 coordinates are "
                                  "[longitude, latitude])")
    for ring in _rings(coords):
        for a, b in zip(ring, ring[1:]):
            if abs(float(a[0]) - float(b[0])) > 180.0:
                raise SpecError(path, "crosses the antimeridian (an edge spans more than 180° of "
                                      "longitude): split it at ±180° into a MultiPolygon, or give it "
                                      "in a CRS where it does not cross (e.g. EPSG:3832)")


def _drop_none(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# --------------------------------------------------------------------------------------------


@dataclass
class PropertyFilter:
    """Keep collection images whose ``property`` compares ``op`` to ``value``."""

    property: str
    op: str
    value: Union[str, float, int, bool]

    @classmethod
    def from_dict(cls, d: Any, path: str) -> PropertyFilter:
        d = _obj(d, path)
        _unknown(d, path, ("property", "op", "value"))
        prop = _str(d, "property", path, required=True)
        op = _str(d, "op", path, default="eq", choices=FILTER_OPS)
        if "value" not in d or isinstance(d["value"], (dict, list)) or d["value"] is None:
            raise SpecError(f"{path}.value", "is required (a string, number or boolean)")
        return cls(prop, op, d["value"])  # type: ignore[arg-type]


@dataclass
class Source:
    """Where the pixels come from.

    - ``asset``: a stored image by ID (fetched with ``getPixels``; nothing computed).
    - ``collection``: an image collection by ID with date range, bounds (the job's region),
      property filters, bands; ``mode`` ``per_image`` (one output per image) or ``composite``
      (one output per ``window_days`` window reduced with ``reducer``; the whole range when
      ``window_days`` is absent).
    - ``expression``: an image (or collection) as the client serializes it,
      ``ee.serializer.encode(obj, for_cloud_api=True)``; never Python source.
    """

    type: str
    asset_id: Optional[str] = None
    expression: Optional[Dict[str, Any]] = None
    bands: Optional[List[str]] = None
    start: Optional[str] = None
    end: Optional[str] = None
    filters: List[PropertyFilter] = field(default_factory=list)
    mode: str = "per_image"
    window_days: Optional[int] = None
    reducer: str = "median"
    max_images: Optional[int] = None
    # Band math applied after the reducer: {"name": "NDVI", "normalized_difference": ["B8","B4"]}
    index: Optional[Dict[str, Any]] = None

    @classmethod
    def from_dict(cls, d: Any, path: str = "source") -> Source:
        d = _obj(d, path)
        _unknown(d, path, ("type", "asset_id", "expression", "bands", "start", "end", "filters",
                           "mode", "window_days", "reducer", "max_images", "index"))
        guess = "asset" if "asset_id" in d else "expression" if "expression" in d else None
        t = _str(d, "type", path, default=guess, choices=SOURCE_TYPES)
        if t is None:
            raise SpecError(f"{path}.type", f"is required (one of {', '.join(SOURCE_TYPES)})")
        src = cls(type=t)
        src.bands = _strlist(d, "bands", path)
        if t in ("asset", "collection"):
            aid = _str(d, "asset_id", path, required=True)
            assert aid is not None
            if not re.fullmatch(r"[A-Za-z0-9_\-./]+", aid) or aid.startswith("/") or "//" in aid \
                    or any(part in (".", "..") for part in aid.split("/")):
                raise SpecError(f"{path}.asset_id", f"is not an Earth Engine asset ID: {aid!r}")
            src.asset_id = aid
            if "expression" in d:
                raise SpecError(f"{path}.expression", f"is not used with type {t!r}")
        else:
            expr = d.get("expression")
            if expr is None:
                raise SpecError(f"{path}.expression", "is required for type 'expression'")
            if isinstance(expr, str):
                try:
                    expr = json.loads(expr)
                except RecursionError:
                    raise SpecError(f"{path}.expression", f"nested more than {MAX_DEPTH} levels deep") from None
                except ValueError:
                    raise SpecError(f"{path}.expression",
                                    "must be the serialized JSON of an Earth Engine object "
                                    "(ee.serializer.encode(obj, for_cloud_api=True)), "
                                    "not Python source") from None
                check_plain_data(expr, f"{path}.expression")
            expr = _obj(expr, f"{path}.expression")
            if "result" not in expr or not isinstance(expr.get("values"), dict):
                raise SpecError(f"{path}.expression",
                                "must have 'result' and 'values' (the output of "
                                "ee.serializer.encode(obj, for_cloud_api=True))")
            if str(expr["result"]) not in expr["values"]:
                raise SpecError(f"{path}.expression.result",
                                f"refers to value {expr['result']!r}, not in 'values'")
            src.expression = expr
            if "asset_id" in d:
                raise SpecError(f"{path}.asset_id", "is not used with type 'expression'")
        src.start = _date(d, "start", path)
        src.end = _date(d, "end", path)
        if src.start and src.end and src.start >= src.end:
            raise SpecError(f"{path}.end", f"must be after start ({src.start} >= {src.end})")
        if "filters" in d and d["filters"] is not None:
            if not isinstance(d["filters"], list):
                raise SpecError(f"{path}.filters", "must be a list")
            src.filters = [PropertyFilter.from_dict(f, f"{path}.filters[{i}]")
                           for i, f in enumerate(d["filters"])]
        src.mode = _str(d, "mode", path, default="per_image", choices=COLLECTION_MODES)  # type: ignore[assignment]
        wd = _num(d, "window_days", path, positive=True, integer=True)
        src.window_days = int(wd) if wd is not None else None
        src.reducer = _str(d, "reducer", path, default="median", choices=REDUCERS)  # type: ignore[assignment]
        mi = _num(d, "max_images", path, positive=True, integer=True)
        src.max_images = int(mi) if mi is not None else None
        if t != "collection":
            for key in ("start", "end", "filters", "window_days", "max_images"):
                if d.get(key):
                    raise SpecError(f"{path}.{key}", f"only applies to type 'collection', not {t!r}")
        elif src.mode == "composite" and src.window_days and not (src.start and src.end):
            raise SpecError(f"{path}.window_days", "needs start and end")
        if "index" in d and d["index"] is not None:
            idx = _obj(d["index"], f"{path}.index")
            _unknown(idx, f"{path}.index", ("name", "normalized_difference"))
            nd = idx.get("normalized_difference")
            if not (isinstance(nd, list) and len(nd) == 2 and all(isinstance(b, str) for b in nd)):
                raise SpecError(f"{path}.index.normalized_difference", "must be two band names")
            src.index = {"name": _str(idx, "name", f"{path}.index", default="index"),
                         "normalized_difference": list(nd)}
        return src

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"type": self.type, "asset_id": self.asset_id,
                             "expression": self.expression, "bands": self.bands}
        if self.type == "collection":
            d.update(start=self.start, end=self.end, mode=self.mode,
                     filters=[asdict(f) for f in self.filters] or None,
                     window_days=self.window_days, max_images=self.max_images)
            if self.mode == "composite":
                d["reducer"] = self.reducer
        d["index"] = self.index
        return _drop_none(d)


@dataclass
class Region:
    """Where: a bbox or a (multi)polygon / points GeoJSON geometry in ``crs``, or a vector file.

    With a vector file each feature is one output (``features``, ``chips``), one zone
    (``timeseries``, ``table`` with reduce_regions) or one point (``chips``, ``table`` with
    sample); ``id_field`` names the outputs (feature id when absent).
    """

    type: str
    bbox: Optional[List[float]] = None
    geometry: Optional[Dict[str, Any]] = None
    crs: str = "EPSG:4326"
    path: Optional[str] = None
    layer: Optional[str] = None
    id_field: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Any, path: str = "region") -> Region:
        d = _obj(d, path)
        _unknown(d, path, ("type", "bbox", "geometry", "crs", "path", "layer", "id_field"))
        guess = "bbox" if "bbox" in d else "geometry" if "geometry" in d else "file" if "path" in d else None
        t = _str(d, "type", path, default=guess, choices=REGION_TYPES)
        if t is None:
            raise SpecError(f"{path}.type", "is required (bbox, geometry or file)")
        crs = _crs(_str(d, "crs", path, default="EPSG:4326"), f"{path}.crs")
        r = cls(type=t, crs=crs or "EPSG:4326")
        if t == "bbox":
            b = d.get("bbox")
            if not (isinstance(b, list) and len(b) == 4
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                            and math.isfinite(v) for v in b)):
                raise SpecError(f"{path}.bbox", "must be [xmin, ymin, xmax, ymax] (4 numbers)")
            if b[0] >= b[2]:
                hint = (" — a box across the antimeridian is a geometry split at ±180° into a "
                        "MultiPolygon" if _is_lonlat(r.crs) and b[0] > 0 > b[2] else "")
                raise SpecError(f"{path}.bbox", f"xmin must be < xmax ({b[0]} >= {b[2]}){hint}")
            if b[1] >= b[3]:
                raise SpecError(f"{path}.bbox", f"ymin must be < ymax ({b[1]} >= {b[3]})")
            if _is_lonlat(r.crs):
                _check_lonlat([[b[0], b[1]], [b[2], b[3]]], f"{path}.bbox")
            r.bbox = [float(v) for v in b]
        elif t == "geometry":
            g = _obj(d.get("geometry"), f"{path}.geometry")
            try:
                geom = Geometry.from_geojson(g)
            except GeometryError as exc:
                raise SpecError(f"{path}.geometry", f"is not a GeoJSON geometry ({exc})") from None
            if geom.is_empty:
                raise SpecError(f"{path}.geometry", "is empty")
            if geom.geom_type in ("Polygon", "MultiPolygon") and geom.area <= 0:
                raise SpecError(f"{path}.geometry", "has zero area")
            if geom.geom_type not in ("Polygon", "MultiPolygon", "Point", "MultiPoint"):
                raise SpecError(f"{path}.geometry",
                                f"must be a (Multi)Polygon or (Multi)Point, not {geom.geom_type}")
            if _is_lonlat(r.crs):
                _check_lonlat(g.get("coordinates"), f"{path}.geometry")
            r.geometry = g
        else:
            r.path = _str(d, "path", path, required=True)
            r.layer = _str(d, "layer", path)
        r.id_field = _str(d, "id_field", path)
        return r

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none({"type": self.type, "bbox": self.bbox, "geometry": self.geometry,
                           "crs": self.crs, "path": self.path, "layer": self.layer,
                           "id_field": self.id_field})


@dataclass
class Grid:
    """The output pixel grid: ``crs`` + ``scale`` (output CRS units per pixel), or
    ``crs_transform`` (Earth Engine's order: scaleX, shearX, translateX, shearY, scaleY,
    translateY). Absent values come from the source's native grid. With ``snap`` (default)
    pixel edges are aligned to the native grid's when the CRS and scale allow."""

    crs: Optional[str] = None
    scale: Optional[float] = None
    crs_transform: Optional[List[float]] = None
    snap: bool = True

    @classmethod
    def from_dict(cls, d: Any, path: str = "grid") -> Grid:
        d = _obj(d if d is not None else {}, path)
        _unknown(d, path, ("crs", "scale", "crs_transform", "snap"))
        g = cls(crs=_crs(_str(d, "crs", path), f"{path}.crs"),
                scale=_num(d, "scale", path, positive=True), snap=_bool(d, "snap", path, True))
        if "crs_transform" in d and d["crs_transform"] is not None:
            t = d["crs_transform"]
            if not (isinstance(t, list) and len(t) == 6
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in t)):
                raise SpecError(f"{path}.crs_transform", "must be 6 numbers "
                                "[scaleX, shearX, translateX, shearY, scaleY, translateY]")
            if t[0] == 0 or t[4] == 0 or (t[0] * t[4] - t[1] * t[3]) == 0:
                raise SpecError(f"{path}.crs_transform", "is singular (zero pixel size)")
            if t[1] != 0 or t[3] != 0:
                raise SpecError(f"{path}.crs_transform", "rotated grids (shear) are not supported")
            if g.scale is not None:
                raise SpecError(f"{path}.scale", "give scale or crs_transform, not both")
            if g.crs is None:
                raise SpecError(f"{path}.crs", "is required with crs_transform")
            g.crs_transform = [float(v) for v in t]
        return g

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none({"crs": self.crs, "scale": self.scale,
                           "crs_transform": self.crs_transform, "snap": self.snap})


@dataclass
class Visualization:
    """How PNG / JPEG chips are rendered (Earth Engine's visualization parameters)."""

    bands: Optional[List[str]] = None
    min: Optional[List[float]] = None
    max: Optional[List[float]] = None
    palette: Optional[List[str]] = None
    gamma: Optional[float] = None

    @classmethod
    def from_dict(cls, d: Any, path: str) -> Visualization:
        d = _obj(d, path)
        _unknown(d, path, ("bands", "min", "max", "palette", "gamma"))
        v = cls(bands=_strlist(d, "bands", path), palette=_strlist(d, "palette", path),
                gamma=_num(d, "gamma", path, positive=True))
        for key in ("min", "max"):
            x = d.get(key)
            if x is None:
                continue
            x = [x] if isinstance(x, (int, float)) and not isinstance(x, bool) else x
            if not (isinstance(x, list) and x and all(isinstance(e, (int, float)) for e in x)):
                raise SpecError(f"{path}.{key}", "must be a number or a list of numbers")
            setattr(v, key, [float(e) for e in x])
        if v.min and v.max and len(v.min) == len(v.max) and any(a >= b for a, b in zip(v.min, v.max)):
            raise SpecError(f"{path}.max", "must be greater than min")
        if v.bands and len(v.bands) not in (1, 3):
            raise SpecError(f"{path}.bands", "must name 1 or 3 bands")
        return v

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none(asdict(self))


@dataclass
class Output:
    """Where and how results are written.

    ``format``: rasters ``COG`` (default), ``GEO_TIFF``, ``NPY``, ``PNG``, ``JPEG``; tables
    ``CSV``, ``GPKG`` or ``CSV+GPKG`` (default). ``chip_size`` is the chip's width and height
    in pixels (``chips``). ``name`` prefixes every file (the job's name when absent). ``vrt``:
    also write a VRT over the job's GeoTIFF outputs (``<name>-mosaic.vrt``).
    """

    directory: str = "."
    format: Optional[str] = None
    name: Optional[str] = None
    overwrite: bool = False
    chip_size: Optional[List[int]] = None
    visualization: Optional[Visualization] = None
    nodata: Optional[float] = None
    compression: str = "DEFLATE"
    vrt: bool = False

    @classmethod
    def from_dict(cls, d: Any, path: str = "output") -> Output:
        d = _obj(d if d is not None else {}, path)
        _unknown(d, path, ("directory", "format", "name", "overwrite", "chip_size",
                           "visualization", "nodata", "compression", "vrt"))
        o = cls(directory=_str(d, "directory", path, default=".") or ".",
                format=_str(d, "format", path, choices=RASTER_FORMATS + TABLE_FORMATS),
                name=_str(d, "name", path), overwrite=_bool(d, "overwrite", path, False),
                vrt=_bool(d, "vrt", path, False),
                nodata=_num(d, "nodata", path),
                compression=_str(d, "compression", path, default="DEFLATE",
                                 choices=("DEFLATE", "LZW", "ZSTD", "NONE")) or "DEFLATE")
        if o.name is not None:
            problem = file_stem_problem(o.name)
            if problem:
                raise SpecError(f"{path}.name", f"{problem}, not {o.name!r} (it starts every file name)")
        cs = d.get("chip_size")
        if cs is not None:
            cs = [cs, cs] if isinstance(cs, int) and not isinstance(cs, bool) else cs
            if not (isinstance(cs, list) and len(cs) == 2
                    and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in cs)):
                raise SpecError(f"{path}.chip_size", "must be a positive pixel count or [width, height]")
            if max(cs) > MAX_CHIP_SIDE:
                raise SpecError(f"{path}.chip_size", f"at most {MAX_CHIP_SIDE:,} px a side (the largest grid "
                                f"one Earth Engine request may have), not {max(cs):,}; use kind 'features' "
                                "or 'mosaic' for larger areas")
            o.chip_size = list(cs)
        if d.get("visualization") is not None:
            o.visualization = Visualization.from_dict(d["visualization"], f"{path}.visualization")
        return o

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none({"directory": self.directory, "format": self.format, "name": self.name,
                           "overwrite": self.overwrite or None, "chip_size": self.chip_size,
                           "visualization": self.visualization.to_dict() if self.visualization else None,
                           "nodata": self.nodata, "vrt": self.vrt or None,
                           "compression": None if self.compression == "DEFLATE" else self.compression})


@dataclass
class Method:
    """How pixels leave Earth Engine: ``auto`` (the default: the planner compares the direct and
    batch plans and picks one, saying why), ``direct`` (parallel interactive requests),
    ``export_gcs`` (batch export to a Cloud Storage ``bucket``), ``export_drive`` (to a Drive
    ``folder``; ``drive_mode`` ``api`` or ``mounted`` with ``mounted_path``). With ``auto``, batch
    is possible only when a ``bucket`` or a ``folder`` is given."""

    type: str = "auto"
    bucket: Optional[str] = None
    folder: Optional[str] = None
    prefix: Optional[str] = None
    file_dimensions: int = 12800
    shard_size: int = 256
    delete_after_download: bool = False
    drive_mode: str = "api"
    mounted_path: Optional[str] = None
    max_in_flight: int = 20
    resubmit: int = 1

    @classmethod
    def from_dict(cls, d: Any, path: str = "method") -> Method:
        if isinstance(d, str):
            d = {"type": d}
        d = _obj(d if d is not None else {}, path)
        _unknown(d, path, ("type", "bucket", "folder", "prefix", "file_dimensions", "shard_size",
                           "delete_after_download", "drive_mode", "mounted_path", "max_in_flight",
                           "resubmit"))
        m = cls(type=_str(d, "type", path, default="auto", choices=METHODS) or "auto")
        m.bucket = _str(d, "bucket", path)
        m.folder = _str(d, "folder", path)
        m.prefix = _str(d, "prefix", path)
        m.shard_size = int(_num(d, "shard_size", path, 256, positive=True, integer=True))  # type: ignore[arg-type]
        m.file_dimensions = int(_num(d, "file_dimensions", path, 12800, positive=True, integer=True))  # type: ignore[arg-type]
        if m.file_dimensions % m.shard_size:
            raise SpecError(f"{path}.file_dimensions",
                            f"must be a multiple of shard_size ({m.shard_size})")
        m.delete_after_download = _bool(d, "delete_after_download", path, False)
        m.drive_mode = _str(d, "drive_mode", path, default="api", choices=("api", "mounted")) or "api"
        m.mounted_path = _str(d, "mounted_path", path)
        m.max_in_flight = int(_num(d, "max_in_flight", path, 20, positive=True, integer=True, maximum=3000))  # type: ignore[arg-type]
        m.resubmit = int(_num(d, "resubmit", path, 1, integer=True, minimum=0))  # type: ignore[arg-type]
        if m.type == "export_gcs" and not m.bucket:
            raise SpecError(f"{path}.bucket", "is required for export_gcs")
        if m.type == "export_drive" and not m.folder:
            raise SpecError(f"{path}.folder", "is required for export_drive")
        if m.drive_mode == "mounted" and m.type == "export_drive" and not m.mounted_path:
            raise SpecError(f"{path}.mounted_path", "is required with drive_mode 'mounted'")
        return m

    def to_dict(self) -> Dict[str, Any]:
        if self.type == "direct" or (self.type == "auto" and not (self.bucket or self.folder)):
            return {"type": self.type}
        d = asdict(self)
        return _drop_none(d)

    @property
    def batch_type(self) -> Optional[str]:
        """The export method batch would use (``export_gcs`` / ``export_drive``), or None."""
        if self.type in ("export_gcs", "export_drive"):
            return self.type
        if self.type == "auto":
            return "export_gcs" if self.bucket else "export_drive" if self.folder else None
        return None


@dataclass
class Execution:
    """How hard to push, within the project's quota.

    ``max_concurrent_requests`` is the project's concurrent-request quota (Earth Engine's default
    is 40; the engine starts below it, grows while requests succeed and settles below the level
    that draws 429s); ``requests_per_second`` its request-rate quota (100 by default);
    ``restricted_concurrency`` the requests in flight once Earth Engine puts the project in
    restricted mode (noncommercial tier used up). ``request_kind``: ``pixels``
    (computePixels / getPixels), ``url`` (a thumbnail or download URL per unit, fetched without
    credentials) or ``auto``. Also retries per unit and an optional tile size (pixels a side)
    overriding the planner's.

    ``engine``: ``threads`` (this process) or ``dask`` (the units as tasks on a Dask cluster,
    one quota for the whole cluster; ``auto`` requests are URLs there, ``pixels`` is refused:
    workers hold no credentials). ``dask_scheduler``: a scheduler address
    (``tcp://host:8786``), ``local:N`` (a local cluster of N worker processes for the run) or
    ``local``; absent: Dask's own setting (``DASK_SCHEDULER_ADDRESS``), else ``local``."""

    max_concurrent_requests: int = DEFAULT_CONCURRENCY
    max_retries: int = 8
    tile_size: Optional[int] = None
    adaptive: bool = True
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    restricted_concurrency: int = DEFAULT_RESTRICTED_CONCURRENCY
    request_kind: str = "auto"
    engine: str = "threads"
    dask_scheduler: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Any, path: str = "execution") -> Execution:
        d = _obj(d if d is not None else {}, path)
        _unknown(d, path, ("max_concurrent_requests", "max_retries", "tile_size", "adaptive",
                           "requests_per_second", "restricted_concurrency", "request_kind",
                           "engine", "dask_scheduler"))
        ts = _num(d, "tile_size", path, positive=True, integer=True, maximum=32768)
        ex = cls(
            max_concurrent_requests=int(_num(d, "max_concurrent_requests", path, DEFAULT_CONCURRENCY,  # type: ignore[arg-type]
                                             positive=True, integer=True, maximum=MAX_CONCURRENCY)),
            max_retries=int(_num(d, "max_retries", path, 8, integer=True, minimum=0, maximum=100)),  # type: ignore[arg-type]
            tile_size=int(ts) if ts is not None else None,
            adaptive=_bool(d, "adaptive", path, True),
            requests_per_second=float(_num(d, "requests_per_second", path, DEFAULT_REQUESTS_PER_SECOND,  # type: ignore[arg-type]
                                           positive=True, maximum=100000)),
            restricted_concurrency=int(_num(d, "restricted_concurrency", path,  # type: ignore[arg-type]
                                            DEFAULT_RESTRICTED_CONCURRENCY, positive=True, integer=True,
                                            maximum=MAX_CONCURRENCY)),
            request_kind=_str(d, "request_kind", path, default="auto", choices=REQUEST_KINDS) or "auto",
            engine=_str(d, "engine", path, default="threads", choices=EXECUTION_ENGINES) or "threads",
            dask_scheduler=_str(d, "dask_scheduler", path),
        )
        if ex.engine == "dask" and ex.request_kind == "pixels":
            raise SpecError(f"{path}.request_kind", "'pixels' needs credentials, which Dask workers do "
                                                    "not hold: use 'url' or 'auto' with engine 'dask'")
        if ex.dask_scheduler is not None:
            if ex.engine != "dask":
                raise SpecError(f"{path}.dask_scheduler", "applies only with engine 'dask'")
            problem = scheduler_problem(ex.dask_scheduler)
            if problem:
                raise SpecError(f"{path}.dask_scheduler", problem)
        return ex

    @property
    def uses_urls(self) -> bool:
        """Units through thumbnail / download URLs: asked for, or on Dask (whose workers hold no
        credentials: ``auto`` means ``url`` there)."""
        return self.request_kind == "url" or self.engine == "dask"

    def to_dict(self) -> Dict[str, Any]:
        d = _drop_none(asdict(self))
        if d.get("engine") == "threads":  # the default: job files stay as they were
            del d["engine"]
        return d


def scheduler_problem(value: str) -> Optional[str]:
    """Why ``value`` is not a Dask scheduler (``tcp://host:port``, ``local`` or ``local:N``), or None."""
    if value == "local":
        return None
    if value.startswith("local:"):
        n = value[len("local:"):]
        if n.isdigit() and 1 <= int(n) <= 256:
            return None
        return f"'local:N' needs a number of worker processes from 1 to 256, not {n!r}"
    scheme, sep, rest = value.partition("://")
    if sep and scheme in ("tcp", "tls", "ws", "wss", "inproc", "ucx") and rest:
        return None
    return f"must be a scheduler address (tcp://host:8786), 'local' or 'local:N', not {value!r}"


@dataclass
class Table:
    """Tables computed in Earth Engine (kind ``table``) and time series (kind ``timeseries``).

    ``operation``: ``sample`` (band values at the region's points) or ``reduce_regions``
    (``reducer`` per polygon). ``scale`` is the reduction scale in metres (the grid's when
    absent). ``cell_size`` (region CRS units) groups nearby features into one request.
    """

    operation: str = "reduce_regions"
    reducer: str = "mean"
    scale: Optional[float] = None
    cell_size: Optional[float] = None

    @classmethod
    def from_dict(cls, d: Any, path: str = "table") -> Table:
        d = _obj(d if d is not None else {}, path)
        _unknown(d, path, ("operation", "reducer", "scale", "cell_size"))
        return cls(operation=_str(d, "operation", path, default="reduce_regions",  # type: ignore[arg-type]
                                  choices=TABLE_OPERATIONS),
                   reducer=_str(d, "reducer", path, default="mean", choices=REDUCERS),  # type: ignore[arg-type]
                   scale=_num(d, "scale", path, positive=True),
                   cell_size=_num(d, "cell_size", path, positive=True))

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none(asdict(self))


@dataclass
class Zonal:
    """Local zonal statistics run on each finished raster (``core/zonal.py``)."""

    polygons: str
    id_field: str
    statistics: List[str] = field(default_factory=lambda: ["mean"])
    engine: str = "exactextract"
    layer: Optional[str] = None
    output: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Any, path: str = "zonal") -> Zonal:
        d = _obj(d, path)
        _unknown(d, path, ("polygons", "id_field", "statistics", "engine", "layer", "output"))
        return cls(polygons=_str(d, "polygons", path, required=True),  # type: ignore[arg-type]
                   id_field=_str(d, "id_field", path, required=True),  # type: ignore[arg-type]
                   statistics=_strlist(d, "statistics", path) or ["mean"],
                   engine=_str(d, "engine", path, default="exactextract", choices=ZONAL_ENGINES),  # type: ignore[arg-type]
                   layer=_str(d, "layer", path), output=_str(d, "output", path))

    def to_dict(self) -> Dict[str, Any]:
        return _drop_none(asdict(self))


@dataclass
class JobSpec:
    """One extraction job. ``kind`` picks the work units:

    - ``mosaic``: one region → tiles → one raster;
    - ``chips``: one chip of ``output.chip_size`` pixels centred on each point;
    - ``collection``: one raster per image, or per date window (``source.mode``);
    - ``features``: one raster per feature of ``region`` (a file or multipolygon);
    - ``table``: values sampled at points / statistics per polygon, computed in Earth Engine;
    - ``timeseries``: one row per image per region.
    """

    name: str
    kind: str
    source: Source
    region: Region
    grid: Grid = field(default_factory=Grid)
    output: Output = field(default_factory=Output)
    method: Method = field(default_factory=Method)
    execution: Execution = field(default_factory=Execution)
    table: Optional[Table] = None
    zonal: Optional[Zonal] = None
    description: Optional[str] = None
    version: int = SPEC_VERSION

    # ---------------------------------------------------------------------------------- I/O
    @classmethod
    def from_dict(cls, d: Any) -> JobSpec:
        d = _obj(d, "job")
        check_plain_data(d)
        _unknown(d, "", ("version", "name", "kind", "description", "source", "region", "grid",
                         "output", "method", "execution", "table", "zonal"))
        version = d.get("version")
        if version is None:
            raise SpecError("version", f"is required (this program reads version {SPEC_VERSION})")
        if isinstance(version, bool) or version != SPEC_VERSION:
            raise SpecError("version", f"{version!r} is not supported (this program reads {SPEC_VERSION})")
        name = _str(d, "name", "", required=True)
        assert name is not None
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}", name):
            raise SpecError("name", "must be 1-100 letters, digits, '_', '-', '.' or spaces, "
                                    f"starting with a letter or digit, not {name!r}")
        kind = _str(d, "kind", "", required=True, choices=KINDS)
        if "source" not in d:
            raise SpecError("source", "is required")
        if "region" not in d:
            raise SpecError("region", "is required")
        spec = cls(
            name=name, kind=kind,  # type: ignore[arg-type]
            description=_str(d, "description", ""),
            source=Source.from_dict(d["source"]),
            region=Region.from_dict(d["region"]),
            grid=Grid.from_dict(d.get("grid")),
            output=Output.from_dict(d.get("output")),
            method=Method.from_dict(d.get("method")),
            execution=Execution.from_dict(d.get("execution")),
            table=Table.from_dict(d["table"]) if d.get("table") is not None else None,
            zonal=Zonal.from_dict(d["zonal"]) if d.get("zonal") is not None else None,
        )
        spec.validate()
        return spec

    def validate(self) -> None:
        """Checks across sections (each section checks itself when read)."""
        k, s, o, r = self.kind, self.source, self.output, self.region
        if o.name is None and file_stem_problem(self.output_name):
            raise SpecError("name", f"{self.name!r} cannot start file names "
                                    f"({file_stem_problem(self.output_name)}): set output.name")
        table_kind = k in ("table", "timeseries")
        if o.format is None:
            o.format = "CSV+GPKG" if table_kind else "PNG" if (k == "chips" and o.visualization) else "COG"
        if table_kind and o.format not in TABLE_FORMATS:
            raise SpecError("output.format", f"kind {k!r} writes tables: one of {', '.join(TABLE_FORMATS)}")
        if not table_kind and o.format not in RASTER_FORMATS:
            raise SpecError("output.format", f"kind {k!r} writes rasters: one of {', '.join(RASTER_FORMATS)}")
        if k == "collection" and not (s.type == "collection" or s.type == "expression"):
            raise SpecError("source.type", "kind 'collection' needs a collection source")
        if k == "timeseries" and s.type not in ("collection", "expression"):
            raise SpecError("source.type", "kind 'timeseries' needs a collection source")
        if k == "chips":
            if o.chip_size is None:
                o.chip_size = [256, 256]
            if r.type == "bbox":
                raise SpecError("region.type", "kind 'chips' needs points (a geometry or a file)")
            if r.type == "geometry" and r.geometry and r.geometry.get("type") not in ("Point", "MultiPoint"):
                raise SpecError("region.geometry", "kind 'chips' needs Point or MultiPoint")
        if k in ("mosaic", "collection") and r.type == "geometry" and r.geometry \
                and r.geometry.get("type") in ("Point", "MultiPoint"):
            raise SpecError("region.geometry", f"kind {k!r} needs an area (bbox or polygon), not points")
        if k == "features" and r.type == "bbox":
            raise SpecError("region.type", "kind 'features' needs polygons (a geometry or a file)")
        if o.format in ("PNG", "JPEG") and k not in ("chips", "collection", "features", "mosaic"):
            raise SpecError("output.format", f"PNG/JPEG are not written for kind {k!r}")
        if o.visualization and o.format not in ("PNG", "JPEG"):
            raise SpecError("output.visualization", "applies only to PNG / JPEG output")
        if table_kind and self.table is None:
            self.table = Table(operation="reduce_regions" if k == "timeseries" else "reduce_regions")
        if not table_kind and self.table is not None:
            raise SpecError("table", f"only applies to kinds 'table' and 'timeseries', not {k!r}")
        if self.method.type not in ("direct", "auto") and (table_kind or o.format in ("PNG", "JPEG", "NPY")):
            raise SpecError("method.type", f"{self.method.type} exports GeoTIFF rasters; "
                                           f"kind {k!r} with format {o.format} needs 'direct'")
        if self.zonal is not None and table_kind:
            raise SpecError("zonal", "applies to raster outputs only")
        if self.grid.scale is None and self.grid.crs_transform is None and s.type == "expression" \
                and not table_kind:
            raise SpecError("grid.scale", "is required for an expression source (it has no native grid)")

    def to_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "version": self.version, "name": self.name, "kind": self.kind,
            "description": self.description,
            "source": self.source.to_dict(), "region": self.region.to_dict(),
            "grid": self.grid.to_dict(), "output": self.output.to_dict(),
            "method": self.method.to_dict(), "execution": self.execution.to_dict(),
            "table": self.table.to_dict() if self.table else None,
            "zonal": self.zonal.to_dict() if self.zonal else None,
        }
        return _drop_none(d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str, origin: str = "job") -> JobSpec:
        return cls.from_dict(parse_json(text, origin))

    @classmethod
    def from_file(cls, path: Union[str, Path]) -> JobSpec:
        """Reads a job file. Relative paths in it (output.directory, region.path,
        zonal.polygons) are resolved against the file's folder."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError("", f"{p}: no such job file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError("", f"{p}: cannot read job file ({exc})") from None
        spec = cls.from_json(text, origin=str(p))
        spec.resolve_paths(p.parent)
        return spec

    def resolve_paths(self, base: Union[str, Path]) -> JobSpec:
        base = Path(base)

        def res(v: Optional[str]) -> Optional[str]:
            return v if v is None or Path(v).is_absolute() else str((base / v).resolve())

        self.output.directory = res(self.output.directory) or "."
        self.region.path = res(self.region.path)
        if self.zonal:
            self.zonal.polygons = res(self.zonal.polygons) or self.zonal.polygons
        return self

    def to_file(self, path: Union[str, Path]) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    # ---------------------------------------------------------------------------- helpers
    @property
    def output_name(self) -> str:
        return self.output.name or re.sub(r"\s+", "_", self.name)
