"""The Earth Engine side of a job: what the source is (bands, types, native grid, images), the
``ee`` objects to compute, and the one request per work unit.

Everything here goes through the real ``ee`` client of a :class:`~.session.Session`: metadata
with ``ee.data.getAsset`` / ``getInfo``, pixels with ``ee.data.getPixels`` (stored image,
nothing computed) or ``ee.data.computePixels`` (anything computed), tables with ``getInfo`` of a
FeatureCollection. Planning asks a handful of cheap questions (seed 001: a cheap list of units,
then one request per unit).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.fetch import CorruptResponse, call_with_retries, json_object
from eeextract_plugin.core.grid import PixelGrid
from eeextract_plugin.core.spec import JobSpec, Source, SpecError
from eeextract_plugin.core.urls import create_pixels_url

log = logging.getLogger(__name__)


class SourceError(BadInput):
    """The source cannot be used (unknown asset, no images…); names the spec field."""


@dataclass
class BandInfo:
    name: str
    dtype: str  # numpy dtype name of the output
    grid: Optional[PixelGrid] = None


@dataclass
class ImageRef:
    """One image (or window) of a collection source."""

    key: str  # the output's id: system:index, the id's last part, the position, or "start_end"
    image_id: Optional[str] = None
    start: Optional[str] = None
    end: Optional[str] = None
    time_ms: Optional[int] = None
    # How to find the image again in a collection it cannot be loaded from by id (an expression):
    # its system:index when no other image of the collection shares it, else its position.
    index: Optional[str] = None
    position: Optional[int] = None


@dataclass
class SourceInfo:
    bands: List[BandInfo]
    native: Optional[PixelGrid] = None
    images: List[ImageRef] = field(default_factory=list)

    @property
    def band_names(self) -> List[str]:
        return [b.name for b in self.bands]

    @property
    def dtype(self) -> str:
        """One type for all bands (a raster file has one): the widest."""
        return str(np.result_type(*[np.dtype(b.dtype) for b in self.bands])) if self.bands else "float32"


# ------------------------------------------------------------------------------ data types
def dtype_from_ee(dt: Dict[str, Any]) -> str:
    """numpy dtype for Earth Engine's ``dataType`` (REST) or ``data_type`` (getInfo)."""
    precision = str(dt.get("precision", "FLOAT")).upper()
    if precision == "DOUBLE":
        return "float64"
    if precision != "INT":
        return "float32"
    rng = dt.get("range") or {}
    lo = float(rng.get("min", dt.get("min", -(2 ** 31))))
    hi = float(rng.get("max", dt.get("max", 2 ** 31 - 1)))
    for name in ("uint8", "int16", "uint16", "int32", "uint32"):
        info = np.iinfo(name)
        if lo >= info.min and hi <= info.max:
            return name
    return "float64"


def _grid_from_info(band: Dict[str, Any]) -> Optional[PixelGrid]:
    if "grid" in band and band["grid"]:  # REST EarthEngineAsset
        return PixelGrid.from_ee(band["grid"])
    crs = band.get("crs")
    tr = band.get("crs_transform")
    if crs and tr and len(tr) == 6:
        dims = band.get("dimensions") or [0, 0]
        return PixelGrid(crs, tuple(float(v) for v in tr), int(dims[0]), int(dims[1]))  # type: ignore[arg-type]
    return None


def bands_from_info(bands: List[Dict[str, Any]], wanted: Optional[List[str]], path: str) -> List[BandInfo]:
    by_name = {b.get("id"): b for b in bands}
    names = wanted or [b.get("id") for b in bands]
    missing = [n for n in names if n not in by_name]
    if missing:
        raise SourceError(f"{path}: no band {missing[0]!r} (bands: {', '.join(map(str, by_name))})")
    out = []
    for n in names:
        b = by_name[n]
        dt = b.get("dataType") or b.get("data_type") or {}
        out.append(BandInfo(n, dtype_from_ee(dt), _grid_from_info(b)))
    return out


