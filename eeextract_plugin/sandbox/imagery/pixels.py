"""Pixel requests: ``image:computePixels`` and an asset's ``getPixels``.

Limits are checked BEFORE anything is computed, with Earth Engine's texts:

- each side ≤ ``config.max_grid_dimension`` ("Pixel grid dimensions (WxH) must be less than or
  equal to 32768.");
- bands ≤ ``config.max_bands``;
- payload ≤ ``config.max_payload_bytes``, counting each band's bytes **plus one mask byte per
  pixel per band** ("Total request size (N bytes) must be less than or equal to 50331648
  bytes.").
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.imagery.image import UINT8, Image
from eeextract_plugin.sandbox.imagery.projection import Projection
from eeextract_plugin.sandbox.raster import PixelGrid, Raster


def request_bytes(image: Image, grid: PixelGrid, band_names: Sequence[str]) -> int:
    """What Earth Engine counts: per pixel, each band's bytes plus one mask byte."""
    per_pixel = 0
    for name in band_names:
        per_pixel += image.band(name).pixel_type.dtype.itemsize + 1
    return per_pixel * grid.width * grid.height


def check_limits(grid: PixelGrid, n_bands: int, payload: int, config: Any) -> None:
    max_dim = int(getattr(config, "max_grid_dimension", 32768))
    if grid.width <= 0 or grid.height <= 0:
        raise invalid_argument(f"Pixel grid dimensions ({grid.width}x{grid.height}) must be positive.")
    if grid.width > max_dim or grid.height > max_dim:
        raise invalid_argument(
            f"Pixel grid dimensions ({grid.width}x{grid.height}) must be less than or equal to {max_dim}."
        )
    max_bands = int(getattr(config, "max_bands", 1024))
    if n_bands > max_bands:
        raise invalid_argument(f"Number of bands ({n_bands}) must be less than or equal to {max_bands}.")
    max_bytes = int(getattr(config, "max_payload_bytes", 48 * 1024 * 1024))
    if payload > max_bytes:
        raise invalid_argument(f"Total request size ({payload} bytes) must be less than or equal to {max_bytes} bytes.")


def resolve_grid(image: Image, grid: Optional[Dict[str, Any]]) -> PixelGrid:
    """The requested PixelGrid JSON completed from the image's default grid."""
    default = image.default_grid()
    if not grid:
        if default is None:
            raise invalid_argument(
                "Unable to compute the bounds of an unbounded image: specify grid.dimensions "
                "and grid.affineTransform, or clip the image."
            )
        return default
    crs = grid.get("crsCode") or grid.get("crsWkt")
    at = grid.get("affineTransform")
    dims = grid.get("dimensions")
    if crs is None:
        crs = default.crs if default is not None else image.projection().crs
    if at is None:
        base = default.transform if default is not None else image.projection().transform
        at_dict = dict(zip(("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY"), base))
    else:
        at_dict = at
    if dims is None or not dims.get("width") or not dims.get("height"):
        if default is None:
            raise invalid_argument("grid.dimensions must be specified for an unbounded image.")
        if at is None and (crs == default.crs):
            return default
        fp = image.footprint()
        from eeextract_plugin.sandbox.imagery.image import grid_covering

        proj = Projection(str(crs), tuple(float(at_dict.get(k, d)) for k, d in (
            ("scaleX", 1.0), ("shearX", 0.0), ("translateX", 0.0), ("shearY", 0.0), ("scaleY", -1.0), ("translateY", 0.0))))
        if fp is None:
            raise invalid_argument("grid.dimensions must be specified for an unbounded image.")
        covering = grid_covering(proj, fp)
        if covering is None:
            raise invalid_argument("Unable to compute the bounds of the image in the requested grid.")
        return covering
    full = {"crsCode": crs, "affineTransform": at_dict, "dimensions": dims}
    try:
        return PixelGrid.from_json(full)
    except (TypeError, ValueError) as exc:
        raise invalid_argument(f"Invalid grid: {exc}") from None


