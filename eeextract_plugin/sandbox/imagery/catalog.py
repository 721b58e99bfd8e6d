"""The sandbox's image catalog: built-in synthetic assets and the GeoTIFFs of ``--data DIR``.

Built-in (public, ``projects/earthengine-public/assets/<id>``):

- ``SANDBOX/DEM`` — Image, band ``elevation`` (int16, metres), the whole globe, EPSG:4326 at
  1 arc-second (transform [1/3600, 0, -180, 0, -1/3600, 90], 1296000 × 648000 px).
- ``SANDBOX/LANDCOVER`` — Image, band ``landcover`` (uint8), ESA WorldCover-like class codes
  10, 20, …, 100 (tree, shrub, grass, crop, built-up, bare, snow/ice, water, wetland,
  moss/lichen), EPSG:4326 at 1/12000° (≈ 9.3 m at the equator, WorldCover's grid; 4320000 ×
  2160000 px).
- ``SANDBOX/S2_SR`` — ImageCollection of Sentinel-2-like scenes (see :mod:`.s2`).

Everything is generated on demand from deterministic functions of position (:mod:`.synthetic`):
any size, identical on every run. Land and water are real (coastlines and lakes from GSHHG,
:mod:`.geography`; e.g. 5.8–6.2°E, 49.4–49.6°N, Luxembourg and Lorraine, is land on both sides
of the UTM 31/32 boundary, which the tests use); relief, climate and land cover are synthetic but
consistent across assets: water in LANDCOVER is where DEM ≤ 0 (apart from small synthetic lakes),
S2 surfaces follow LANDCOVER.

Every ``*.tif``/``*.tiff`` in ``config.data_dir`` is an image asset
``projects/sandbox/assets/<stem>``, read lazily with GDAL windows (bands ``b1``, ``b2``… unless
the file names them; nodata → masked).
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.imagery import s2, synthetic
from eeextract_plugin.sandbox.imagery.image import INT16, UINT8, Image, NativeBand, PixelType
from eeextract_plugin.sandbox.imagery.lattice import TwoScale
from eeextract_plugin.sandbox.imagery.projection import Projection, transform_xy

PUBLIC_PREFIX = "projects/earthengine-public/assets/"
LEGACY_PREFIX = "projects/earthengine-legacy/assets/"
LOCAL_PREFIX = "projects/sandbox/assets/"
VERSION = 1700000000000000
UPDATE_TIME = "2023-11-14T22:13:20Z"

DEM_ID = "SANDBOX/DEM"
LANDCOVER_ID = "SANDBOX/LANDCOVER"
S2_ID = s2.COLLECTION_ID

DEM_SCALE = 1.0 / 3600.0
LANDCOVER_SCALE = 1.0 / 12000.0


# Broad fields on control points every 4 arc-seconds (DEM) and every 12 pixels (LANDCOVER):
# both ~100 m, like the S2 tiles' 100 m (see .lattice).
_DEM_FIELDS = TwoScale(4, synthetic.broad_terrain,
                       lambda u, v: (-180.0 + u / 3600.0, 90.0 - v / 3600.0), geographic=True)
_LANDCOVER_FIELDS = TwoScale(12, synthetic.broad_cover,
                             lambda u, v: (-180.0 + u / 12000.0, 90.0 - v / 12000.0), geographic=True)


class DemBand(NativeBand):
    def __init__(self):
        proj = Projection("EPSG:4326", (DEM_SCALE, 0.0, -180.0, 0.0, -DEM_SCALE, 90.0))
        super().__init__("elevation", INT16, proj, None, (360 * 3600, 180 * 3600))

    def sample(self, cols, rows, grid):
        fields, lon, lat = _DEM_FIELDS.sample(cols, rows)
        z = synthetic.elevation_at(fields, synthetic.detail_noise(lon, lat), synthetic.ridge_noise(lon, lat))
        values = np.round(z).astype(np.int16)
        return values, np.ones(values.shape, bool)


class LandcoverBand(NativeBand):
    def __init__(self):
        proj = Projection("EPSG:4326", (LANDCOVER_SCALE, 0.0, -180.0, 0.0, -LANDCOVER_SCALE, 90.0))
        super().__init__("landcover", UINT8, proj, None, (360 * 12000, 180 * 12000))
        self.pyramiding = "MODE"

    def sample(self, cols, rows, grid):
        fields, lon, lat = _LANDCOVER_FIELDS.sample(cols, rows)
        values = synthetic.landcover_at(fields, synthetic.detail_noise(lon, lat), lat)
        return values, np.ones(values.shape, bool)


def dem_image() -> Image:
    return Image([DemBand()], {"system:index": "DEM", "title": "Sandbox synthetic elevation (1 arc-second)",
                               "system:asset_size": 0}, asset_id=DEM_ID, version=VERSION)


def landcover_image() -> Image:
    classes = sorted(synthetic.LANDCOVER_CLASSES)
    return Image([LandcoverBand()], {
        "system:index": "LANDCOVER",
        "title": "Sandbox synthetic land cover (WorldCover-like classes)",
        "landcover_class_values": classes,
        "landcover_class_names": [synthetic.LANDCOVER_CLASSES[c] for c in classes],
    }, asset_id=LANDCOVER_ID, version=VERSION)


# ----------------------------------------------------------------------------- GeoTIFF

_GDAL_TYPES = {
    1: PixelType("int", 0, 255),            # Byte
    2: PixelType("int", 0, 65535),          # UInt16
    3: PixelType("int", -32768, 32767),     # Int16
    4: PixelType("int", 0, 4294967295),     # UInt32
    5: PixelType("int", -2147483648, 2147483647),  # Int32
    6: PixelType("float"),                  # Float32
    7: PixelType("double"),                 # Float64
}

_DATASETS = threading.local()


def _open(path: str):
    from osgeo import gdal

    cache = getattr(_DATASETS, "cache", None)
    if cache is None:
        cache = _DATASETS.cache = {}
    ds = cache.get(path)
    if ds is None:
        ds = gdal.Open(path, gdal.GA_ReadOnly)
        if ds is None:
            raise invalid_argument(f"Cannot read image asset file {Path(path).name}.")
        cache[path] = ds
    return ds


class GeoTiffBand(NativeBand):
    def __init__(self, path: str, index: int, name: str, pixel_type: PixelType, proj: Projection,
                 footprint: Any, dims: Tuple[int, int], nodata: Optional[float]):
        super().__init__(name, pixel_type, proj, footprint, dims)
        self.path = path
        self.index = index
        self.nodata = nodata

    def _read(self, c0: int, r0: int, w: int, h: int) -> np.ndarray:
        band = _open(self.path).GetRasterBand(self.index)
        return band.ReadAsArray(c0, r0, w, h)

    def sample(self, cols, rows, grid):
        shape = np.broadcast(cols, rows).shape
        c0, c1 = int(np.min(cols)), int(np.max(cols))
        r0, r1 = int(np.min(rows)), int(np.max(rows))
        w, h = c1 - c0 + 1, r1 - r0 + 1
        if w * h <= max(4 * int(np.prod(shape)), 1 << 20):
            data = self._read(c0, r0, w, h)
            values = data[rows - r0, cols - c0]
        else:  # sparse (a coarse view of a big file): read only the rows needed
            cb, rb = np.broadcast_arrays(cols, rows)
            values = np.zeros(shape, dtype=self.pixel_type.dtype)
            for r in np.unique(rb):
                sel = rb == r
                line = self._read(c0, int(r), w, 1)[0]
                values[sel] = line[cb[sel] - c0]
        values = np.broadcast_to(values, shape)
        mask = np.ones(shape, bool)
        if self.nodata is not None:
            if np.isnan(self.nodata):
                mask = ~np.isnan(values)
            else:
                mask = values != self.nodata
        if values.dtype.kind == "f":
            mask = mask & np.isfinite(values)
        return values, mask


def geotiff_image(path: Path, asset_id: str) -> Image:
    from shapely.geometry import Polygon

    ds = _open(str(path))
    gt = ds.GetGeoTransform()
    transform = (gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
    wkt = ds.GetProjection()
    crs = _crs_code(wkt) if wkt else "EPSG:4326"
    proj = Projection(crs, transform)
    w, h = ds.RasterXSize, ds.RasterYSize
    n = 8
    t = np.linspace(0.0, 1.0, n + 1)
    cols = np.concatenate([t * w, np.full(n, w), (t * w)[::-1][1:], np.zeros(n - 1)])
    rows = np.concatenate([np.zeros(n + 1), (t * h)[1:], np.full(n, h), (t * h)[::-1][1:-1]])
    x, y = proj.from_pixel(cols, rows)
    lon, lat = transform_xy(crs, "EPSG:4326", x, y)
    footprint = Polygon(np.column_stack([lon, lat])) if np.isfinite(lon).all() and np.isfinite(lat).all() else None
    names = []
    bands = []
    for i in range(1, ds.RasterCount + 1):
        b = ds.GetRasterBand(i)
        desc = (b.GetDescription() or "").strip()
        name = desc if desc and re.fullmatch(r"[A-Za-z0-9_\-]+", desc) and desc not in names else f"b{i}"
        names.append(name)
        pixel_type = _GDAL_TYPES.get(b.DataType, PixelType("double"))
        bands.append(GeoTiffBand(str(path), i, name, pixel_type, proj, footprint, (w, h), b.GetNoDataValue()))
    props = {"system:index": path.stem, "system:asset_size": path.stat().st_size}
    return Image(bands, props, asset_id=asset_id, version=int(path.stat().st_mtime * 1e6))


def _crs_code(wkt: str) -> str:
    from pyproj import CRS

    try:
        code = CRS.from_wkt(wkt).to_epsg(min_confidence=90)
    except Exception:
        code = None
    return f"EPSG:{code}" if code else wkt


# ----------------------------------------------------------------------------- catalog


def asset_id_of(name_or_id: str) -> str:
    """``projects/earthengine-public/assets/X`` → ``X``; local names stay as they are."""
    s = name_or_id.strip().strip("/")
    for prefix in (PUBLIC_PREFIX, LEGACY_PREFIX):
        if s.startswith(prefix):
            return s[len(prefix):]
    return s


def asset_name_of(asset_id: str) -> str:
    if asset_id.startswith("projects/"):
        return asset_id
    if asset_id.split("/")[0] == "users":
        return LEGACY_PREFIX + asset_id
    return PUBLIC_PREFIX + asset_id


class ImageCatalog:
    """Image and image-collection assets by id (``SANDBOX/DEM``) or name
    (``projects/earthengine-public/assets/SANDBOX/DEM``)."""

    def __init__(self, config: Any = None):
        self.config = config
        self.data_dir = Path(config.data_dir) if config is not None and getattr(config, "data_dir", None) else None
        self._lock = threading.Lock()
        self._dem = dem_image()
        self._landcover = landcover_image()

    # -- local files
    def local_files(self) -> Dict[str, Path]:
        if self.data_dir is None or not self.data_dir.is_dir():
            return {}
        out = {}
        for p in sorted(self.data_dir.iterdir()):
            if p.is_file() and p.suffix.lower() in (".tif", ".tiff"):
                out[LOCAL_PREFIX + p.stem] = p
        return out

    # -- lookups
    def get_image(self, asset_id: str) -> Optional[Image]:
        aid = asset_id_of(asset_id)
        if aid == DEM_ID:
            return self._dem
        if aid == LANDCOVER_ID:
            return self._landcover
        if aid.startswith(S2_ID + "/"):
            parsed = s2.parse_system_index(aid[len(S2_ID) + 1:])
            return s2.scene(*parsed) if parsed else None
        path = self.local_files().get(aid)
        if path is not None:
            return geotiff_image(path, aid)
        return None

    def get_collection(self, asset_id: str) -> Optional[s2.S2Collection]:
        if asset_id_of(asset_id) == S2_ID:
            return s2.S2Collection()
        return None

    def asset_description(self, name: str) -> Optional[Dict[str, Any]]:
        aid = asset_id_of(name)
        if aid == S2_ID:
            return {
                "type": "IMAGE_COLLECTION",
                "name": asset_name_of(S2_ID),
                "id": S2_ID,
                "updateTime": UPDATE_TIME,
                "title": "Sandbox synthetic Sentinel-2 surface reflectance",
                "properties": {"title": "Sandbox synthetic Sentinel-2 surface reflectance"},
                "startTime": _iso(s2.FIRST_MS),
                "endTime": _iso(s2.FIRST_MS + s2.N_DATES * s2.REVISIT_DAYS * s2.DAY_MS),
            }
        image = self.get_image(aid)
        if image is None:
            return None
        return describe_image_asset(image)

    def list_children(self, parent: str, filter: Optional[str] = None, offset: int = 0,
                      limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """Assets under ``parent`` (listAssets / listImages) matching ``filter`` (AIP-160 subset:
        ``startTime``/``endTime`` comparisons, ``intersects("<geojson>")``, ``properties.X op v``,
        joined by AND). ``offset``/``limit`` page through large results; without a limit, more than
        ``config.max_collection_elements`` fails as Earth Engine does."""
        aid = asset_id_of(parent)
        terms = parse_list_filter(filter)
        if aid == S2_ID:
            start = end = region = names = None
            for t in terms:
                if t[0] == "properties.MGRS_TILE" and t[1] in ("=", ":") and isinstance(t[2], str):
                    names = frozenset([t[2]]) if names is None else names & frozenset([t[2]])
                if t[0] == "startTime" and t[1] in (">=", ">"):
                    start = _ms(t[2]) + (1 if t[1] == ">" else 0)
                elif t[0] == "endTime" and t[1] in ("<", "<="):
                    end = _ms(t[2]) + (1 if t[1] == "<=" else 0)
                elif t[0] == "intersects":
                    region = t[2]
            coll = s2.S2Collection().narrowed(start, end, region, names)
            out: List[Dict[str, Any]] = []
            skipped = 0
            cap = int(getattr(self.config, "max_collection_elements", 5000) or 5000)
            for img in coll.iter_elements():
                desc = describe_image_asset(img)
                if not _matches(desc, img, terms):
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                out.append(desc)
                if limit is not None and len(out) >= limit:
                    break
                if limit is None and len(out) > cap:
                    raise invalid_argument(f"Collection query aborted after accumulating over {cap} elements.")
            return out
        if aid.rstrip("/") in ("projects/sandbox/assets", "projects/sandbox"):
            descs = [describe_image_asset(geotiff_image(p, a)) for a, p in self.local_files().items()]
            descs = [d for d in descs if _matches(d, None, terms)]
            return descs[offset: None if limit is None else offset + limit]
        if aid in ("SANDBOX", "projects/earthengine-public/assets/SANDBOX"):
            items = [self.asset_description(DEM_ID), self.asset_description(LANDCOVER_ID),
                     self.asset_description(S2_ID)]
            return [d for d in items if d][offset: None if limit is None else offset + limit]
        return []


def _iso(ms: int) -> str:
    import datetime as dt

    t = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(milliseconds=int(ms))
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}Z" if t.microsecond else "Z")


def _ms(text: str) -> int:
    ms = s2._to_ms(text)
    if ms is None:
        raise invalid_argument(f"Invalid timestamp in filter: {text}")
    return ms


def describe_image_asset(image: Image) -> Dict[str, Any]:
    """EE's EarthEngineAsset JSON of a stored image."""
    aid = image.asset_id or ""
    bands = []
    size = 0
    for b in image.bands:
        grid: Dict[str, Any] = {"crsCode": b.projection.crs} if not b.projection.crs.lstrip().upper().startswith(
            ("PROJCS", "GEOGCS", "PROJCRS", "GEOGCRS")) else {"crsWkt": b.projection.crs}
        sx, hx, tx, hy, sy, ty = b.projection.transform
        grid["affineTransform"] = {"scaleX": sx, "shearX": hx, "translateX": tx,
                                   "shearY": hy, "scaleY": sy, "translateY": ty}
        if b.dimensions is not None:
            grid["dimensions"] = {"width": int(b.dimensions[0]), "height": int(b.dimensions[1])}
            size += int(b.dimensions[0]) * int(b.dimensions[1]) * b.pixel_type.dtype.itemsize
        bands.append({"id": b.name, "dataType": b.pixel_type.to_asset_data_type(), "grid": grid,
                      "pyramidingPolicy": getattr(b, "pyramiding", "MEAN")})
    props = {k: v for k, v in image.properties.items() if not k.startswith("system:")}
    out: Dict[str, Any] = {
        "type": "IMAGE",
        "name": asset_name_of(aid),
        "id": aid,
        "updateTime": UPDATE_TIME,
        "properties": props,
        "bands": bands,
    }
    t0 = image.properties.get("system:time_start")
    if t0 is not None:
        out["startTime"] = _iso(t0)
        out["endTime"] = _iso(image.properties.get("system:time_end", t0))
    fp = image.footprint()
    if fp is not None:
        from shapely.geometry import mapping

        out["geometry"] = json.loads(json.dumps(mapping(fp)))
    else:
        out["geometry"] = {"type": "Polygon", "coordinates": [[[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]]}
    if size:
        out["sizeBytes"] = str(size)
    return out


# ----------------------------------------------------------------------------- list filters

_TERM_RE = re.compile(r'^\s*([A-Za-z_][\w.:]*)\s*(>=|<=|!=|=|<|>|:)\s*(.+?)\s*$', re.S)
_INTERSECTS_RE = re.compile(r'^\s*intersects\s*\(\s*"(.*)"\s*\)\s*$', re.S)


def _split_and(text: str) -> List[str]:
    parts, depth, quote, cur = [], 0, False, []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        if not quote and depth == 0 and text[i:i + 5].upper() == " AND ":
            parts.append("".join(cur))
            cur = []
            i += 5
            continue
        cur.append(ch)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_list_filter(text: Optional[str]) -> List[Tuple[str, str, Any]]:
    """AIP-160 subset of ``ee.data.listImages``/``listAssets`` filters → (field, op, value)."""
    if not text:
        return []
    out: List[Tuple[str, str, Any]] = []
    for part in _split_and(text):
        m = _INTERSECTS_RE.match(part)
        if m:
            geojson = m.group(1).replace("'", '"')
            try:
                out.append(("intersects", "", s2.to_shapely(json.loads(geojson))))
            except Exception:
                raise invalid_argument(f"Invalid filter: cannot parse the geometry in {part[:80]!r}.") from None
            continue
        m = _TERM_RE.match(part)
        if not m:
            raise invalid_argument(f"Invalid filter: {part!r}.")
        field, op, raw = m.groups()
        value: Any
        if raw.startswith('"') and raw.endswith('"'):
            value = raw[1:-1]
        else:
            try:
                value = float(raw) if any(c in raw for c in ".eE") else int(raw)
            except ValueError:
                value = raw
        out.append((field, op, value))
    return out


def _compare(a: Any, op: str, b: Any) -> bool:
    if a is None:
        return False
    try:
        if isinstance(b, str) and not isinstance(a, str):
            b = type(a)(b)
        if op in ("=", ":"):
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        if op == ">=":
            return a >= b
    except (TypeError, ValueError):
        return False
    return False


def _matches(desc: Dict[str, Any], image: Optional[Image], terms: List[Tuple[str, str, Any]]) -> bool:
    for field, op, value in terms:
        if field == "intersects":
            fp = image.footprint() if image is not None else None
            if fp is not None and not fp.intersects(value):
                return False
            continue
        if field in ("startTime", "endTime"):
            if field not in desc:
                return False
            if not _compare(_ms(desc[field]), op, _ms(value)):
                return False
            continue
        if field.startswith("properties."):
            actual = desc.get("properties", {}).get(field[len("properties."):])
            if image is not None and actual is None:
                actual = image.properties.get(field[len("properties."):])
            if not _compare(actual, op, value):
                return False
            continue
        if not _compare(desc.get(field), op, value):
            return False
    return True
