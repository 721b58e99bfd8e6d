"""``SANDBOX/S2_SR``: a synthetic Sentinel-2 surface-reflectance collection, generated on demand.

Tiles: the real Sentinel-2 tiling. Every MGRS 100 km square of a UTM zone (EPSG:326zz north,
327zz south) that overlaps the zone's 6° strip, between 56° S and 84° N, and whose tile holds
real land (or lies within ~2.7 km of it: the list is derived from GSHHG coastlines and ships in
``sandbox/data/geography.npz``) is a tile: 109.8 km square (10980 px at 10 m), its upper-left
corner 40 m west and 20 m north of its square's (T31UDQ: ULX 399960, ULY 5500020, as the real
one), named by MGRS (zone, latitude band of the square's centre, column and row letters), so
``MGRS_TILE`` filters work as on the real collection (and are pushed into generation).
Simplifications: one tile per square (a square across a latitude band boundary takes the band of
its centre), no Norway/Svalbard zone exceptions.

Scenes: one every 5 days on every tile from 2019-01-01 (last one 2025-12-30), Sentinel-2A and
2B alternately (each satellite every 10 days), acquired at 10:30 local solar time.
``system:index`` is ``YYYYMMDDTHHMMSS_YYYYMMDDTHHMMSS_T<tile>`` as on the real collection; the
asset id is ``SANDBOX/S2_SR/<system:index>``.

Bands: B2, B3, B4, B8 at 10 m, B11 at 20 m (uint16, reflectance × 10000), QA60 at 60 m (uint16:
bit 10 opaque cloud, bit 11 cirrus). Clear pixels follow the land cover of ``SANDBOX/LANDCOVER``
(the same fields, resolved on the tile's 20 m lattice, so 10 m and 20 m bands agree; vegetation:
B8 ≫ B4, greener in summer; water dark); clouds are bright in every band, share one field per
UTM zone and date (overlapping tiles agree), are resolved on the 60 m QA60 lattice (so every band
agrees with QA60 exactly: density ≥ 0.5 → bit 10, 0.25…0.5 → bit 11) and
``CLOUDY_PIXEL_PERCENTAGE`` is measured on that field over the tile (48 × 48 samples). About 40 %
of the scenes are perfectly clear.

Speed: land cover fields per 20 m cell come from control points 100 m apart (:mod:`.lattice`),
clouds per 60 m cell; classes, texture and clouds of a grid are cached for the other bands and
dates of the same grid (composites).
"""

from __future__ import annotations

import datetime as _dt
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox.imagery import synthetic
from eeextract_plugin.sandbox.imagery.image import UINT16, Image, NativeBand
from eeextract_plugin.sandbox.imagery.lattice import TwoScale
from eeextract_plugin.sandbox.imagery.projection import Projection, transform_xy
from eeextract_plugin.sandbox.model.collection import Collection
from eeextract_plugin.sandbox.raster import PixelGrid

COLLECTION_ID = "SANDBOX/S2_SR"
TILE_SIZE_M = 109800.0
TILE_STEP_M = 100000.0
FIRST_DATE = _dt.date(2019, 1, 1)
END_DATE = _dt.date(2026, 1, 1)  # exclusive
REVISIT_DAYS = 5
CONTROL_SPACING_M = 100.0  # land cover's broad fields: control points every 100 m of a tile
CLASS_SCALE_M = 20.0  # land cover classes are resolved on each tile's 20 m lattice
N_DATES = math.ceil((END_DATE - FIRST_DATE).days / REVISIT_DAYS)
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
DAY_MS = 86400000
FIRST_MS = int((_dt.datetime.combine(FIRST_DATE, _dt.time(), _dt.timezone.utc) - EPOCH).total_seconds() * 1000)

BANDS: Tuple[Tuple[str, float], ...] = (("B2", 10.0), ("B3", 10.0), ("B4", 10.0), ("B8", 10.0), ("B11", 20.0), ("QA60", 60.0))
_LAT_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COL_SETS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROW_LETTERS = "ABCDEFGHJKLMNPQRSTUV"


