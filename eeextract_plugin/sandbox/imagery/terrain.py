"""DEM derivatives: ``Terrain.slope``, ``Terrain.aspect``, ``Terrain.hillshade``,
``Terrain.products`` (and ``Terrain``), plus ``Image.metadata``.

Gradients use the 4-connected neighbours of each output pixel on the requested grid (as Earth
Engine's docs describe), so the input is computed on the grid widened by one pixel: a region
computed whole or in tiles gives the same values. Pixel sizes are in metres (geographic grids:
on a sphere of 6378137 m, east-west scaled by the cosine of the latitude). A pixel whose
neighbours are masked is masked.

- slope: degrees from horizontal (float);
- aspect: compass direction the slope faces, degrees clockwise from north (float);
- hillshade: 255 × the cosine of the angle between the surface normal and the sun (uint8),
  default sun azimuth 270°, elevation 45°.
"""

from __future__ import annotations

import math
from typing import Callable, List, Optional, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.imagery.image import (
    DOUBLE,
    FLOAT,
    UINT8,
    Band,
    BandResult,
    ConstantBand,
    Image,
)
from eeextract_plugin.sandbox.imagery.projection import is_geographic
from eeextract_plugin.sandbox.raster import PixelGrid

EARTH_RADIUS = 6378137.0


def _gradient(inner: Band, grid: PixelGrid) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(east, north, valid): dz/dx towards east and dz/dy towards north in units per metre."""
    wide = grid.window(-1, -1, grid.width + 2, grid.height + 2)
    z, m = inner.compute(wide)
    z = z.astype(np.float64)
    sx, hx, _, hy, sy, ty = grid.transform
    dx = math.hypot(sx, hy)
    dy = math.hypot(hx, sy)
    if is_geographic(grid.crs):
        lat = ty + sy * (np.arange(grid.height) + 0.5)
        metres = math.pi / 180.0 * EARTH_RADIUS
        dx_m = (dx * metres * np.cos(np.radians(lat)))[:, None]
        dy_m = dy * metres
    else:
        dx_m, dy_m = dx, dy
    east = (z[1:-1, 2:] - z[1:-1, :-2]) / (2.0 * dx_m)
    # Rows grow southwards when scaleY < 0 (the usual north-up grid).
    south_to_north = (z[:-2, 1:-1] - z[2:, 1:-1]) / (2.0 * dy_m)
    north = south_to_north if sy < 0 else -south_to_north
    valid = m[1:-1, 1:-1] & m[1:-1, 2:] & m[1:-1, :-2] & m[:-2, 1:-1] & m[2:, 1:-1]
    if not np.isscalar(dx_m):
        valid &= np.isfinite(east)
    return east, north, valid


class TerrainBand(Band):
    def __init__(self, name: str, pixel_type, inner: Band,
                 fn: Callable[[np.ndarray, np.ndarray], np.ndarray]):
        super().__init__(name, pixel_type, inner.projection, inner.footprint, None)
        self.inner = inner
        self.fn = fn
        self.grid_hint = inner.grid_hint

    def _compute(self, grid: PixelGrid) -> BandResult:
        east, north, valid = _gradient(self.inner, grid)
        with np.errstate(all="ignore"):
            out = self.fn(east, north)
        return np.where(valid, out, 0.0), valid


def _slope(east, north):
    return np.degrees(np.arctan(np.hypot(east, north)))


def _aspect(east, north):
    return np.degrees(np.arctan2(-east, -north)) % 360.0


def _hillshade(azimuth: float, elevation: float):
    zenith = math.radians(90.0 - elevation)
    az = math.radians(azimuth)

    def fn(east, north):
        slope = np.arctan(np.hypot(east, north))
        aspect = np.arctan2(-east, -north)
        shade = math.cos(zenith) * np.cos(slope) + math.sin(zenith) * np.sin(slope) * np.cos(az - aspect)
        return np.clip(np.round(255.0 * shade), 0, 255)

    return fn


def _elevation_band(input, where: str) -> Band:
    from eeextract_plugin.sandbox.imagery.algorithms import as_image

    image = as_image(input, where, "input")
    for b in image.bands:
        if b.name == "elevation":
            return b
    if len(image.bands) == 1:
        return image.bands[0]
    raise invalid_argument(f"{where}: Expected a single band or a band named 'elevation'; got {image.band_names()}.")


@algorithm("Terrain.slope")
def terrain_slope(input):
    return Image([TerrainBand("slope", FLOAT, _elevation_band(input, "Terrain.slope"), _slope)])


@algorithm("Terrain.aspect")
def terrain_aspect(input):
    return Image([TerrainBand("aspect", FLOAT, _elevation_band(input, "Terrain.aspect"), _aspect)])


@algorithm("Terrain.hillshade")
def terrain_hillshade(input, azimuth=270, elevation=45):
    band = _elevation_band(input, "Terrain.hillshade")
    return Image([TerrainBand("hillshade", UINT8, band, _hillshade(float(azimuth), float(elevation)))])


def _products(input, where: str) -> Image:
    from eeextract_plugin.sandbox.imagery.algorithms import as_image

    image = as_image(input, where, "input")
    band = _elevation_band(image, where)
    extra: List[Band] = [
        TerrainBand("slope", FLOAT, band, _slope),
        TerrainBand("aspect", FLOAT, band, _aspect),
        TerrainBand("hillshade", UINT8, band, _hillshade(270.0, 45.0)),
    ]
    return Image(list(image.bands) + extra, image.properties, image.asset_id, image.version)


@algorithm("Terrain.products")
def terrain_products(input):
    return _products(input, "Terrain.products")


@algorithm("Terrain")
def terrain(input):
    return _products(input, "Terrain")


@algorithm("Image.metadata")
def image_metadata(image, property, name=None):
    from eeextract_plugin.sandbox.imagery.algorithms import as_image

    img = as_image(image, "Image.metadata")
    value = img.get(str(property))
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_argument(f"Image.metadata: Property '{property}' is not a number.")
    band_name: Optional[str] = str(name) if name is not None else str(property)
    return Image([ConstantBand(band_name, float(value), DOUBLE)])
