"""What an asset ID is, before any job: its type, bands (with their types and native grids) and
date range. The dock shows it while the user types; anything else may ask too.

Metadata calls go through :func:`~eeextract_plugin.core.fetch.call_with_retries` (429 and
transient errors are retried like every other request). Bands are the core's
:class:`~eeextract_plugin.core.source.BandInfo`: name, numpy type and native grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, List, Optional

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.fetch import call_with_retries, json_object
from eeextract_plugin.core.source import BandInfo, bands_from_info

log = logging.getLogger(__name__)


@dataclass
class AssetInfo:
    asset_id: str
    type: str  # IMAGE, IMAGE_COLLECTION, TABLE, FOLDER, ...
    bands: List[BandInfo] = field(default_factory=list)
    start: str = ""
    end: str = ""
    title: str = ""

    @property
    def is_collection(self) -> bool:
        return self.type == "IMAGE_COLLECTION"

    @property
    def native_crs(self) -> str:
        grid = self.bands[0].grid if self.bands else None
        return grid.crs if grid else ""

    @property
    def native_scale(self) -> Optional[float]:
        grid = self.bands[0].grid if self.bands else None
        return abs(grid.scale_x) if grid else None


def describe_asset(session: Any, asset_id: str) -> AssetInfo:
    """Look the asset up (``ee.data.getAsset``); for a collection, read its first image's bands.
    An unknown or unreadable asset is :class:`BadInput` on ``source.asset_id`` with Earth
    Engine's message."""
    ee = session.ee
    try:
        asset = call_with_retries(json_object(lambda: ee.data.getAsset(asset_id)))
    except ee.EEException as exc:
        raise BadInput(field="source.asset_id", reason=f"{asset_id}: {exc}") from None
    kind = str(asset.get("type", "")).upper()
    props = asset.get("properties") or {}
    info = AssetInfo(asset_id=asset_id, type=kind, start=asset.get("startTime", "") or "",
                     end=asset.get("endTime", "") or "", title=str(props.get("title", "")))
    if kind == "IMAGE":
        info.bands = bands_from_info(asset.get("bands") or [], None, "source.bands")
    elif kind == "IMAGE_COLLECTION":
        listing = call_with_retries(json_object(lambda: ee.data.listAssets(
            {"parent": asset.get("name") or asset_id, "pageSize": 1})))
        first = (listing.get("assets") or [None])[0]
        if first:
            detail = call_with_retries(json_object(lambda: ee.data.getAsset(first.get("id") or first.get("name"))))
            info.bands = bands_from_info(detail.get("bands") or [], None, "source.bands")
            if not info.start:
                info.start = detail.get("startTime", "") or ""
    return info


__all__ = ["AssetInfo", "describe_asset"]
