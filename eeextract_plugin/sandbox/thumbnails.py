"""Thumbnails (what ``getThumbURL`` and ``getDownloadURL`` create and then fetch), and their
siblings: table downloads (``FeatureCollection.getDownloadURL``) and map tiles (``getMapId``).

``POST /v1/projects/{p}/thumbnails`` stores the request (expression, fileFormat, filenamePrefix,
bandIds, visualizationOptions, grid) and answers ``{"name": "projects/{p}/thumbnails/ID"}``.
``GET /v1/projects/{p}/thumbnails/ID:getPixels`` (no authentication, like the service's URLs)
computes the image and answers its bytes. The client folds region, scale, dimensions and crs into
the expression (``Image.clipToBoundsAndScale``, ``reproject``), so there is usually no grid.

The result is limited to ``max_download_dimension`` pixels a side and ``max_download_bytes``
counted like Earth Engine counts request size (each band's data type plus one mask byte per
pixel), checked before anything is computed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from eeextract_plugin.sandbox import encoding
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import invalid_argument, not_found
from eeextract_plugin.sandbox.raster import Raster

MAX_KEPT = 20000


@dataclass(frozen=True)
class DownloadLimits:
    """What a thumbnail / download URL may hold, checked before computing (Earth Engine's
    texts: "Pixel grid dimensions (WxH) must be less than or equal to 10000." and "Total request
    size (N bytes) must be less than or equal to 33554432 bytes.")."""

    max_grid_dimension: int
    max_bands: int
    max_payload_bytes: int


def download_limits(config: SandboxConfig) -> DownloadLimits:
    return DownloadLimits(config.max_download_dimension, config.max_bands, config.max_download_bytes)


class ThumbnailService:
    """Remembers created thumbnails (the most recent ``MAX_KEPT``) and renders them on demand."""

    def __init__(self, config: SandboxConfig, engine: Callable[[], Any]):
        self.config = config
        self._engine = engine
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Dict[str, Any]] = OrderedDict()

    def create(self, project: str, body: Dict[str, Any]) -> Dict[str, str]:
        """Validate and store a thumbnail request; its ID is a digest of the request."""
        if not isinstance(body.get("expression"), dict):
            raise invalid_argument("Request must specify an expression.")
        file_format = encoding.normalize_format(body.get("fileFormat"))
        band_ids = body.get("bandIds")
        if band_ids is not None and not (isinstance(band_ids, list) and all(isinstance(b, str) for b in band_ids)):
            raise invalid_argument("bandIds must be a list of strings.")
        stored = {
            "expression": body["expression"],
            "workloadTag": body.get("workloadTag") or None,
            "fileFormat": file_format,
            "filenamePrefix": body.get("filenamePrefix"),
            "bandIds": band_ids or None,
            "visualizationOptions": body.get("visualizationOptions") or None,
            "grid": body.get("grid") or None,
        }
        digest = hashlib.sha256(json.dumps([project, stored], sort_keys=True).encode()).hexdigest()[:32]
        name = f"{project}/thumbnails/{digest}"
        with self._lock:
            self._kept[name] = stored
            self._kept.move_to_end(name)
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        return {"name": name}

    def lookup(self, name: str) -> Dict[str, Any]:
        with self._lock:
            stored = self._kept.get(name)
        if stored is None:
            raise not_found(f"Thumbnail '{name}' not found.")
        return stored

    def render(self, name: str) -> Tuple[encoding.Encoded, Raster]:
        """Compute and encode the thumbnail ``name`` (raises EEError)."""
        stored = self.lookup(name)
        engine = self._engine()
        raster = engine.compute_pixels(stored["expression"], stored["grid"], stored["bandIds"],
                                       stored["visualizationOptions"], limits=download_limits(self.config))
        size = encoding.payload_bytes(raster)  # again, for an engine that does not check
        if size > self.config.max_download_bytes:
            raise invalid_argument(
                f"Total request size ({size} bytes) must be less than or equal to {self.config.max_download_bytes} bytes.")
        prefix: Optional[str] = stored["filenamePrefix"]
        return encoding.encode(raster, stored["fileFormat"], prefix), raster