def validate_grid(grid: PixelGrid) -> None:
    """A usable grid: known CRS, finite invertible transform, positive dimensions."""
    import math

    from eeextract_plugin.sandbox.imagery.projection import crs_object

    if grid.width <= 0 or grid.height <= 0:
        raise invalid_argument(f"Pixel grid dimensions ({grid.width}x{grid.height}) must be positive.")
    sx, hx, tx, hy, sy, ty = grid.transform
    if not all(math.isfinite(v) for v in grid.transform) or sx * sy - hx * hy == 0:
        raise invalid_argument("Invalid grid: the affine transform must be finite and invertible.")
    crs_object(grid.crs)


def select_bands(image: Image, band_ids: Optional[Sequence[str]]) -> List[str]:
    if not band_ids:
        return image.band_names()
    names = image.band_names()
    for b in band_ids:
        if b not in names:
            raise invalid_argument(f"Image.select: Pattern '{b}' did not match any bands.")
    return list(band_ids)


def compute_pixels(image: Image, grid: Optional[Dict[str, Any]] | PixelGrid, band_ids: Optional[Sequence[str]],
                   visualization: Optional[Dict[str, Any]], config: Any, enforce_limits: bool = True) -> Raster:
    """``image:computePixels``: the image's selected bands on ``grid`` (or its default grid),
    optionally visualized to 8-bit RGB; limits checked before computing."""
    if not isinstance(image, Image):
        raise invalid_argument("computePixels: the expression must evaluate to an Image.")
    pixel_grid = grid if isinstance(grid, PixelGrid) else resolve_grid(image, grid)
    validate_grid(pixel_grid)
    names = select_bands(image, band_ids)
    if visualization:
        from eeextract_plugin.sandbox.imagery.visualize import visualize_options

        selected = image.with_bands([image.band(n) for n in names])
        vis_image = visualize_options(selected, visualization)
        if enforce_limits:
            n = len(vis_image.bands)
            check_limits(pixel_grid, n, n * (UINT8.dtype.itemsize + 1) * pixel_grid.width * pixel_grid.height, config)
        return vis_image.compute(pixel_grid)
    if enforce_limits:
        check_limits(pixel_grid, len(names), request_bytes(image, pixel_grid, names), config)
    return image.compute(pixel_grid, names)


def asset_pixels(image: Image, grid: Optional[Dict[str, Any]], region: Any, band_ids: Optional[Sequence[str]],
                 visualization: Optional[Dict[str, Any]], config: Any, enforce_limits: bool = True) -> Raster:
    """An asset's ``getPixels``: like computePixels on the stored image; ``region`` (GeoJSON in
    EPSG:4326) clips it and, without a grid, picks the native-grid window covering it."""
    if region:
        from eeextract_plugin.sandbox.imagery.algorithms import clip_image
        from eeextract_plugin.sandbox.imagery.s2 import to_shapely

        shape = to_shapely(region)
        image = clip_image(image, shape)
        if not grid or not (grid.get("dimensions") or {}).get("width"):
            band = image.bands[0] if image.bands else None
            if band is not None:
                from eeextract_plugin.sandbox.imagery.image import (
                    clip_grid_to_extent,
                    grid_covering,
                )

                base = band.projection
                if grid and grid.get("affineTransform"):
                    at = grid["affineTransform"]
                    base = Projection(grid.get("crsCode") or grid.get("crsWkt") or base.crs, tuple(
                        float(at.get(k, d)) for k, d in (("scaleX", 1.0), ("shearX", 0.0), ("translateX", 0.0),
                                                        ("shearY", 0.0), ("scaleY", -1.0), ("translateY", 0.0))))
                covering = grid_covering(base, shape)
                if covering is None:
                    raise invalid_argument("The region does not intersect the image.")
                if band.dimensions is not None and base == band.projection:
                    covering = clip_grid_to_extent(covering, base, band.dimensions)
                grid = covering
    return compute_pixels(image, grid, band_ids, visualization, config, enforce_limits)


def output_nbytes(raster: Raster) -> int:
    return int(sum(b.values.nbytes for b in raster.bands))


__all__ = ["compute_pixels", "asset_pixels", "request_bytes", "check_limits", "resolve_grid"]

