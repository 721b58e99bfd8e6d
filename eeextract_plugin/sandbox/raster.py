"""Pixel grids and computed rasters: what the evaluator hands to encoders and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

Affine6 = Tuple[float, float, float, float, float, float]  # scaleX, shearX, translateX, shearY, scaleY, translateY


@dataclass(frozen=True)
class PixelGrid:
    """Earth Engine's PixelGrid: a CRS, an affine transform and dimensions.

    ``crs`` is an authority code ("EPSG:4326") or a WKT string. ``transform`` is in Earth Engine's
    order (scaleX, shearX, translateX, shearY, scaleY, translateY), i.e. x = scaleX*col + shearX*row
    + translateX for the pixel's corner.
    """

    crs: str
    transform: Affine6
    width: int
    height: int

    @classmethod
    def from_json(cls, grid: Dict[str, Any], default_crs: Optional[str] = None) -> PixelGrid:
        crs = grid.get("crsCode") or grid.get("crsWkt") or default_crs
        at = grid.get("affineTransform") or {}
        dims = grid.get("dimensions") or {}
        transform = (
            float(at.get("scaleX", 1.0)),
            float(at.get("shearX", 0.0)),
            float(at.get("translateX", 0.0)),
            float(at.get("shearY", 0.0)),
            float(at.get("scaleY", -1.0)),
            float(at.get("translateY", 0.0)),
        )
        return cls(str(crs), transform, int(dims.get("width", 0)), int(dims.get("height", 0)))

    def to_json(self) -> Dict[str, Any]:
        sx, hx, tx, hy, sy, ty = self.transform
        key = "crsWkt" if self.crs.lstrip().upper().startswith(("PROJCS", "GEOGCS", "PROJCRS", "GEOGCRS", "COMPOUNDCRS")) else "crsCode"
        return {
            key: self.crs,
            "affineTransform": {"scaleX": sx, "shearX": hx, "translateX": tx,
                                "shearY": hy, "scaleY": sy, "translateY": ty},
            "dimensions": {"width": self.width, "height": self.height},
        }

    @property
    def gdal_geotransform(self) -> Tuple[float, float, float, float, float, float]:
        sx, hx, tx, hy, sy, ty = self.transform
        return (tx, sx, hx, ty, hy, sy)

    def window(self, col_off: int, row_off: int, width: int, height: int) -> PixelGrid:
        """The sub-grid starting at (col_off, row_off), same CRS and pixel size."""
        sx, hx, tx, hy, sy, ty = self.transform
        return PixelGrid(
            self.crs,
            (sx, hx, tx + sx * col_off + hx * row_off, hy, sy, ty + hy * col_off + sy * row_off),
            width,
            height,
        )


@dataclass
class BandData:
    """One computed band: values in the band's data type and a validity mask (True = valid)."""

    name: str
    values: np.ndarray
    mask: np.ndarray

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype


@dataclass
class Raster:
    grid: PixelGrid
    bands: List[BandData] = field(default_factory=list)
    # Optional per-raster metadata, e.g. the visualisation that produced it.
    properties: Dict[str, Any] = field(default_factory=dict)

    @property
    def band_names(self) -> List[str]:
        return [b.name for b in self.bands]
