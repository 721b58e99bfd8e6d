"""What the dock shows about an asset ID: type, bands, native CRS and scale, date range.

Pure Python over the earthengine-api client (no QGIS): called on a worker thread by the dock's
asset check, with an already initialised session.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

log = logging.getLogger(__name__)


@dataclass
class BandInfo:
    id: str
    data_type: str = ""
    crs: str = ""
    scale: Optional[float] = None


@dataclass
class AssetInfo:
    asset_id: str
    type: str  # IMAGE, IMAGE_COLLECTION, TABLE, FOLDER, ...
    bands: List[BandInfo] = field(default_factory=list)
    start: str = ""
    end: str = ""
    image_count_hint: Optional[int] = None
    title: str = ""

    @property
    def native_crs(self) -> str:
        return self.bands[0].crs if self.bands else ""

    @property
    def native_scale(self) -> Optional[float]:
        return self.bands[0].scale if self.bands else None

    def summary(self) -> str:
        kind = {"IMAGE": "Image", "IMAGE_COLLECTION": "Image collection"}.get(self.type, self.type.title())
        parts = [f"<b>{kind}</b>" + (f" — {self.title}" if self.title else "")]
        if self.bands:
            names = ", ".join(b.id for b in self.bands[:12]) + (" …" if len(self.bands) > 12 else "")
            parts.append(f"{len(self.bands)} band(s): {names}")
            scale = f"{self.native_scale:g}" if self.native_scale else "?"
            which = "first image's grid" if self.type == "IMAGE_COLLECTION" else "native grid"
            parts.append(f"{which}: {self.native_crs or '?'}, {scale} units/pixel")
        if self.start or self.end:
            parts.append(f"dates: {self.start[:10] or '?'} to {self.end[:10] or '?'}")
        return "<br>".join(parts)


def _band(b: Dict[str, Any]) -> BandInfo:
    grid = b.get("grid") or {}
    transform = grid.get("affineTransform") or {}
    scale = transform.get("scaleX")
    data_type = (b.get("dataType") or {}).get("precision", "")
    return BandInfo(id=b.get("id", "?"), data_type=str(data_type).lower(),
                    crs=grid.get("crsCode") or ("WKT" if grid.get("crsWkt") else ""),
                    scale=abs(float(scale)) if scale else None)


def describe_asset(ee: Any, asset_id: str) -> AssetInfo:
    """Look the asset up (``ee.data.getAsset``); for a collection, read its first image's bands."""
    asset = ee.data.getAsset(asset_id)
    kind = str(asset.get("type", "")).upper()
    props = asset.get("properties") or {}
    info = AssetInfo(asset_id=asset_id, type=kind, start=asset.get("startTime", "") or "",
                     end=asset.get("endTime", "") or "", title=str(props.get("title", "")))
    if kind == "IMAGE":
        info.bands = [_band(b) for b in asset.get("bands") or []]
    elif kind == "IMAGE_COLLECTION":
        listing = ee.data.listAssets({"parent": asset.get("name") or asset_id, "pageSize": 1})
        first = (listing.get("assets") or [None])[0]
        if first:
            detail = ee.data.getAsset(first.get("id") or first.get("name"))
            info.bands = [_band(b) for b in detail.get("bands") or []]
            if not info.start:
                info.start = detail.get("startTime", "") or ""
    return info