@dataclass(frozen=True)
class Tile:
    name: str
    zone: int
    north: bool
    i: int  # MGRS square column: easting of its west edge / 100 km
    j: int  # MGRS square row: northing of its south edge / 100 km (south: with false northing)
    lon: float  # centre of the tile
    lat: float
    bbox: Tuple[float, float, float, float]  # lon/lat bounds of the footprint

    @property
    def epsg(self) -> str:
        return f"EPSG:{(32600 if self.north else 32700) + self.zone}"

    @property
    def x0(self) -> float:
        """West edge: 40 m west of the MGRS square (as the real tiles: T31UDQ has ULX 399960)."""
        return self.i * TILE_STEP_M - 40.0

    @property
    def y1(self) -> float:
        """North edge: 20 m north of the MGRS square (T31UDQ: ULY 5500020)."""
        return (self.j + 1) * TILE_STEP_M + 20.0

    def projection(self, scale: float) -> Projection:
        return Projection(self.epsg, (scale, 0.0, self.x0, 0.0, -scale, self.y1))

    @property
    def footprint(self):
        return _footprint(self)


@lru_cache(maxsize=32768)
def _footprint(tile: Tile):
    from shapely.geometry import Polygon

    n = 8
    t = np.linspace(0.0, TILE_SIZE_M, n + 1)
    x0, y0 = tile.x0, tile.y1 - TILE_SIZE_M
    xs = np.concatenate([x0 + t, np.full(n, x0 + TILE_SIZE_M), x0 + t[::-1][1:], np.full(n - 1, x0)])
    ys = np.concatenate([np.full(n + 1, y0), y0 + t[1:], np.full(n, y0 + TILE_SIZE_M), y0 + t[::-1][1:-1]])
    lon, lat = transform_xy(tile.epsg, "EPSG:4326", xs, ys)
    return Polygon(np.column_stack([_unwrap(lon, tile.zone), lat]))


def _unwrap(lon: np.ndarray, zone: int) -> np.ndarray:
    """Longitudes within 180° of the zone's central meridian (a tile across the antimeridian
    keeps one piece, with longitudes beyond ±180)."""
    cm = -183.0 + 6.0 * zone
    return cm + ((np.asarray(lon) - cm + 180.0) % 360.0 - 180.0)


def tile_name(zone: int, north: bool, i: int, j: int, lat: float) -> str:
    """The MGRS name of a 100 km square: zone, latitude band (of ``lat``), column letter (three
    sets by zone), row letter (offset by 5 in even zones)."""
    band = _LAT_BANDS[min(19, max(0, int(math.floor((lat + 80.0) / 8.0))))]
    col = _COL_SETS[(zone - 1) % 3][i - 1]
    row = _ROW_LETTERS[(j + (5 if zone % 2 == 0 else 0)) % 20]
    return f"{zone:02d}{band}{col}{row}"


_TABLE_LOCK = threading.Lock()
_TABLE: Optional[Tuple[List[Tile], Dict[str, Tile]]] = None


def tiles() -> Tuple[List[Tile], Dict[str, Tile]]:
    """All tiles (sorted by name) and an index by name; computed once."""
    global _TABLE
    with _TABLE_LOCK:
        if _TABLE is None:
            _TABLE = _build_tiles()
        return _TABLE