class TableDownloadService:
    """``FeatureCollection.getDownloadURL``: ``POST /v1/projects/{p}/tables`` stores the request
    (expression, fileFormat, selectors, filename) and ``GET .../tables/ID:getFeatures`` answers
    the whole collection as CSV or GeoJSON (Earth Engine's column order: ``system:index``, the
    properties, ``.geo``; ``selectors`` pick and order the columns)."""

    FORMATS = {"CSV": "text/csv", "GEO_JSON": "application/json", "GEOJSON": "application/json"}

    def __init__(self, engine: Callable[[], Any]):
        self._engine = engine
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Dict[str, Any]] = OrderedDict()

    def create(self, project: str, body: Dict[str, Any]) -> Dict[str, str]:
        if not isinstance(body.get("expression"), dict):
            raise invalid_argument("Request must specify an expression.")
        file_format = str(body.get("fileFormat") or "CSV").upper()
        if file_format not in self.FORMATS:
            raise invalid_argument(f"Table format {file_format} is not supported by the EE Extract sandbox "
                                   "(CSV and GEO_JSON are).")
        selectors = body.get("selectors") or None
        stored = {"expression": body["expression"], "fileFormat": file_format, "selectors": selectors,
                  "filename": body.get("filename") or "table"}
        digest = hashlib.sha256(json.dumps([project, stored], sort_keys=True).encode()).hexdigest()[:32]
        name = f"{project}/tables/{digest}"
        with self._lock:
            self._kept[name] = stored
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        return {"name": name}

    def render(self, name: str) -> Tuple[bytes, str, str]:
        """(bytes, content type, file name) of the table ``name``."""
        with self._lock:
            stored = self._kept.get(name)
        if stored is None:
            raise not_found(f"Table '{name}' not found.")
        engine = self._engine()
        features: list = []
        token: Optional[str] = None
        while True:
            page = engine.compute_features(stored["expression"], 1000, token)
            features.extend(page.get("features", []))
            token = page.get("nextPageToken")
            if not token:
                break
        fmt = stored["fileFormat"]
        selectors = stored["selectors"]
        if fmt == "CSV":
            data = _features_csv(features, selectors).encode("utf-8")
            return data, "text/csv", f"{stored['filename']}.csv"
        if selectors:
            features = [{**f, "properties": {k: v for k, v in (f.get("properties") or {}).items() if k in selectors}}
                        for f in features]
        data = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()
        return data, "application/json", f"{stored['filename']}.geojson"


def _features_csv(features: list, selectors: Optional[list]) -> str:
    import csv
    import io

    if selectors:
        columns = list(selectors)
    else:
        names: Dict[str, None] = {}
        for feature in features:
            for key in (feature.get("properties") or {}):
                names.setdefault(key, None)
        columns = ["system:index", *sorted(names), ".geo"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for index, feature in enumerate(features):
        props = feature.get("properties") or {}
        row = []
        for column in columns:
            if column == "system:index":
                value = feature.get("id", props.get("system:index", str(index)))
            elif column == ".geo":
                geometry = feature.get("geometry")
                value = json.dumps(geometry, separators=(",", ":")) if geometry is not None else ""
            else:
                value = props.get(column, "")
                if isinstance(value, (dict, list)):
                    value = json.dumps(value, separators=(",", ":"))
                elif value is None:
                    value = ""
            row.append(value)
        writer.writerow(row)
    return out.getvalue()


WEB_MERCATOR_HALF = 20037508.342789244


def tile_grid(zoom: int, x: int, y: int, size: int = 256) -> Dict[str, Any]:
    """The PixelGrid of XYZ tile (zoom, x, y) in EPSG:3857 (the grid of ``getMapId`` tiles)."""
    if zoom < 0 or zoom > 30 or not (0 <= x < 2 ** zoom) or not (0 <= y < 2 ** zoom):
        raise invalid_argument(f"Invalid tile coordinates: zoom={zoom}, x={x}, y={y}.")
    extent = 2 * WEB_MERCATOR_HALF / 2 ** zoom
    scale = extent / size
    return {"crsCode": "EPSG:3857", "dimensions": {"width": size, "height": size},
            "affineTransform": {"scaleX": scale, "shearX": 0.0, "translateX": -WEB_MERCATOR_HALF + x * extent,
                                "shearY": 0.0, "scaleY": -scale, "translateY": WEB_MERCATOR_HALF - y * extent}}


class MapService:
    """``getMapId``: ``POST /v1/projects/{p}/maps`` stores the request and answers its name;
    ``GET /v1/projects/{p}/maps/ID/tiles/{z}/{x}/{y}`` renders a 256 x 256 Web Mercator tile
    (PNG, or JPEG when asked for and nothing is masked)."""

    def __init__(self, engine: Callable[[], Any]):
        self._engine = engine
        self._lock = threading.Lock()
        self._kept: OrderedDict[str, Dict[str, Any]] = OrderedDict()

    def create(self, project: str, body: Dict[str, Any]) -> Dict[str, str]:
        if not isinstance(body.get("expression"), dict):
            raise invalid_argument("Request must specify an expression.")
        stored = {"expression": body["expression"],
                  "fileFormat": encoding.normalize_format(body.get("fileFormat")),
                  "bandIds": body.get("bandIds") or None,
                  "visualizationOptions": body.get("visualizationOptions") or None}
        digest = hashlib.sha256(json.dumps([project, stored], sort_keys=True).encode()).hexdigest()[:32]
        name = f"{project}/maps/{digest}"
        with self._lock:
            self._kept[name] = stored
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        return {"name": name}

    def render(self, name: str, zoom: int, x: int, y: int) -> encoding.Encoded:
        with self._lock:
            stored = self._kept.get(name)
        if stored is None:
            raise not_found(f"Map '{name}' not found.")
        raster = self._engine().compute_pixels(stored["expression"], tile_grid(zoom, x, y), stored["bandIds"],
                                               stored["visualizationOptions"])
        return encoding.encode(raster, stored["fileFormat"])