def _ms(day: str) -> int:
    d = datetime.fromisoformat(day) if "T" in day else datetime.fromisoformat(day + "T00:00:00")
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return int(d.timestamp() * 1000)


def _ee_message(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


# ------------------------------------------------------------------------------ the source
class EarthEngineSource:
    """Builds ``ee`` objects and requests for one job spec."""

    def __init__(self, session: Any, spec: JobSpec) -> None:
        self.session = session
        self.ee = session.ee
        self.spec = spec
        self.src: Source = spec.source

    # ---- objects
    def _deserialize(self) -> Any:
        from ee import deserializer

        try:
            return deserializer.decode(self.src.expression)
        except Exception as exc:
            raise SourceError(f"source.expression: cannot be decoded ({_ee_message(exc)})") from None

    def collection(self, region_geojson: Optional[Dict[str, Any]] = None) -> Any:
        ee = self.ee
        if self.src.type == "expression":
            col = ee.ImageCollection(self._deserialize())
        else:
            col = ee.ImageCollection(self.src.asset_id)
        if self.src.start and self.src.end:
            col = col.filterDate(self.src.start, self.src.end)
        elif self.src.start:
            col = col.filterDate(self.src.start, "9999-01-01")
        if region_geojson is not None:
            col = col.filterBounds(ee.Geometry(region_geojson))
        ops = {"eq": ee.Filter.eq, "neq": ee.Filter.neq, "lt": ee.Filter.lt, "lte": ee.Filter.lte,
               "gt": ee.Filter.gt, "gte": ee.Filter.gte}
        for f in self.src.filters:
            col = col.filter(ops[f.op](f.property, f.value))
        col = col.sort("system:time_start")
        if self.src.max_images:
            col = col.limit(self.src.max_images)
        return col

    def _finish(self, image: Any) -> Any:
        if self.src.bands:
            image = image.select(self.src.bands)
        if self.src.index:
            a, b = self.src.index["normalized_difference"]
            image = image.normalizedDifference([a, b]).rename(self.src.index["name"])
        return image

    def _reduce(self, col: Any) -> Any:
        r = self.src.reducer
        if r == "stdDev":
            return col.reduce(self.ee.Reducer.stdDev()).toFloat()
        if r == "last":
            return self.ee.Image(col.sort("system:time_start", False).first())
        if r == "first":
            return self.ee.Image(col.first())
        img = getattr(col, r)()  # median(), mean(), min()… keep the band names
        # Earth Engine gives mean/median/sum as doubles: ask for the float32 the plan sizes
        # requests by (half the bytes; ample precision for reflectances and indices).
        return img.toFloat() if r in ("mean", "median", "sum") else img

    def image(self, ref: Optional[ImageRef] = None, region_geojson: Optional[Dict[str, Any]] = None) -> Any:
        """The ``ee.Image`` of one output."""
        ee = self.ee
        if self.src.type == "asset":
            img = ee.Image(self.src.asset_id)
            if self.src.bands:
                img = img.select(self.src.bands)
            if self.src.index:
                img = self._finish(img)
            return img
        if self.src.type == "expression" and self.spec.kind not in ("collection", "timeseries") \
                and self.src.mode != "composite":
            obj = self._deserialize()
            return self._finish(ee.Image(obj))
        if ref is not None and ref.image_id and self.src.type == "collection":
            return self._finish(ee.Image(ref.image_id))
        col = self.collection(region_geojson)
        if ref is not None and ref.start and ref.end:
            col = col.filterDate(ref.start, ref.end)
        if self.src.bands:
            col = col.select(self.src.bands)
        if ref is not None and (ref.index is not None or ref.position is not None or ref.image_id):
            # One image of the collection, never its reduction: by its system:index when it is
            # unique, else by its position in the (deterministically sorted) collection.
            if ref.index is not None:
                img = col.filter(ee.Filter.eq("system:index", ref.index)).first()
            elif ref.position is not None:
                img = col.toList(1, ref.position).get(0)
            else:  # an ImageRef recorded before positions were
                img = col.filter(ee.Filter.eq("system:index", str(ref.image_id).rsplit("/", 1)[-1])).first()
            return self._finish(ee.Image(img)) if not self.src.index else \
                ee.Image(img).normalizedDifference(self.src.index["normalized_difference"]).rename(
                    self.src.index["name"])
        img = self._reduce(col)
        if self.src.index:
            a, b = self.src.index["normalized_difference"]
            img = img.normalizedDifference([a, b]).rename(self.src.index["name"])
        return img

    # ---- metadata (planning)
    def describe(self, region_geojson: Optional[Dict[str, Any]]) -> SourceInfo:
        ee = self.ee
        if self.src.type == "asset":
            try:
                asset = call_with_retries(json_object(lambda: ee.data.getAsset(self.src.asset_id)))
            except ee.EEException as exc:
                raise SourceError(f"source.asset_id: {self.src.asset_id}: {_ee_message(exc)}") from None
            if str(asset.get("type", "IMAGE")).upper() not in ("IMAGE",):
                raise SourceError(f"source.asset_id: {self.src.asset_id} is a {asset.get('type')}, "
                                  "not an image (use source.type 'collection')")
            bands = bands_from_info(asset.get("bands") or [], self.src.bands, "source.bands")
            native = bands[0].grid if bands else None
            if self.src.index:
                bands = [BandInfo(self.src.index["name"], "float32", native)]
            return SourceInfo(bands, native)
        if self.src.type == "expression" and self.spec.kind not in ("collection", "timeseries"):
            info = self._get_info(self.image(), "source.expression")
            if not isinstance(info, dict) or info.get("type") != "Image":
                raise SourceError("source.expression: must evaluate to an Image for kind "
                                  f"{self.spec.kind!r}, not {info.get('type') if isinstance(info, dict) else type(info).__name__}")
            bands = bands_from_info(info.get("bands") or [], None, "source.expression")
            return SourceInfo(bands, bands[0].grid if bands else None)
        # collections
        if self.src.type == "collection":
            try:
                asset = call_with_retries(json_object(lambda: ee.data.getAsset(self.src.asset_id)))
            except ee.EEException as exc:
                raise SourceError(f"source.asset_id: {self.src.asset_id}: {_ee_message(exc)}") from None
            if str(asset.get("type", "")).upper() not in ("IMAGE_COLLECTION",):
                raise SourceError(f"source.asset_id: {self.src.asset_id} is a {asset.get('type')}, "
                                  "not an image collection")
        col = self.collection(region_geojson)
        info = self._get_info(col, "source")
        feats = info.get("features", []) if isinstance(info, dict) else []
        if not feats:
            raise SourceError(f"source: no images in {self.src.asset_id or 'the collection'} for "
                              f"{self.src.start or '-'}..{self.src.end or '-'} over the region "
                              "with these filters")
        first = feats[0]
        bands = bands_from_info(first.get("bands") or [], self.src.bands, "source.bands")
        native = bands[0].grid if bands else None
        images: List[ImageRef] = []
        if self.src.mode == "composite" and self.spec.kind != "timeseries":
            times = [(f.get("properties") or {}).get("system:time_start") for f in feats]
            for start, end in self.windows(feats):
                lo = _ms(start)
                hi = _ms(end)
                if any(t is not None and lo <= t < hi for t in times) or all(t is None for t in times):
                    images.append(ImageRef(key=f"{start}_{end}", start=start, end=end))
                else:
                    log.info("window %s..%s has no image: no output", start, end)
            if self.src.reducer in ("mean", "median", "stdDev", "sum"):
                bands = [BandInfo(b.name, "float32" if b.dtype != "float64" else "float64", b.grid) for b in bands]
        else:
            indices = [(f.get("properties") or {}).get("system:index") for f in feats]
            counts: Dict[str, int] = {}
            for idx in indices:
                if idx is not None:
                    counts[str(idx)] = counts.get(str(idx), 0) + 1
            for position, (f, idx) in enumerate(zip(feats, indices)):
                props = f.get("properties") or {}
                key = idx if idx not in (None, "") else (str(f.get("id") or "").rsplit("/", 1)[-1] or str(position))
                unique = idx is not None and counts.get(str(idx)) == 1
                images.append(ImageRef(key=str(key), image_id=f.get("id"), time_ms=props.get("system:time_start"),
                                       index=str(idx) if unique else None, position=position))
        if self.src.index:
            bands = [BandInfo(self.src.index["name"], "float32", native)]
        return SourceInfo(bands, native, images)

    def windows(self, feats: List[Dict[str, Any]]) -> List[Tuple[str, str]]:
        if not self.src.window_days:
            if self.src.start and self.src.end:
                return [(self.src.start, self.src.end)]
            times = [f.get("properties", {}).get("system:time_start") for f in feats]
            times = [t for t in times if t is not None]
            lo = datetime.fromtimestamp(min(times) / 1000, timezone.utc).date()
            hi = datetime.fromtimestamp(max(times) / 1000, timezone.utc).date() + timedelta(days=1)
            return [(lo.isoformat(), hi.isoformat())]
        assert self.src.start and self.src.end
        d0 = date.fromisoformat(self.src.start[:10])
        d1 = date.fromisoformat(self.src.end[:10])
        out = []
        while d0 < d1:
            e = min(d1, d0 + timedelta(days=self.src.window_days))
            out.append((d0.isoformat(), e.isoformat()))
            d0 = e
        return out

    def _get_info(self, obj: Any, path: str) -> Any:
        ee = self.ee
        try:
            return call_with_retries(json_object(obj.getInfo))
        except ee.EEException as exc:
            raise SourceError(f"{path}: {_ee_message(exc)}") from None

    # ---- requests (one per unit)
    def pixels_image(self, image: Any) -> Any:
        """What a unit's pixels are computed from: masked pixels filled with ``output.nodata``
        in Earth Engine when it is set (NPY carries no mask)."""
        nodata = self.spec.output.nodata
        return image.unmask(nodata, False) if nodata is not None else image

    def pixels_url(self, image: Any, grid: PixelGrid, bands: List[str]) -> str:
        """A download URL serving the NPY pixels of ``image`` on ``grid`` (created with the
        session's credentials; fetching it needs none)."""
        return create_pixels_url(self.ee, self.pixels_image(image), grid, "NPY", bands)

    def visualized_url(self, image: Any, grid: PixelGrid, fmt: str) -> str:
        """A thumbnail URL serving the visualised image on ``grid`` as PNG / JPEG."""
        return create_pixels_url(self.ee, self.visualized(image), grid, fmt)

    def fetch_pixels_by_url(self, image: Any, grid: PixelGrid, bands: List[str], urls: Any) -> bytes:
        """NPY bytes of ``image`` on ``grid`` through a download URL: created with the session's
        credentials, fetched by ``urls`` (a :class:`~.urls.UrlFetcher`) without them."""
        return urls.get(self.pixels_url(image, grid, bands))

    def fetch_visualized_by_url(self, image: Any, grid: PixelGrid, fmt: str, urls: Any) -> bytes:
        """PNG / JPEG bytes through a thumbnail URL (the visualised image on ``grid``)."""
        return urls.get(self.visualized_url(image, grid, fmt))

    def fetch_pixels(self, image: Any, grid: PixelGrid, bands: List[str]) -> bytes:
        """Raw NPY bytes of ``image`` on ``grid`` (getPixels for a stored image).

        NPY carries no mask: masked pixels arrive as 0. With ``output.nodata`` they are filled
        with it in Earth Engine (``unmask(nodata, sameFootprint=False)``, also outside the
        image's footprint), which needs computePixels even for a stored image."""
        ee = self.ee
        nodata = self.spec.output.nodata
        if nodata is not None:
            image = image.unmask(nodata, False)
        elif self.src.type == "asset" and not self.src.index:
            params = {"assetId": self.src.asset_id, "fileFormat": "NPY", "grid": grid.to_ee(),
                      "bandIds": bands}
            return ee.data.getPixels(params)
        return ee.data.computePixels({"expression": image, "fileFormat": "NPY", "grid": grid.to_ee(),
                                      "bandIds": bands})

    def fetch_visualized(self, image: Any, grid: PixelGrid, fmt: str) -> bytes:
        """PNG / JPEG bytes of ``image.visualize(...)`` on ``grid``."""
        return self.ee.data.computePixels({"expression": self.visualized(image), "fileFormat": fmt,
                                           "grid": grid.to_ee()})

    def visualized(self, image: Any) -> Any:
        """``image.visualize(...)`` with the spec's visualization parameters."""
        vis = self.spec.output.visualization
        kwargs: Dict[str, Any] = {}
        if vis is not None:
            if vis.bands:
                kwargs["bands"] = vis.bands
            if vis.min is not None:
                kwargs["min"] = vis.min if len(vis.min) > 1 else vis.min[0]
            if vis.max is not None:
                kwargs["max"] = vis.max if len(vis.max) > 1 else vis.max[0]
            if vis.palette:
                kwargs["palette"] = vis.palette
            if vis.gamma:
                kwargs["gamma"] = vis.gamma
        return image.visualize(**kwargs)


def decode_npy(body: Any, width: int, height: int) -> np.ndarray:
    """Checks and decodes an NPY body; a short or corrupt one raises :class:`CorruptResponse`."""
    if isinstance(body, np.ndarray):
        arr = body
    else:
        if not isinstance(body, (bytes, bytearray)) or len(body) < 16:
            raise CorruptResponse(f"empty or short NPY body ({len(body) if body else 0} bytes)")
        arr = _npy_view(bytes(body) if isinstance(body, bytearray) else body)
    if arr.shape[:2] != (height, width) and not (arr.ndim == 3 and arr.shape[1:] == (height, width)):
        raise CorruptResponse(f"NPY body has shape {arr.shape}, expected ({height}, {width})")
    return arr


def _npy_view(body: bytes) -> np.ndarray:
    """The array in an NPY body as a read-only view of the body (no copy); raises
    :class:`CorruptResponse` when the header is bad or the data shorter than announced."""
    from numpy.lib import format as npformat

    f = io.BytesIO(body)
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f)
        else:
            shape, fortran, dtype = npformat.read_array_header_2_0(f)
    except Exception as exc:
        raise CorruptResponse(f"corrupt NPY header: {exc}") from None
    if dtype.hasobject:
        raise CorruptResponse("NPY body holds Python objects")
    offset = f.tell()
    count = int(np.prod(shape)) if shape else 1
    need = offset + count * dtype.itemsize
    if len(body) < need:
        raise CorruptResponse(f"truncated NPY body: {len(body)} bytes, {need} announced")
    arr = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
    return arr.reshape(shape, order="F" if fortran else "C")


def check_image_body(body: Any, fmt: str) -> bytes:
    """PNG must end with its IEND chunk, JPEG with EOI: a truncated body is caught here."""
    if not isinstance(body, (bytes, bytearray)) or not body:
        raise CorruptResponse(f"empty {fmt} body")
    if fmt == "PNG" and not (body.startswith(b"\x89PNG") and body.rstrip(b"\x00")[-8:-4] == b"IEND"):
        raise CorruptResponse(f"truncated or corrupt PNG ({len(body)} bytes)")
    if fmt == "JPEG" and not (body.startswith(b"\xff\xd8") and body[-2:] == b"\xff\xd9"):
        raise CorruptResponse(f"truncated or corrupt JPEG ({len(body)} bytes)")
    return bytes(body)


__all__ = ["EarthEngineSource", "SourceInfo", "BandInfo", "ImageRef", "SourceError", "SpecError",
           "decode_npy", "check_image_body", "dtype_from_ee"]