def _build_tiles() -> Tuple[List[Tile], Dict[str, Tile]]:
    """The tiles over land (:func:`.geography.s2_tile_keys`, derived from GSHHG with the real
    tile geometry), with their names, centres and lon/lat bounds."""
    from eeextract_plugin.sandbox.imagery import geography

    keys = geography.s2_tile_keys()
    out: List[Tile] = []
    k = np.linspace(0.0, TILE_SIZE_M, 5)
    for zone in range(1, 61):
        for north in (1, 0):
            sel = keys[(keys[:, 0] == zone) & (keys[:, 1] == north)]
            if sel.size == 0:
                continue
            epsg = f"EPSG:{(32600 if north else 32700) + zone}"
            ii = sel[:, 2]
            jj = sel[:, 3]
            x0 = ii * TILE_STEP_M - 40.0
            y1 = (jj + 1) * TILE_STEP_M + 20.0
            # centre of the tile; centre of the MGRS square (for its latitude band)
            clon, clat = transform_xy(epsg, "EPSG:4326", (x0 + TILE_SIZE_M / 2).astype(float),
                                      (y1 - TILE_SIZE_M / 2).astype(float))
            _, slat = transform_xy(epsg, "EPSG:4326", (ii * TILE_STEP_M + TILE_STEP_M / 2).astype(float),
                                   (jj * TILE_STEP_M + TILE_STEP_M / 2).astype(float))
            px = x0[:, None, None] + k[None, None, :]
            py = (y1 - TILE_SIZE_M)[:, None, None] + k[None, :, None]
            px, py = np.broadcast_arrays(px, py)
            plon, plat = transform_xy(epsg, "EPSG:4326", px.ravel().astype(float), py.ravel().astype(float))
            plon = _unwrap(plon, zone).reshape(px.shape)
            plat = plat.reshape(px.shape)
            lon_lo, lon_hi = np.nanmin(plon, axis=(1, 2)), np.nanmax(plon, axis=(1, 2))
            lat_lo, lat_hi = np.nanmin(plat, axis=(1, 2)), np.nanmax(plat, axis=(1, 2))
            for n in range(len(sel)):
                i, j = int(ii[n]), int(jj[n])
                bbox = (float(lon_lo[n]), float(lat_lo[n]), float(lon_hi[n]), float(lat_hi[n]))
                out.append(Tile(tile_name(zone, bool(north), i, j, float(slat[n])), zone, bool(north), i, j,
                                float(clon[n]), float(clat[n]), bbox))
    out.sort(key=lambda t: t.name)
    index = {t.name: t for t in out}
    return out, index


# ----------------------------------------------------------------------------- scenes


def date_of(k: int) -> _dt.date:
    return FIRST_DATE + _dt.timedelta(days=REVISIT_DAYS * k)


def time_start_ms(k: int, tile: Tile) -> int:
    """10:30 local mean solar time at the tile's centre, in UTC, on date ``k``."""
    hours = (10.5 - tile.lon / 15.0) % 24.0
    seconds = int(round(hours * 3600.0)) % 86400
    return FIRST_MS + REVISIT_DAYS * k * DAY_MS + seconds * 1000


def system_index(k: int, tile: Tile) -> str:
    t = EPOCH + _dt.timedelta(milliseconds=time_start_ms(k, tile))
    stamp = t.strftime("%Y%m%dT%H%M%S")
    return f"{stamp}_{stamp}_T{tile.name}"


def parse_system_index(index: str) -> Optional[Tuple[int, Tile]]:
    parts = index.split("_")
    if len(parts) != 3 or not parts[2].startswith("T"):
        return None
    tile = tiles()[1].get(parts[2][1:])
    if tile is None:
        return None
    try:
        day = _dt.datetime.strptime(parts[0][:8], "%Y%m%d").date()
    except ValueError:
        return None
    delta = (day - FIRST_DATE).days
    if delta < 0 or delta % REVISIT_DAYS or delta // REVISIT_DAYS >= N_DATES:
        return None
    k = delta // REVISIT_DAYS
    if system_index(k, tile) != index:
        return None
    return k, tile


def _scene_seed(k: int, tile: Tile) -> int:
    return (tile.zone * 2 + (1 if tile.north else 0)) * 100003 + k * 7


def scene_cover(k: int, tile: Tile) -> float:
    """The scene's cloud cover parameter: many clear scenes, some cloudy, a few overcast."""
    u = float(synthetic.hash01(np.array([k]), np.array([tile.zone * 2 + (1 if tile.north else 0)]), 97)[0])
    if u < 0.4:
        return 0.0
    if u < 0.8:
        return 0.01 + 0.4 * (u - 0.4) / 0.4
    return 0.42 + 0.58 * (u - 0.8) / 0.2


