"""Region reductions: ``Image.reduceRegion``, ``Image.reduceRegions``, ``Image.sampleRegions``
and ``Image.sample``.

Pixels come from the imagery model on a grid in the requested projection (``crs`` with ``scale``
or ``crsTransform``; by default the image's first band's projection, at ``scale`` if given)
covering the region. As Earth Engine: a pixel belongs to a polygon when its centre is inside;
points and lines take the pixels they touch; masked pixels are left out; more than ``maxPixels``
pixels in the region fails with Earth Engine's message (or, with ``bestEffort``, the scale grows
until it fits).

Output names, as Earth Engine:

- ``reduceRegion``: one output → the band's name; several → ``<band>_<output>``.
- ``reduceRegions`` / per-feature: with a one-band image the reducer's output names
  (``mean``), with several bands as ``reduceRegion``.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.model.collection import Collection, ListCollection, MappedCollection
from eeextract_plugin.sandbox.model.element import Element
from eeextract_plugin.sandbox.model.feature import Feature, features_of
from eeextract_plugin.sandbox.model.geometry import WGS84, Geometry, as_geometry, transform_shape
from eeextract_plugin.sandbox.model.reducer import Reducer
from eeextract_plugin.sandbox.raster import PixelGrid

# Pixels computed at once (rows of the region's window are processed in blocks of this size).
BLOCK_PIXELS = 4_000_000
# Whatever maxPixels says, a window larger than this is more than the sandbox computes.
HARD_MAX_WINDOW = 400_000_000


def _imagery():
    from eeextract_plugin.sandbox.imagery import algorithms, image, pixels, projection

    return algorithms, image, pixels, projection


def _as_image(value: Any, name: str) -> Any:
    if not (hasattr(value, "bands") and callable(getattr(value, "compute", None))):
        raise invalid_argument(f"{name}, argument 'image': Invalid type.\nExpected type: Image<unknown bands>.")
    return value


def _as_reducer(value: Any, name: str) -> Reducer:
    if not isinstance(value, Reducer):
        raise invalid_argument(f"{name}, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    return value


def _config():
    from eeextract_plugin.sandbox.evaluator import current_context

    return current_context().config


# --------------------------------------------------------------------------- projection


def work_projection(image: Any, scale: Any = None, crs: Any = None, crsTransform: Any = None) -> Any:
    """The projection a region reduction works in."""
    algorithms, _, _, projection = _imagery()
    Projection = projection.Projection
    if crs is not None:
        base = algorithms.as_projection(crs)
    elif image.bands:
        base = image.bands[0].projection
    else:
        base = Projection.wgs84_degrees()
    if crsTransform is not None:
        if scale is not None:
            raise invalid_argument("Cannot specify both crsTransform and scale.")
        return Projection(base.crs, algorithms._transform6(crsTransform))
    if scale is not None:
        scale = float(scale)
        if scale <= 0:
            raise invalid_argument("Scale must be positive.")
        if crs is not None and isinstance(crs, str):
            u = scale * (1.0 / projection.METERS_PER_DEGREE if projection.is_geographic(base.crs) else 1.0)
            return Projection(base.crs, (u, 0.0, 0.0, 0.0, -u, 0.0))
        return base.at_scale(scale)
    return base


# --------------------------------------------------------------------------- pixels of a region


class RegionPixels:
    """The pixels of ``image`` inside ``shape_4326`` on the lattice of ``proj``."""

    def __init__(self, image: Any, geometry: Geometry, proj: Any):
        self.image = image
        self.geometry = geometry
        self.proj = proj
        self.shape = geometry.in_crs(proj.crs)
        self.window = self._window()

    def _window(self) -> Optional[PixelGrid]:
        _, _, _, projection = _imagery()
        shape = self.shape
        if shape is None or shape.is_empty:
            return None
        import shapely

        coords = shapely.get_coordinates(shape)
        coords = coords[np.isfinite(coords).all(axis=1)]
        if coords.size == 0:
            return None
        c, r = projection.affine_inverse_apply(self.proj.transform, coords[:, 0], coords[:, 1])
        tol = 1e-9
        c0 = math.floor(float(c.min()) + tol)
        r0 = math.floor(float(r.min()) + tol)
        c1 = max(c0 + 1, math.ceil(float(c.max()) - tol))
        r1 = max(r0 + 1, math.ceil(float(r.max()) - tol))
        if float(c.max()) >= c1:
            c1 = math.floor(float(c.max())) + 1
        if float(r.max()) >= r1:
            r1 = math.floor(float(r.max())) + 1
        w, h = c1 - c0, r1 - r0
        return PixelGrid(self.proj.crs, tuple(self.proj.transform), w, h).window(c0, r0, w, h)

    def estimated_count(self) -> int:
        """Pixels in the region, estimated without rasterising (area / pixel area)."""
        if self.window is None:
            return 0
        total = self.window.width * self.window.height
        if self.shape.geom_type in ("Polygon", "MultiPolygon"):
            sx, hx, _, hy, sy, _ = self.proj.transform
            pixel_area = abs(sx * sy - hx * hy) or 1.0
            return int(min(total, math.ceil(self.shape.area / pixel_area)))
        return int(total)

    def blocks(self) -> Iterator[Tuple[PixelGrid, np.ndarray]]:
        """(grid, region mask) for blocks of rows of the window."""
        algorithms, _, _, _ = _imagery()
        if self.window is None:
            return
        from eeextract_plugin.sandbox.evaluator import current_context

        context = current_context()
        w, h = self.window.width, self.window.height
        rows = max(1, BLOCK_PIXELS // max(1, w))
        for r0 in range(0, h, rows):
            context.check_deadline()
            grid = self.window.window(0, r0, w, min(rows, h - r0))
            mask = _quiet_rasterize(algorithms.rasterize, self.shape, grid)
            if mask.any():
                yield grid, mask

    def count(self) -> int:
        return int(sum(int(mask.sum()) for _, mask in self.blocks()))

    def band_values(self, band_names: Sequence[str]) -> Dict[str, np.ndarray]:
        """Valid values of each band inside the region (masked pixels left out)."""
        _, _, pixels, _ = _imagery()
        out: Dict[str, List[np.ndarray]] = {n: [] for n in band_names}
        config = _config()
        for grid, mask in self.blocks():
            raster = pixels.compute_pixels(self.image, grid, list(band_names), None, config, enforce_limits=False)
            for band in raster.bands:
                ok = mask & band.mask
                out[band.name].append(band.values[ok])
        return {n: (np.concatenate(v) if v else np.zeros(0)) for n, v in out.items()}

    def samples(self, band_names: Sequence[str]) -> Iterator[Tuple[float, float, Dict[str, Any], bool]]:
        """Each pixel of the region: (x, y) of its centre in the projection, values, all-valid."""
        _, _, pixels, projection = _imagery()
        config = _config()
        for grid, mask in self.blocks():
            raster = pixels.compute_pixels(self.image, grid, list(band_names), None, config, enforce_limits=False)
            x, y = projection.grid_centres(grid)
            x, y = np.broadcast_arrays(x, y)
            rows, cols = np.nonzero(mask)
            for r, c in zip(rows, cols):
                values = {}
                valid = True
                for band in raster.bands:
                    if band.mask[r, c]:
                        values[band.name] = band.values[r, c].item()
                    else:
                        values[band.name] = None
                        valid = False
                yield float(x[r, c]), float(y[r, c]), values, valid


def _quiet_rasterize(rasterize: Any, shape: Any, grid: PixelGrid) -> np.ndarray:
    """The imagery side's rasterisation without GDAL's warning about the in-memory layer's
    missing spatial reference (both are in the grid's CRS). GDAL's handler stack is per thread."""
    from osgeo import gdal

    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        return rasterize(shape, grid)
    finally:
        gdal.PopErrorHandler()


def _region_geometry(geometry: Any, image: Any, name: str) -> Geometry:
    if geometry is None:
        footprint = image.footprint() if callable(getattr(image, "footprint", None)) else None
        if footprint is None:
            raise invalid_argument(
                f"{name}: Provide 'geometry' parameter when aggregating over an unbounded image.")
        return Geometry(footprint, WGS84)
    if isinstance(geometry, Collection):
        from eeextract_plugin.sandbox.model.geometry import union_all

        return union_all([as_geometry(e) for e in geometry.iterate() if getattr(e, "geometry", None) is not None])
    return as_geometry(geometry, name)


def _too_many(name: str, found: int, allowed: int) -> Exception:
    return invalid_argument(
        f"{name}: Too many pixels in the region. Found {found}, but maxPixels allows only {allowed}.\n\n"
        "Ensure that you are not aggregating at a higher resolution than you intended; that is "
        "frequently the cause of this error. If not, then you may set the 'maxPixels' argument to a "
        "limit suitable for your computation; set 'bestEffort' to true to aggregate at whatever "
        "scale results in maxPixels total pixels; or both."
    )


def region_pixels(image: Any, geometry: Geometry, proj: Any, max_pixels: Optional[float], best_effort: bool,
                  name: str) -> RegionPixels:
    """The region's pixels in ``proj``; with ``best_effort`` at a coarser scale if there are too many."""
    region = RegionPixels(image, geometry, proj)
    limit = None if max_pixels is None else int(max_pixels)
    for _ in range(60):
        estimate = region.estimated_count()
        window = 0 if region.window is None else region.window.width * region.window.height
        if (limit is None or estimate <= limit) and window <= HARD_MAX_WINDOW:
            return region
        if not best_effort:
            if limit is not None and estimate > limit:
                raise _too_many(name, estimate, limit)
            raise invalid_argument(f"{name}: User memory limit exceeded.")
        ratio = max(estimate / max(1, limit) if limit is not None else 0.0, window / HARD_MAX_WINDOW)
        factor = max(1.05, math.sqrt(ratio) * 1.01)
        proj = proj.at_scale(proj.nominal_scale() * factor)
        region = RegionPixels(image, geometry, proj)
    raise invalid_argument(f"{name}: User memory limit exceeded.")


def reduce_pixels(reducer: Reducer, values: Dict[str, np.ndarray], band_names: Sequence[str],
                  single_band_uses_outputs: bool) -> Dict[str, Any]:
    """Reducer outputs per band, named as Earth Engine names them."""
    outputs = reducer.output_names()
    result: Dict[str, Any] = {}
    for band in band_names:
        reduced = reducer.apply(values[band])
        for output in outputs:
            if single_band_uses_outputs and len(band_names) == 1:
                key = output
            elif len(outputs) == 1:
                key = band
            else:
                key = f"{band}_{output}"
            result[key] = reduced.get(output)
    return result


def reduce_region(image: Any, reducer: Reducer, geometry: Geometry, scale=None, crs=None, crsTransform=None,
                  best_effort=False, max_pixels: Optional[float] = 1e7, name="Image.reduceRegion",
                  single_band_uses_outputs=False) -> Dict[str, Any]:
    if reducer.num_inputs != 1:
        raise invalid_argument(
            f"{name}: reducers with {reducer.num_inputs} inputs (e.g. Reducer.combine with sharedInputs "
            "false) are not supported in the sandbox; use sharedInputs=true.")
    proj = work_projection(image, scale, crs, crsTransform)
    band_names = [b.name for b in image.bands]
    region = region_pixels(image, geometry, proj, max_pixels, bool(best_effort), name)
    values = region.band_values(band_names) if band_names else {}
    return reduce_pixels(reducer, values, band_names, single_band_uses_outputs)


# --------------------------------------------------------------------------- algorithms


@algorithm("Image.reduceRegion")
def image_reduce_region(image, reducer, geometry=None, scale=None, crs=None, crsTransform=None,
                        bestEffort=False, maxPixels=10000000, tileScale=1):
    name = "Image.reduceRegion"
    image = _as_image(image, name)
    reducer = _as_reducer(reducer, name)
    region = _region_geometry(geometry, image, name)
    return reduce_region(image, reducer, region, scale, crs, crsTransform, bestEffort,
                         maxPixels if maxPixels is not None else 1e7, name)


@algorithm("Image.reduceRegions")
def image_reduce_regions(image, collection, reducer, scale=None, crs=None, crsTransform=None, tileScale=1,
                         maxPixelsPerRegion=None):
    name = "Image.reduceRegions"
    image = _as_image(image, name)
    reducer = _as_reducer(reducer, name)
    features = features_of(collection, name)
    # Checked once, up front, so that a bad projection fails the request rather than a feature.
    work_projection(image, scale, crs, crsTransform)

    def reduce_feature(feature: Element) -> Element:
        geometry = getattr(feature, "geometry", None)
        if geometry is None:
            raise invalid_argument(f"{name}: Feature has no geometry.")
        values = reduce_region(image, reducer, geometry, scale, crs, crsTransform, False,
                               maxPixelsPerRegion, name, single_band_uses_outputs=True)
        return feature.with_properties(values)

    return MappedCollection(features, reduce_feature, False)


def _sample_projection(image: Any, scale: Any, projection: Any) -> Any:
    if projection is not None:
        algorithms, _, _, _ = _imagery()
        proj = algorithms.as_projection(projection)
        return proj.at_scale(float(scale)) if scale is not None else proj
    return work_projection(image, scale)


def _point_geometry(x: float, y: float, crs: str) -> Geometry:
    from shapely.geometry import Point

    point = Point(x, y)
    if crs != WGS84:
        point = transform_shape(point, crs, WGS84)
    return Geometry(point, WGS84)


@algorithm("Image.sampleRegions")
def image_sample_regions(image, collection, properties=None, scale=None, projection=None, tileScale=1,
                         geometries=False):
    name = "Image.sampleRegions"
    image = _as_image(image, name)
    features = features_of(collection, name)
    proj = _sample_projection(image, scale, projection)
    band_names = [b.name for b in image.bands]

    def generate() -> Iterator[Element]:
        for feature in features.iterate():
            geometry = getattr(feature, "geometry", None)
            if geometry is None:
                continue
            if properties is None:
                copied = {k: v for k, v in feature.properties.items() if not k.startswith("system:")}
            else:
                copied = {k: feature.properties.get(k) for k in properties if k in feature.properties}
            index = feature.get("system:index")
            region = RegionPixels(image, geometry, proj)
            n = 0
            for x, y, values, valid in region.samples(band_names):
                if not valid:
                    continue
                props = {**copied, **values, "system:index": f"{index}_{n}"}
                n += 1
                yield Feature(_point_geometry(x, y, proj.crs) if geometries else None, props)

    return GeneratedCollection(generate)


@algorithm("Image.sample")
def image_sample(image, region=None, scale=None, projection=None, factor=None, numPixels=None, seed=0,
                 dropNulls=True, tileScale=1, geometries=False):
    name = "Image.sample"
    image = _as_image(image, name)
    geometry = _region_geometry(region, image, name)
    proj = _sample_projection(image, scale, projection)
    band_names = [b.name for b in image.bands]
    area = region_pixels(image, geometry, proj, 1e8, False, name)
    samples = [s for s in area.samples(band_names) if s[3] or not dropNulls]
    rng = np.random.RandomState(int(seed or 0) & 0x7FFFFFFF)
    if factor is not None:
        keep = rng.uniform(size=len(samples)) < float(factor)
        samples = [s for s, k in zip(samples, keep) if k]
    elif numPixels is not None and len(samples) > int(numPixels):
        chosen = sorted(rng.choice(len(samples), int(numPixels), replace=False))
        samples = [samples[i] for i in chosen]
    out = []
    for i, (x, y, values, _valid) in enumerate(samples):
        props = {**values, "system:index": str(i)}
        out.append(Feature(_point_geometry(x, y, proj.crs) if geometries else None, props))
    return ListCollection(out)


class GeneratedCollection(Collection):
    """A feature collection produced on demand by a generator function."""

    def __init__(self, generate: Any):
        super().__init__({}, None)
        self.generate = generate

    def iter_elements(self) -> Iterator[Element]:
        return iter(self.generate())