def season(k: int, tile: Tile) -> float:
    """Vegetation greenness 0…1: peaks in July north of the equator, January south of it."""
    doy = date_of(k).timetuple().tm_yday
    phase = 2.0 * math.pi * (doy - 196) / 365.25
    g = 0.5 + 0.5 * math.cos(phase)
    if tile.lat < 0:
        g = 1.0 - g
    tropic = max(0.0, 1.0 - abs(tile.lat) / 23.0)
    return g * (1.0 - tropic) + 0.8 * tropic


@lru_cache(maxsize=2048)
def cloudy_pixel_percentage(k: int, tile: Tile) -> float:
    n = 48
    t = (np.arange(n) + 0.5) * (TILE_SIZE_M / n)
    x = (tile.x0 + t)[None, :]
    y = (tile.y1 - t)[:, None]
    d = synthetic.cloud_density(x, y, scene_cover(k, tile), _scene_seed(k, tile))
    return round(float((d >= 0.25).mean()) * 100.0, 4)


class _FieldCache:
    """An LRU of per-grid fields shared by the bands of a scene (cloud density) and by the
    scenes of a tile (land cover classes), bounded in bytes."""

    def __init__(self, max_bytes: int = 256 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, make):
        with self.lock:
            if key in self.data:
                self.data.move_to_end(key)
                return self.data[key]
        value = make()
        size = int(getattr(value, "nbytes", 0))
        if size > self.max_bytes // 4:
            return value
        with self.lock:
            if key not in self.data:
                self.data[key] = value
                self.bytes += size
            while self.bytes > self.max_bytes and self.data:
                _, old = self.data.popitem(last=False)
                self.bytes -= int(getattr(old, "nbytes", 0))
        return value


_FIELDS = _FieldCache()


@lru_cache(maxsize=1024)
def _cover_lattice(tile: Tile, scale: float) -> TwoScale:
    """The land-cover fields on a tile's lattice at ``scale``: control points every 100 m."""
    step = max(1, int(round(CONTROL_SPACING_M / scale)))
    epsg, x0, y1 = tile.epsg, tile.x0, tile.y1

    def to_lonlat(u, v):
        lon, lat = transform_xy(epsg, "EPSG:4326", x0 + u * scale, y1 - v * scale)
        return np.nan_to_num(lon), np.nan_to_num(lat)

    return TwoScale(step, synthetic.broad_cover, to_lonlat)


class S2Band(NativeBand):
    def __init__(self, name: str, scale: float, k: int, tile: Tile):
        dims = int(round(TILE_SIZE_M / scale))
        super().__init__(name, UINT16, tile.projection(scale), tile.footprint, (dims, dims))
        self.scale = scale
        self.k = k
        self.tile = tile
        self.spectral = name  # which band this is, whatever it is renamed to
        if name == "QA60":
            self.pyramiding = "SAMPLE"

    def _cloud(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cloud density on the 60 m (QA60) lattice, so every band agrees with QA60 exactly:
        computed once per 60 m cell and spread over its pixels."""
        cover = scene_cover(self.k, self.tile)
        shape = np.broadcast(cols, rows).shape
        if cover <= 0.0:
            return np.zeros(shape, np.float32)
        f = int(round(60.0 / self.scale))
        cb, rb = np.broadcast_arrays(cols // f, rows // f)
        c_lo, c_hi = int(cb.min()), int(cb.max())
        r_lo, r_hi = int(rb.min()), int(rb.max())
        if (c_hi - c_lo + 1) * (r_hi - r_lo + 1) > 4 * cb.size + 4096:  # sparse: at the pixels
            x = self.tile.x0 + (cb + 0.5) * 60.0
            y = self.tile.y1 - (rb + 0.5) * 60.0
            return synthetic.cloud_density(x, y, cover, _scene_seed(self.k, self.tile)).astype(np.float32)
        x = self.tile.x0 + (np.arange(c_lo, c_hi + 1) + 0.5) * 60.0
        y = self.tile.y1 - (np.arange(r_lo, r_hi + 1) + 0.5) * 60.0
        cells = synthetic.cloud_density(x[None, :], y[:, None], cover, _scene_seed(self.k, self.tile))
        return cells.astype(np.float32)[rb - r_lo, cb - c_lo]

    def _classes(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Land cover on the tile's 20 m lattice (B11's), so 10 m and 20 m bands agree."""
        f = max(1, int(round(CLASS_SCALE_M / self.scale)))
        lattice = _cover_lattice(self.tile, self.scale * f)
        c, r = cols // f, rows // f
        if f > 1 and c.ndim == 2 and r.ndim == 2 and c.shape[0] == 1 and r.shape[1] == 1:
            uc, ic = np.unique(c[0], return_inverse=True)
            ur, ir = np.unique(r[:, 0], return_inverse=True)
            fields, lon, lat = lattice.sample(uc[None, :], ur[:, None])
            classes = synthetic.landcover_at(fields, synthetic.detail_noise(lon, lat), lat)
            return classes[ir[:, None], ic[None, :]]
        fields, lon, lat = lattice.sample(c, r)
        return synthetic.landcover_at(fields, synthetic.detail_noise(lon, lat), lat)

    def _texture(self, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
        x = self.tile.x0 + (cols + 0.5) * self.scale
        y = self.tile.y1 - (rows + 0.5) * self.scale
        return synthetic.surface_texture(x, y).astype(np.float32)

    def sample(self, cols: np.ndarray, rows: np.ndarray, grid: PixelGrid):
        density = _FIELDS.get(("cloud", self.k, self.tile, self.scale, grid), lambda: self._cloud(cols, rows))
        if self.spectral == "QA60":
            qa = np.where(density >= 0.5, 1024, np.where(density >= 0.25, 2048, 0)).astype(np.uint16)
            return qa, np.ones(qa.shape, bool)
        classes = _FIELDS.get(("classes", self.tile, self.scale, grid), lambda: self._classes(cols, rows))
        texture = _FIELDS.get(("texture", self.tile, self.scale, grid), lambda: self._texture(cols, rows))
        index = synthetic.S2_BANDS.index(self.spectral)
        value = synthetic.reflectance_lut(index, season(self.k, self.tile))[classes]
        value *= texture
        value = synthetic.cloudy_reflectance(index, value, density)
        value = np.clip(np.rint(value), 1, 65535).astype(np.uint16)
        return value, np.ones(value.shape, bool)


def scene(k: int, tile: Tile) -> Image:
    index = system_index(k, tile)
    t = time_start_ms(k, tile)
    bands = [S2Band(name, scale, k, tile) for name, scale in BANDS]
    ring = [[round(x, 9), round(y, 9)] for x, y in tile.footprint.exterior.coords]
    properties = {
        "system:time_start": t,
        "system:time_end": t,
        "system:index": index,
        "system:footprint": {"type": "LinearRing", "coordinates": ring},
        "system:asset_size": 110000000,
        "CLOUDY_PIXEL_PERCENTAGE": cloudy_pixel_percentage(k, tile),
        "CLOUD_COVERAGE_ASSESSMENT": cloudy_pixel_percentage(k, tile),
        "MGRS_TILE": tile.name,
        "SPACECRAFT_NAME": "Sentinel-2A" if k % 2 == 0 else "Sentinel-2B",
        "SENSING_ORBIT_NUMBER": 1 + (tile.zone * 7 + k) % 143,
        "PRODUCT_ID": f"S2_SANDBOX_MSIL2A_{index}",
    }
    return Image(bands, properties, asset_id=f"{COLLECTION_ID}/{index}", version=1700000000000000)


# ----------------------------------------------------------------------------- the collection


def _to_ms(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return int((value - EPOCH).total_seconds() * 1000)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = _dt.datetime.strptime(value[:10], "%Y-%m-%d")
        return _to_ms(parsed)
    for attr in ("millis", "ms", "value", "time"):
        v = getattr(value, attr, None)
        if isinstance(v, (int, float)):
            return int(v)
    return None


def to_shapely(geometry: Any):
    """A shapely geometry (EPSG:4326) from the evaluator's Geometry, GeoJSON or shapely."""
    if geometry is None:
        return None
    if hasattr(geometry, "geom_type") and hasattr(geometry, "bounds"):
        return geometry
    for attr in ("shapely", "shape", "to_shapely", "geom", "geometry"):
        v = getattr(geometry, attr, None)
        if v is None:
            continue
        if callable(v):
            try:
                v = v()
            except TypeError:
                continue
        if hasattr(v, "geom_type"):
            return v
    if isinstance(geometry, dict):
        from shapely.geometry import shape

        if geometry.get("type") == "LinearRing":
            from shapely.geometry import Polygon

            return Polygon(geometry["coordinates"])
        if geometry.get("type") == "Feature":
            return shape(geometry["geometry"])
        return shape(geometry)
    if isinstance(geometry, str):
        import json

        return to_shapely(json.loads(geometry))
    to_geojson = getattr(geometry, "to_geojson", None) or getattr(geometry, "geojson", None)
    if to_geojson is not None:
        return to_shapely(to_geojson() if callable(to_geojson) else to_geojson)
    raise TypeError(f"not a geometry: {type(geometry).__name__}")


class S2Collection(Collection):
    """Scenes on ``date_indices`` × tiles intersecting ``region`` (None: all), lazily."""

    kind = "ImageCollection"

    def __init__(self, start_ms: Optional[int] = None, end_ms: Optional[int] = None, region: Any = None,
                 properties: Optional[Dict[str, Any]] = None, tile_names: Optional[frozenset] = None):
        super().__init__(properties if properties is not None else {
            "title": "Sandbox synthetic Sentinel-2 surface reflectance",
            "system:visualization_0_bands": "B4,B3,B2",
            "system:visualization_0_min": "0",
            "system:visualization_0_max": "3000",
        }, COLLECTION_ID)
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.region = region
        self.tile_names = tile_names  # MGRS_TILE values the filters allow (None: any)

    # -- what the filters leave
    def date_indices(self) -> range:
        """Dates whose scenes (any tile) can start in [start, end)."""
        lo = 0
        hi = N_DATES
        if self.start_ms is not None:
            lo = max(lo, (self.start_ms - FIRST_MS - DAY_MS) // (REVISIT_DAYS * DAY_MS))
        if self.end_ms is not None:
            hi = min(hi, (self.end_ms - FIRST_MS) // (REVISIT_DAYS * DAY_MS) + 1)
        return range(int(max(0, lo)), int(max(lo, hi)))

    def tiles(self) -> List[Tile]:
        all_tiles, by_name = tiles()
        if self.region is None and self.tile_names is None:
            return all_tiles
        cached = getattr(self, "_tiles", None)
        if cached is None:
            if self.tile_names is not None:
                candidates = [by_name[n] for n in sorted(self.tile_names) if n in by_name]
                cached = candidates if self.region is None else _tiles_in(self.region, candidates)
            else:
                cached = _tiles_in(self.region, all_tiles)
            self._tiles = cached
        return cached

    def _time_ok(self, t: int) -> bool:
        return (self.start_ms is None or t >= self.start_ms) and (self.end_ms is None or t < self.end_ms)

    def iter_elements(self) -> Iterator[Image]:
        tile_list = self.tiles()
        for k in self.date_indices():
            for tile in tile_list:
                if self._time_ok(time_start_ms(k, tile)):
                    yield scene(k, tile)

    def count(self) -> int:
        tile_list = self.tiles()
        dates = self.date_indices()
        if self.start_ms is None and self.end_ms is None:
            return len(dates) * len(tile_list)
        n = 0
        for k in dates:
            day0 = FIRST_MS + REVISIT_DAYS * k * DAY_MS
            if self._time_ok(day0) and self._time_ok(day0 + DAY_MS - 1):
                n += len(tile_list)
            else:
                n += sum(1 for t in tile_list if self._time_ok(time_start_ms(k, t)))
        return n

    def narrowed(self, start_ms: Optional[int], end_ms: Optional[int], region: Any,
                 tile_names: Optional[frozenset] = None) -> S2Collection:
        s = self.start_ms if start_ms is None else (start_ms if self.start_ms is None else max(start_ms, self.start_ms))
        e = self.end_ms if end_ms is None else (end_ms if self.end_ms is None else min(end_ms, self.end_ms))
        r = self.region
        if region is not None:
            # Scenes meeting both regions are among those meeting either (not the intersection's:
            # a scene can touch two disjoint regions): keep the smaller as the superset to scan.
            r = region if r is None or region.area < r.area else r
        names = self.tile_names
        if tile_names is not None:
            names = tile_names if names is None else names & tile_names
        return S2Collection(s, e, r, self.properties, names)

    def apply_filter(self, filter: Any) -> Collection:
        start = end = region = None
        date_range = getattr(filter, "date_range", None)
        if callable(date_range):
            dr = date_range()
            if dr is not None:
                start, end = (_to_ms(v) for v in _pair(dr))
        bounds = getattr(filter, "bounds", None)
        if callable(bounds):
            b = bounds()
            if b is not None:
                region = to_shapely(b)
        names = _tile_names(filter)
        narrowed = self.narrowed(start, end, region, names) \
            if (start is not None or end is not None or region is not None or names is not None) else self
        # The narrowing is a superset of the matches; the filter itself decides exactly.
        return super(S2Collection, narrowed).apply_filter(filter)


def _tile_names(filter: Any) -> Optional[frozenset]:
    """The MGRS_TILE values a filter allows (``Filter.eq``/``equals``/``inList`` on
    ``MGRS_TILE``, or an ``and`` of filters with some), or None when it does not restrict them."""
    name = getattr(filter, "name", None)
    if name in ("Filter.equals", "Filter.eq") and getattr(filter, "leftField", None) == "MGRS_TILE":
        value = getattr(filter, "rightValue", None)
        return frozenset([value]) if isinstance(value, str) else None
    if name == "Filter.inList" and getattr(filter, "leftField", None) == "MGRS_TILE":
        values = getattr(filter, "rightValue", None)
        if isinstance(values, (list, tuple)) and all(isinstance(v, str) for v in values):
            return frozenset(values)
        return None
    parts = getattr(filter, "filters", None)
    if parts is not None and type(filter).__name__ == "AndFilter":
        found = [n for n in (_tile_names(f) for f in parts) if n is not None]
        if found:
            out = found[0]
            for n in found[1:]:
                out = out & n
            return out
    return None


def _pair(dr: Any) -> Tuple[Any, Any]:
    if isinstance(dr, (tuple, list)):
        return dr[0], dr[1]
    return getattr(dr, "start", None), getattr(dr, "end", None)


def _tiles_in(region: Any, all_tiles: Sequence[Tile]) -> List[Tile]:
    from shapely import intersects

    if region is None or region.is_empty:
        return []
    x0, y0, x1, y1 = region.bounds
    boxes = _bbox_array(all_tiles)
    near = np.nonzero((boxes[:, 0] <= x1 + 0.5) & (boxes[:, 2] >= x0 - 0.5)
                      & (boxes[:, 1] <= y1 + 0.5) & (boxes[:, 3] >= y0 - 0.5))[0]
    return [all_tiles[n] for n in near if intersects(all_tiles[n].footprint, region)]


_BBOXES: Dict[int, np.ndarray] = {}


def _bbox_array(all_tiles: Sequence[Tile]) -> np.ndarray:
    key = id(all_tiles)
    boxes = _BBOXES.get(key)
    if boxes is None or len(boxes) != len(all_tiles):
        boxes = _BBOXES[key] = np.array([t.bbox for t in all_tiles], dtype=np.float64).reshape(-1, 4)
    return boxes
