"""Image, ImageCollection and Projection algorithms, under Earth Engine's names and argument names
(``ee/tests/algorithms.json``).

Band matching of binary operators follows Earth Engine: a 1-band operand applies to every band of
the other; otherwise both need the same number of bands, paired in order; output names come from
the longer operand (image1 when equal). Output types are the union of the input types (integer
ranges merged; float/double win), integer results saturate; comparisons and logic give 0/1 uint8.

Composites (``ImageCollection.mosaic``, ``reduce.*``, ``ImageCollection.reduce``) are lazy: for a
requested grid, only the collection's images that can intersect the grid are generated (the
grid's bounds are pushed down into ``SANDBOX/S2_SR``), each is resampled onto the grid, then
reduced per pixel with masks. That is how scenes from different UTM zones composite together.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.imagery.image import (
    BOOLEAN,
    DOUBLE,
    FLOAT,
    Band,
    BandResult,
    ConstantBand,
    FunctionBand,
    Image,
    MaskedOutsideBand,
    PixelType,
    ResampledBand,
    check_deadline,
)
from eeextract_plugin.sandbox.imagery.projection import (
    WGS84,
    Projection,
    affine_inverse_apply,
    grid_bounds_4326,
    is_geographic,
    same_crs,
    transform_xy,
)
from eeextract_plugin.sandbox.model.collection import Collection, ListCollection
from eeextract_plugin.sandbox.raster import PixelGrid

# ----------------------------------------------------------------------------- helpers


def _catalog():
    from eeextract_plugin.sandbox.evaluator import current_context
    from eeextract_plugin.sandbox.imagery.catalog import ImageCatalog

    context = current_context()
    if context.catalog is None:
        context.catalog = ImageCatalog(context.config)
    return context.catalog


def as_image(value: Any, where: str, argument: str = "image") -> Image:
    if isinstance(value, Image):
        return value
    if isinstance(value, (bool, int, float, np.number)):
        return constant_image(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) for v in value):
        return constant_image(list(value))
    kind = type(value).__name__ if value is not None else "Null"
    raise invalid_argument(f"{where}, argument '{argument}': Invalid type.\nExpected type: Image<unknown bands>.\n"
                           f"Actual type: {kind}.")


def constant_image(value: Any) -> Image:
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return Image([ConstantBand("constant", _number(value[0]))])
        return Image([ConstantBand(f"constant_{i}", _number(v)) for i, v in enumerate(value)])
    return Image([ConstantBand("constant", _number(value))])


def _number(v: Any):
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    raise invalid_argument(f"Image.constant: Invalid value {v!r}: must be a number.")


def _names(value: Any) -> List[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    return list(value)


def _common_footprint(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return a if b is None else b
    if a is b:
        return a
    return a.intersection(b)


def _projection_of(bands: Sequence[Band]) -> Projection:
    for b in bands:
        if not isinstance(b, ConstantBand):
            return b.projection
    return bands[0].projection if bands else Projection.wgs84_degrees()


# ----------------------------------------------------------------------------- load


@algorithm("Image.load")
def image_load(id, version=None):
    image = _catalog().get_image(str(id))
    if image is None:
        raise invalid_argument(f"Image.load: Image asset '{id}' not found (does not exist or caller does not have access).")
    return image


@algorithm("ImageCollection.load")
def image_collection_load(id, version=None):
    collection = _catalog().get_collection(str(id))
    if collection is None:
        raise invalid_argument(
            f"ImageCollection.load: ImageCollection asset '{id}' not found (does not exist or caller does not have access)."
        )
    return collection


@algorithm("ImageCollection.fromImages")
def image_collection_from_images(images):
    items = [as_image(i, "ImageCollection.fromImages", "images") for i in (images or [])]
    return ListCollection(items, {}, kind="ImageCollection")


@algorithm("Image.constant")
def image_constant(value):
    return constant_image(value)


# ----------------------------------------------------------------------------- band selection


def _select_indices(image: Image, selectors: Sequence[Any], where: str) -> List[int]:
    names = image.band_names()
    out: List[int] = []
    for sel in selectors:
        if isinstance(sel, bool):
            raise invalid_argument(f"{where}: Invalid band selector {sel!r}.")
        if isinstance(sel, (int, float)) and float(sel).is_integer():
            i = int(sel)
            if i < 0 or i >= len(names):
                raise invalid_argument(f"{where}: Band index out of bounds: {i}. Image has {len(names)} bands.")
            out.append(i)
            continue
        pattern = str(sel)
        try:
            regex = re.compile(pattern)
            matched = [i for i, n in enumerate(names) if regex.fullmatch(n)]
        except re.error:
            matched = [i for i, n in enumerate(names) if n == pattern]
        if not matched:
            raise invalid_argument(f"{where}: Pattern '{pattern}' did not match any bands.")
        out.extend(matched)
    return out


@algorithm("Image.select")
def image_select(input, bandSelectors, newNames=None):
    image = as_image(input, "Image.select", "input")
    idx = _select_indices(image, _names(bandSelectors), "Image.select")
    bands = [image.bands[i] for i in idx]
    if newNames is not None:
        new = [str(n) for n in _names(newNames)]
        if len(new) != len(bands):
            raise invalid_argument(
                f"Image.select: Mismatch between number of selected bands ({len(bands)}) and new names ({len(new)})."
            )
        bands = [b.renamed(n) for b, n in zip(bands, new)]
    _check_unique([b.name for b in bands], "Image.select")
    return _keep(image, bands)


def _keep(image: Image, bands: Sequence[Band]) -> Image:
    """Same image (properties, id) with other bands."""
    out = Image(bands, image.properties, image.asset_id, image.version)
    return out


def _check_unique(names: Sequence[str], where: str) -> None:
    seen = set()
    for n in names:
        if n in seen:
            raise invalid_argument(f"{where}: Duplicate band name '{n}'.")
        seen.add(n)


@algorithm("Image.rename")
def image_rename(input, names):
    image = as_image(input, "Image.rename", "input")
    new = [str(n) for n in _names(names)]
    if len(new) != len(image.bands):
        raise invalid_argument(
            f"Image.rename: The number of names ({len(new)}) must match the number of bands ({len(image.bands)})."
        )
    _check_unique(new, "Image.rename")
    return _keep(image, [b.renamed(n) for b, n in zip(image.bands, new)])


@algorithm("Image.addBands")
def image_add_bands(dstImg, srcImg, names=None, overwrite=False):
    dst = as_image(dstImg, "Image.addBands", "dstImg")
    src = as_image(srcImg, "Image.addBands", "srcImg")
    src_bands = src.bands
    if names is not None:
        idx = _select_indices(src, _names(names), "Image.addBands")
        src_bands = [src.bands[i] for i in idx]
    bands = list(dst.bands)
    for b in src_bands:
        existing = [i for i, d in enumerate(bands) if d.name == b.name]
        if existing and overwrite:
            bands[existing[0]] = b
        elif existing:
            # Earth Engine keeps both: the added band gets the first free "<name>_<n>".
            taken = {d.name for d in bands}
            n = 1
            while f"{b.name}_{n}" in taken:
                n += 1
            bands.append(b.renamed(f"{b.name}_{n}"))
        else:
            bands.append(b)
    return _keep(dst, bands)


@algorithm("Image.slice")
def image_slice(image, start, end=None):
    img = as_image(image, "Image.slice")
    n = len(img.bands)
    first = int(start)
    last = n if end is None else int(end)
    first = first + n if first < 0 else first
    last = last + n if last < 0 else last
    first, last = max(0, min(first, n)), max(0, min(last, n))
    return _keep(img, img.bands[first:last])


@algorithm("Image.bandNames")
def image_band_names(image):
    return as_image(image, "Image.bandNames").band_names()


@algorithm("Image.bandTypes")
def image_band_types(image):
    return {b.name: b.pixel_type.to_info() for b in as_image(image, "Image.bandTypes").bands}


@algorithm("Image.id")
def image_id(element):
    image = as_image(element, "Image.id", "element")
    return image.asset_id


# ----------------------------------------------------------------------------- pixel-wise maths


def _pairs(a: Image, b: Image, where: str) -> List[Tuple[Band, Band, str]]:
    na, nb = len(a.bands), len(b.bands)
    if na == 0 or nb == 0:
        return []
    if na == nb:
        return [(x, y, x.name) for x, y in zip(a.bands, b.bands)]
    if nb == 1:
        return [(x, b.bands[0], x.name) for x in a.bands]
    if na == 1:
        return [(a.bands[0], y, y.name) for y in b.bands]
    raise invalid_argument(f"{where}: Images must contain the same number of bands or only 1 band. Got {na} and {nb}.")


def _binary(name: str, op: Callable[[np.ndarray, np.ndarray], np.ndarray],
            out_type: Callable[[PixelType, PixelType], PixelType]):
    where = f"Image.{name}"

    def implementation(image1, image2):
        a = as_image(image1, where, "image1")
        b = as_image(image2, where, "image2")
        bands = []
        for x, y, band_name in _pairs(a, b, where):
            ptype = out_type(x.pixel_type, y.pixel_type)

            def fn(inputs: List[BandResult], ptype=ptype) -> BandResult:
                (va, ma), (vb, mb) = inputs
                with np.errstate(all="ignore"):
                    result = op(_wide(va), _wide(vb))
                return ptype.cast(np.asarray(result)), ma & mb

            bands.append(FunctionBand(band_name, ptype, _projection_of([x, y]),
                                      _common_footprint(x.footprint, y.footprint), [x, y], fn))
        # Like Earth Engine, arithmetic does not carry the inputs' properties (system:time_start
        # is lost: users copyProperties).
        return Image(bands)

    implementation.__name__ = f"image_{name}"
    algorithm(where)(implementation)
    return implementation


def _wide(v: np.ndarray) -> np.ndarray:
    if v.dtype.kind in "iub":
        return v.astype(np.int64)
    return v.astype(np.float64)


def _union(a: PixelType, b: PixelType) -> PixelType:
    return a.union(b)


def _boolean(a: PixelType, b: PixelType) -> PixelType:
    return BOOLEAN


def _double(a: PixelType, b: PixelType) -> PixelType:
    return DOUBLE


def _int_union(a: PixelType, b: PixelType) -> PixelType:
    u = a.union(b)
    return u if u.is_int else PixelType("int", -(2**63), 2**63 - 1)


def _divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    xf = x.astype(np.float64)
    yf = y.astype(np.float64)
    safe = np.where(yf == 0, 1.0, yf)
    out = np.where(yf == 0, 0.0, xf / safe)
    return out


def _shift_r(x, y):
    return np.right_shift(x.astype(np.int64), np.clip(y.astype(np.int64), 0, 63))


def _shift_l(x, y):
    return np.left_shift(x.astype(np.int64), np.clip(y.astype(np.int64), 0, 63))


_binary("add", np.add, _union)
_binary("subtract", np.subtract, _union)
_binary("multiply", np.multiply, _union)
_binary("divide", _divide, _union)
_binary("max", np.maximum, _union)
_binary("min", np.minimum, _union)
_binary("pow", lambda x, y: np.power(x.astype(np.float64), y.astype(np.float64)), _double)
_binary("eq", lambda x, y: x == y, _boolean)
_binary("neq", lambda x, y: x != y, _boolean)
_binary("gt", lambda x, y: x > y, _boolean)
_binary("gte", lambda x, y: x >= y, _boolean)
_binary("lt", lambda x, y: x < y, _boolean)
_binary("lte", lambda x, y: x <= y, _boolean)
_binary("and", lambda x, y: (x != 0) & (y != 0), _boolean)
_binary("or", lambda x, y: (x != 0) | (y != 0), _boolean)
_binary("bitwiseAnd", lambda x, y: x.astype(np.int64) & y.astype(np.int64), _int_union)
_binary("bitwiseOr", lambda x, y: x.astype(np.int64) | y.astype(np.int64), _int_union)
_binary("bitwiseXor", lambda x, y: x.astype(np.int64) ^ y.astype(np.int64), _int_union)
_binary("rightShift", _shift_r, _int_union)
_binary("leftShift", _shift_l, _int_union)


def _unary(name: str, op: Callable[[np.ndarray], np.ndarray], out_type: Callable[[PixelType], PixelType],
           argument: str = "value"):
    where = f"Image.{name}"

    def implementation(**kwargs):
        image = as_image(kwargs.get(argument), where, argument)
        bands = []
        for x in image.bands:
            ptype = out_type(x.pixel_type)

            def fn(inputs: List[BandResult], ptype=ptype) -> BandResult:
                ((v, m),) = inputs
                with np.errstate(all="ignore"):
                    result = op(_wide(v))
                return ptype.cast(np.asarray(result)), m

            bands.append(FunctionBand(x.name, ptype, x.projection, x.footprint, [x], fn))
        return _keep(image, bands)

    def call(value):
        return implementation(**{argument: value})

    call.__name__ = f"image_{name}"
    algorithm(where)(call)
    return call


_unary("not", lambda v: v == 0, lambda t: BOOLEAN)
_unary("abs", np.abs, lambda t: PixelType("int", 0, max(abs(t.min), abs(t.max))) if t.is_int else t)
_unary("sqrt", lambda v: np.sqrt(v.astype(np.float64)), lambda t: DOUBLE)
_unary("log", lambda v: np.log(v.astype(np.float64)), lambda t: DOUBLE)
_unary("exp", lambda v: np.exp(v.astype(np.float64)), lambda t: DOUBLE)
_unary("round", np.round, lambda t: t)
_unary("floor", np.floor, lambda t: t)
_unary("ceil", np.ceil, lambda t: t)

# Casts: EE's names → pixel types.
_CASTS = {
    "toFloat": FLOAT, "float": FLOAT,
    "toDouble": DOUBLE, "double": DOUBLE,
    "toInt": PixelType("int", -2147483648, 2147483647), "int": PixelType("int", -2147483648, 2147483647),
    "toInt8": PixelType("int", -128, 127), "int8": PixelType("int", -128, 127),
    "toInt16": PixelType("int", -32768, 32767), "int16": PixelType("int", -32768, 32767),
    "toShort": PixelType("int", -32768, 32767), "short": PixelType("int", -32768, 32767),
    "toInt32": PixelType("int", -2147483648, 2147483647), "int32": PixelType("int", -2147483648, 2147483647),
    "toInt64": PixelType("int", -(2**63), 2**63 - 1), "int64": PixelType("int", -(2**63), 2**63 - 1),
    "toLong": PixelType("int", -(2**63), 2**63 - 1), "long": PixelType("int", -(2**63), 2**63 - 1),
    "toUint8": PixelType("int", 0, 255), "uint8": PixelType("int", 0, 255),
    "toByte": PixelType("int", 0, 255), "byte": PixelType("int", 0, 255),
    "toUint16": PixelType("int", 0, 65535), "uint16": PixelType("int", 0, 65535),
    "toUint32": PixelType("int", 0, 4294967295), "uint32": PixelType("int", 0, 4294967295),
}
for _name, _ptype in _CASTS.items():
    _unary(_name, lambda v: v, lambda t, _p=_ptype: _p)


@algorithm("Image.cast")
def image_cast(image, bandTypes, bandOrder=None):
    img = as_image(image, "Image.cast")
    types = dict(bandTypes or {})
    bands = []
    for b in img.bands:
        t = types.get(b.name)
        if t is None:
            bands.append(b)
            continue
        ptype = _pixel_type(t)
        bands.append(FunctionBand(b.name, ptype, b.projection, b.footprint, [b],
                                  lambda inputs, p=ptype: (p.cast(inputs[0][0]), inputs[0][1])))
    if bandOrder is not None:
        order = [str(n) for n in _names(bandOrder)]
        by_name = {b.name: b for b in bands}
        bands = [by_name[n] for n in order if n in by_name]
    return _keep(img, bands)


def _pixel_type(value: Any) -> PixelType:
    if isinstance(value, PixelType):
        return value
    if isinstance(value, dict):
        return PixelType.from_info(value)
    if isinstance(value, str) and value in _CASTS:
        return _CASTS[value]
    if isinstance(value, str):
        for k, v in _CASTS.items():
            if k.lower() == value.lower() or k.lower() == "to" + value.lower():
                return v
    raise invalid_argument(f"Image.cast: Invalid pixel type {value!r}.")


@algorithm("Image.normalizedDifference")
def image_normalized_difference(input, bandNames=None):
    image = as_image(input, "Image.normalizedDifference", "input")
    if bandNames is not None:
        idx = _select_indices(image, _names(bandNames), "Image.normalizedDifference")
    else:
        idx = [0, 1]
    if len(idx) != 2 or len(image.bands) < 2:
        raise invalid_argument(
            f"Image.normalizedDifference: Need exactly two bands, got {len(idx) if bandNames else len(image.bands)}."
        )
    first, second = image.bands[idx[0]], image.bands[idx[1]]

    def fn(inputs: List[BandResult]) -> BandResult:
        (a, ma), (b, mb) = inputs
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        total = a + b
        with np.errstate(all="ignore"):
            nd = np.where(total == 0, 0.0, (a - b) / np.where(total == 0, 1.0, total))
        mask = ma & mb & (a >= 0) & (b >= 0)
        return nd.astype(np.float32), mask

    band = FunctionBand("nd", PixelType("float", -1, 1), _projection_of([first, second]),
                        _common_footprint(first.footprint, second.footprint), [first, second], fn)
    band.pixel_type = FLOAT
    return Image([band])


@algorithm("Image.where")
def image_where(input, test, value):
    img = as_image(input, "Image.where", "input")
    t = as_image(test, "Image.where", "test")
    v = as_image(value, "Image.where", "value")
    bands = []
    for i, x in enumerate(img.bands):
        tb = t.bands[i] if len(t.bands) > 1 else t.bands[0]
        vb = v.bands[i] if len(v.bands) > 1 else v.bands[0]
        ptype = x.pixel_type.union(vb.pixel_type)

        def fn(inputs, ptype=ptype):
            (xv, xm), (tv, tm), (vv, vm) = inputs
            use = tm & (tv != 0)
            out = np.where(use, _wide(vv), _wide(xv))
            return ptype.cast(out), np.where(use, vm, xm)

        bands.append(FunctionBand(x.name, ptype, x.projection, x.footprint, [x, tb, vb], fn))
    return _keep(img, bands)


@algorithm("Image.clamp")
def image_clamp(input, low, high):
    img = as_image(input, "Image.clamp", "input")
    bands = [FunctionBand(b.name, b.pixel_type, b.projection, b.footprint, [b],
                          lambda inputs, p=b.pixel_type: (p.cast(np.clip(_wide(inputs[0][0]), low, high)), inputs[0][1]))
             for b in img.bands]
    return _keep(img, bands)


@algorithm("Image.unitScale")
def image_unit_scale(input, low, high):
    img = as_image(input, "Image.unitScale", "input")
    span = float(high) - float(low)
    bands = [FunctionBand(b.name, FLOAT, b.projection, b.footprint, [b],
                          lambda inputs: (((inputs[0][0].astype(np.float64) - float(low)) / (span or 1.0))
                                          .astype(np.float32), inputs[0][1]))
             for b in img.bands]
    return _keep(img, bands)


# ----------------------------------------------------------------------------- masks


def _mask_pairs(image: Image, mask: Image, where: str) -> List[Tuple[Band, Band]]:
    if len(mask.bands) == 1:
        return [(b, mask.bands[0]) for b in image.bands]
    if len(mask.bands) == len(image.bands):
        return list(zip(image.bands, mask.bands))
    raise invalid_argument(
        f"{where}: Mask must have 1 band or the same number of bands as the image "
        f"({len(image.bands)}), got {len(mask.bands)}."
    )


@algorithm("Image.updateMask")
def image_update_mask(image, mask):
    img = as_image(image, "Image.updateMask")
    m = as_image(mask, "Image.updateMask", "mask")
    bands = []
    for b, mb in _mask_pairs(img, m, "Image.updateMask"):
        def fn(inputs):
            (v, vm), (mv, mm) = inputs
            return v, vm & mm & (mv != 0)

        bands.append(FunctionBand(b.name, b.pixel_type, b.projection, b.footprint, [b, mb], fn))
    return _keep(img, bands)


@algorithm("Image.mask")
def image_mask(image, mask=None):
    img = as_image(image, "Image.mask")
    if mask is None:
        bands = [FunctionBand(b.name, PixelType("float"), b.projection, b.footprint, [b],
                              lambda inputs: (inputs[0][1].astype(np.float32), np.ones(inputs[0][1].shape, bool)))
                 for b in img.bands]
        return _keep(img, bands)
    m = as_image(mask, "Image.mask", "mask")
    bands = []
    for b, mb in _mask_pairs(img, m, "Image.mask"):
        def fn(inputs):
            (v, vm), (mv, mm) = inputs
            return v, mm & (mv != 0)

        bands.append(FunctionBand(b.name, b.pixel_type, b.projection, b.footprint, [b, mb], fn))
    return _keep(img, bands)


@algorithm("Image.selfMask")
def image_self_mask(image):
    img = as_image(image, "Image.selfMask")
    return _keep(img, [FunctionBand(b.name, b.pixel_type, b.projection, b.footprint, [b],
                                    lambda inputs: (inputs[0][0], inputs[0][1] & (inputs[0][0] != 0)))
                       for b in img.bands])


@algorithm("Image.unmask")
def image_unmask(input, value=None, sameFootprint=True):
    img = as_image(input, "Image.unmask", "input")
    fill = as_image(0 if value is None else value, "Image.unmask", "value")
    bands = []
    for i, b in enumerate(img.bands):
        fb = fill.bands[i] if len(fill.bands) > 1 else fill.bands[0]
        ptype = b.pixel_type.union(fb.pixel_type)
        footprint = b.footprint if sameFootprint else None
        region = _Region(footprint) if footprint is not None else None

        def fn(inputs, ptype=ptype):
            (v, m), (fv, fm) = inputs
            out = np.where(m, _wide(v), _wide(fv))
            return ptype.cast(out), m | fm

        band = FunctionBand(b.name, ptype, b.projection, footprint, [b, fb], fn)
        if region is not None:
            band = MaskedOutsideBand(band, region.mask, footprint)
        bands.append(band)
    return _keep(img, bands)


# ----------------------------------------------------------------------------- geometry: clip


class _Region:
    """A clip region: the evaluator's Geometry, a shapely geometry (EPSG:4326) or GeoJSON, with
    a cached rasterisation (pixel centres inside) per grid."""

    def __init__(self, geometry: Any):
        self.geometry = geometry
        self._cache: OrderedDict[PixelGrid, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.wgs84 = self._to_wgs84()

    def _to_wgs84(self):
        g = self.geometry
        to_wgs84 = getattr(g, "to_wgs84", None)
        if callable(to_wgs84):
            return to_wgs84()
        from eeextract_plugin.sandbox.imagery.s2 import to_shapely

        return to_shapely(g)

    def in_crs(self, crs: str):
        in_crs = getattr(self.geometry, "in_crs", None)
        if callable(in_crs):
            return in_crs(crs)
        return shape_to_crs(self.wgs84, WGS84, crs)

    def mask(self, grid: PixelGrid) -> np.ndarray:
        with self._lock:
            hit = self._cache.get(grid)
        if hit is not None:
            return hit
        result = rasterize(self.in_crs(grid.crs), grid)
        result.setflags(write=False)
        with self._lock:
            self._cache[grid] = result
            while len(self._cache) > 8:
                self._cache.popitem(last=False)
        return result


def shape_to_crs(shape, source: str, target: str):
    if same_crs(source, target):
        return shape
    import shapely

    x0, y0, x1, y1 = shape.bounds
    span = max(x1 - x0, y1 - y0)
    if span > 0:
        shape = shapely.segmentize(shape, span / 64.0)

    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = transform_xy(source, target, coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(shape, apply)


def rasterize(shape_in_grid_crs, grid: PixelGrid) -> np.ndarray:
    """Pixels of ``grid`` whose centre is inside the shape (lines and points: touched pixels)."""
    import shapely
    from shapely.geometry import box

    h, w = grid.height, grid.width
    if shape_in_grid_crs is None or shape_in_grid_crs.is_empty:
        return np.zeros((h, w), bool)

    def to_pixels(coords: np.ndarray) -> np.ndarray:
        c, r = affine_inverse_apply(grid.transform, coords[:, 0], coords[:, 1])
        return np.column_stack([c, r])

    pix = shapely.transform(shape_in_grid_crs, to_pixels)
    frame = box(0, 0, w, h)
    if not pix.intersects(frame):
        return np.zeros((h, w), bool)
    if pix.geom_type in ("Polygon", "MultiPolygon") and pix.contains(frame):
        return np.ones((h, w), bool)
    from osgeo import gdal, ogr

    ds = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((0.0, 1.0, 0.0, 0.0, 0.0, 1.0))
    layer_ds = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = layer_ds.CreateLayer("clip")
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkb(shapely.to_wkb(pix)))
    layer.CreateFeature(feature)
    options = ["ALL_TOUCHED=TRUE"] if pix.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection") else []
    gdal.PushErrorHandler("CPLQuietErrorHandler")  # the layer has no SRS: pixel coordinates
    try:
        gdal.RasterizeLayer(ds, [1], layer, burn_values=[1], options=options)
    finally:
        gdal.PopErrorHandler()
    return ds.GetRasterBand(1).ReadAsArray().astype(bool)


def clip_image(image: Image, geometry: Any) -> Image:
    """``Image.clip``: masked outside ``geometry``; the footprint becomes the intersection."""
    region = geometry if isinstance(geometry, _Region) else _Region(geometry)
    bands = []
    for b in image.bands:
        footprint = region.wgs84 if b.footprint is None else b.footprint.intersection(region.wgs84)
        bands.append(MaskedOutsideBand(b, region.mask, footprint))
    return _keep(image, bands)


@algorithm("Image.clip")
def image_clip(input, geometry):
    image = as_image(input, "Image.clip", "input")
    if geometry is None:
        raise invalid_argument("Image.clip, argument 'geometry': Invalid type.\nExpected type: Geometry.\nActual type: Null.")
    return clip_image(image, geometry)


@algorithm("Image.clipToCollection")
def image_clip_to_collection(input, collection):
    from shapely import union_all

    from eeextract_plugin.sandbox.model.filter import element_footprint

    image = as_image(input, "Image.clipToCollection", "input")
    shapes = [element_footprint(e) for e in collection.iterate()]
    shapes = [s for s in shapes if s is not None]
    return clip_image(image, union_all(shapes))


# ----------------------------------------------------------------------------- projections


def as_projection(value: Any, transform: Any = None) -> Projection:
    if isinstance(value, Projection):
        proj = value
    elif isinstance(value, dict) and value.get("type") == "Projection":
        proj = Projection(str(value.get("crs") or value.get("wkt")), tuple(float(v) for v in value.get("transform", (1, 0, 0, 0, 1, 0))))
    elif isinstance(value, str):
        proj = Projection(value.strip())
    elif hasattr(value, "crs") and hasattr(value, "transform"):
        proj = Projection(str(value.crs), tuple(float(v) for v in value.transform))
    else:
        raise invalid_argument("Invalid type.\nExpected type: Projection.")
    if transform is not None:
        proj = Projection(proj.crs, _transform6(transform))
    from eeextract_plugin.sandbox.imagery.projection import crs_object

    crs_object(proj.crs)  # validates
    return proj


def _transform6(value: Any) -> Tuple[float, ...]:
    if isinstance(value, str):
        value = [float(v) for v in value.strip("[] ").split(",")]
    values = [float(v) for v in value]
    if len(values) != 6:
        raise invalid_argument(f"Invalid crsTransform: expected 6 numbers, got {len(values)}.")
    return tuple(values)


def _target_projection(crs: Any, crsTransform: Any, scale: Any) -> Projection:
    if crs is None:
        raise invalid_argument("Image.reproject, argument 'crs': Invalid type.\nExpected type: Projection.\nActual type: Null.")
    proj = as_projection(crs)
    if crsTransform is not None:
        proj = Projection(proj.crs, _transform6(crsTransform))
        if scale is not None:
            raise invalid_argument("Image.reproject: Cannot specify both crsTransform and scale.")
    elif scale is not None:
        if isinstance(crs, str):
            u = float(scale) * (1.0 / 111319.49079327357 if is_geographic(proj.crs) else 1.0)
            proj = Projection(proj.crs, (u, 0.0, 0.0, 0.0, -u, 0.0))
        else:
            proj = proj.at_scale(float(scale))
    return proj


@algorithm("Image.reproject")
def image_reproject(image, crs, crsTransform=None, scale=None):
    img = as_image(image, "Image.reproject")
    proj = _target_projection(crs, crsTransform, scale)
    return _keep(img, [ResampledBand(b, proj) for b in img.bands])


@algorithm("Image.setDefaultProjection")
def image_set_default_projection(image, crs, crsTransform=None, scale=None):
    img = as_image(image, "Image.setDefaultProjection")
    proj = _target_projection(crs, crsTransform, scale)
    return _keep(img, [b.with_projection(proj) for b in img.bands])


@algorithm("Image.projection")
def image_projection(image):
    return as_image(image, "Image.projection").projection()


@algorithm("Projection")
def projection_new(crs, transform=None, transformWkt=None):
    if transformWkt is not None and transform is None:
        raise invalid_argument("Projection: transformWkt is not supported by the sandbox; use transform.")
    return as_projection(crs, transform)


@algorithm("Projection.atScale")
def projection_at_scale(projection, meters):
    return as_projection(projection).at_scale(float(meters))


@algorithm("Projection.crs")
def projection_crs(projection):
    return as_projection(projection).crs


@algorithm("Projection.nominalScale")
def projection_nominal_scale(proj):
    return as_projection(proj).nominal_scale()


@algorithm("Projection.transform")
def projection_transform(projection):
    sx, hx, tx, hy, sy, ty = as_projection(projection).transform
    return (f'PARAM_MT["Affine", PARAMETER["num_row", 3], PARAMETER["num_col", 3], '
            f'PARAMETER["elt_0_0", {sx!r}], PARAMETER["elt_0_1", {hx!r}], PARAMETER["elt_0_2", {tx!r}], '
            f'PARAMETER["elt_1_0", {hy!r}], PARAMETER["elt_1_1", {sy!r}], PARAMETER["elt_1_2", {ty!r}]]')


@algorithm("Projection.wkt")
def projection_wkt(projection):
    from eeextract_plugin.sandbox.imagery.projection import crs_object

    return crs_object(as_projection(projection).crs).to_wkt()


@algorithm("Projection.scale")
def projection_scale(projection, x, y):
    p = as_projection(projection)
    sx, hx, tx, hy, sy, ty = p.transform
    x, y = float(x), float(y)
    return Projection(p.crs, (sx * x, hx * y, tx, hy * x, sy * y, ty))


@algorithm("Projection.translate")
def projection_translate(projection, x, y):
    p = as_projection(projection)
    sx, hx, tx, hy, sy, ty = p.transform
    return Projection(p.crs, (sx, hx, tx + float(x), hy, sy, ty + float(y)))


# ----------------------------------------------------------------------------- clipToBoundsAndScale


@algorithm("Image.clipToBoundsAndScale")
def image_clip_to_bounds_and_scale(input, geometry=None, width=None, height=None, maxDimension=None, scale=None):
    img = as_image(input, "Image.clipToBoundsAndScale", "input")
    if geometry is None:
        fp = img.footprint()
        if fp is None and img.bands and img.bands[0].dimensions is not None:
            fp = _extent_4326(img.bands[0])  # a stored global image (SANDBOX/DEM): its extent
        if fp is None:
            raise invalid_argument("Image.clipToBoundsAndScale: The geometry for image clipping must be bounded.")
        region = _Region(fp)
    else:
        region = geometry if isinstance(geometry, _Region) else _Region(geometry)
    if not img.bands:
        return img
    proj = img.bands[0].projection
    shape = region.in_crs(proj.crs)
    if shape is None or shape.is_empty:
        raise invalid_argument("Image.clipToBoundsAndScale: The geometry for image clipping must not be empty.")
    x0, y0, x1, y1 = shape.bounds
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise invalid_argument("Image.clipToBoundsAndScale: The geometry for image clipping must be bounded.")
    if width is None and height is None and maxDimension is None and scale is None:
        grid = _lattice_covering(proj, x0, y0, x1, y1)
    else:
        if scale is not None:
            s = float(scale) * proj.units_per_meter()
            sx = sy = s
        elif width is not None and height is not None:
            sx, sy = (x1 - x0) / float(width), (y1 - y0) / float(height)
        elif maxDimension is not None or width is not None or height is not None:
            if maxDimension is not None:
                side = float(maxDimension)
                s = max(x1 - x0, y1 - y0) / side
            elif width is not None:
                s = (x1 - x0) / float(width)
            else:
                s = (y1 - y0) / float(height)
            sx = sy = s
        if sx <= 0 or sy <= 0:
            raise invalid_argument("Image.clipToBoundsAndScale: The geometry for image clipping must have a non-zero area.")
        w = int(width) if width is not None and scale is None else max(1, int(math.ceil((x1 - x0) / sx - 1e-9)))
        h = int(height) if height is not None and scale is None else max(1, int(math.ceil((y1 - y0) / sy - 1e-9)))
        if maxDimension is not None and width is None and height is None:
            w = max(1, int(round((x1 - x0) / sx)))
            h = max(1, int(round((y1 - y0) / sy)))
        grid = PixelGrid(proj.crs, (sx, 0.0, x0, 0.0, -sy, y1), w, h)
    from shapely.geometry import box

    bbox = _Region(shape_to_crs(box(x0, y0, x1, y1), proj.crs, WGS84)) if not same_crs(proj.crs, WGS84) \
        else _Region(box(x0, y0, x1, y1))
    bbox_native = box(x0, y0, x1, y1)

    class _BoxRegion(_Region):
        def in_crs(self, crs):
            return shape_to_crs(bbox_native, proj.crs, crs)

    box_region = _BoxRegion(bbox.wgs84)
    new_proj = Projection(grid.crs, grid.transform)
    bands = []
    for b in img.bands:
        inner = MaskedOutsideBand(b, box_region.mask, box_region.wgs84 if b.footprint is None
                                  else b.footprint.intersection(box_region.wgs84))
        out = ResampledBand(inner, new_proj) if not _same_lattice(b.projection, new_proj) else inner
        out.footprint = inner.footprint
        out.grid_hint = grid
        bands.append(out)
    return _keep(img, bands)


def _extent_4326(band: Band):
    from shapely.geometry import box

    w, h = band.dimensions
    proj = band.projection
    t = np.linspace(0.0, 1.0, 17)
    cols = np.concatenate([t * w, np.full(17, w), t * w, np.zeros(17)])
    rows = np.concatenate([np.zeros(17), t * h, np.full(17, h), t * h])
    x, y = proj.from_pixel(cols, rows)
    lon, lat = transform_xy(proj.crs, WGS84, x, y)
    ok = np.isfinite(lon) & np.isfinite(lat)
    return box(float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max()))


def _same_lattice(a: Projection, b: Projection) -> bool:
    from eeextract_plugin.sandbox.imagery.projection import aligned_offset

    return aligned_offset(PixelGrid(b.crs, b.transform, 1, 1), a) is not None


def _lattice_covering(proj: Projection, x0: float, y0: float, x1: float, y1: float) -> PixelGrid:
    xs = np.array([x0, x1, x1, x0])
    ys = np.array([y0, y0, y1, y1])
    c, r = affine_inverse_apply(proj.transform, xs, ys)
    tol = 1e-6
    c0 = math.floor(float(c.min()) + tol)
    r0 = math.floor(float(r.min()) + tol)
    c1 = math.ceil(float(c.max()) - tol)
    r1 = math.ceil(float(r.max()) - tol)
    w, h = max(1, c1 - c0), max(1, r1 - r0)
    return PixelGrid(proj.crs, proj.transform, w, h).window(c0, r0, w, h)


# ----------------------------------------------------------------------------- visualize


@algorithm("Image.visualize")
def image_visualize(image, bands=None, gain=None, bias=None, min=None, max=None, gamma=None, opacity=None,
                    palette=None, forceRgbOutput=False):
    from eeextract_plugin.sandbox.imagery.visualize import visualize

    return visualize(as_image(image, "Image.visualize"), bands=bands, gain=gain, bias=bias, min=min, max=max,
                     gamma=gamma, opacity=opacity, palette=palette, force_rgb=bool(forceRgbOutput))


# ----------------------------------------------------------------------------- composites


def restrict_to_bounds(collection: Collection, bounds: Optional[Tuple[float, float, float, float]]) -> Collection:
    """The collection's images that can intersect ``bounds`` (lon/lat), pushed into generation
    where possible (``SANDBOX/S2_SR``); the same collection otherwise."""
    if bounds is None:
        return collection
    from shapely.geometry import box

    from eeextract_plugin.sandbox.imagery.s2 import S2Collection
    from eeextract_plugin.sandbox.model import collection as cmod

    x0, y0, x1, y1 = bounds
    if isinstance(collection, S2Collection):
        return collection.narrowed(None, None, box(x0, y0, x1, y1))
    if type(collection) is cmod.FilteredCollection:
        inner = restrict_to_bounds(collection.base, bounds)
        if inner is collection.base:
            return collection
        return cmod.FilteredCollection(inner, collection.filter)
    if type(collection) is cmod.LimitedCollection and collection.n is None:
        # A sort without a limit commutes with a spatial restriction.
        inner = restrict_to_bounds(collection.base, bounds)
        if inner is collection.base:
            return collection
        return cmod.LimitedCollection(inner, None, collection.key, collection.ascending)
    if type(collection) is cmod.MappedCollection:
        inner = restrict_to_bounds(collection.base, bounds)
        if inner is collection.base:
            return collection
        return cmod.MappedCollection(inner, collection.function, collection.drop_nulls)
    return collection


def _images_on(collection: Collection, grid: PixelGrid) -> Iterable[Image]:
    restricted = restrict_to_bounds(collection, grid_bounds_4326(grid))
    for element in restricted.iterate():
        check_deadline()
        if not isinstance(element, Image):
            raise invalid_argument("ImageCollection: the collection contains a non-image element.")
        yield element


def _first_image(collection: Collection, where: str) -> Optional[Image]:
    """An image of the collection to read band names and types from (a sort is not needed)."""
    from eeextract_plugin.sandbox.model import collection as cmod

    probe = collection
    while type(probe) is cmod.LimitedCollection and probe.key is not None and probe.n != 0:
        probe = probe.base
    first = probe.first()
    if first is not None and not isinstance(first, Image):
        raise invalid_argument(f"{where}: the collection contains a non-image element.")
    return first


class _CompositeGroup:
    """Computes all the outputs of one composite band on a grid once (small per-grid cache)."""

    def __init__(self, collection: Collection, band_name: str, band_index: int,
                 combine: Callable[[Iterable[BandResult], PixelGrid], Dict[str, BandResult]]):
        self.collection = collection
        self.band_name = band_name
        self.band_index = band_index
        self.combine = combine
        self._cache: OrderedDict[PixelGrid, Dict[str, BandResult]] = OrderedDict()
        self._lock = threading.Lock()

    def results(self, grid: PixelGrid) -> Dict[str, BandResult]:
        with self._lock:
            hit = self._cache.get(grid)
        if hit is not None:
            return hit

        def inputs() -> Iterable[BandResult]:
            for image in _images_on(self.collection, grid):
                band = _band_for(image, self.band_name, self.band_index)
                if band is None:
                    continue
                yield band.compute(grid)

        out = self.combine(inputs(), grid)
        with self._lock:
            self._cache[grid] = out
            while len(self._cache) > 2:
                self._cache.popitem(last=False)
        return out


def _band_for(image: Image, name: str, index: int) -> Optional[Band]:
    for b in image.bands:
        if b.name == name:
            return b
    return None


class CompositeBand(Band):
    def __init__(self, name: str, pixel_type: PixelType, group: _CompositeGroup, output: str):
        super().__init__(name, pixel_type, Projection.wgs84_degrees(), None)
        self.group = group
        self.output = output

    def _compute(self, grid: PixelGrid) -> BandResult:
        return self.group.results(grid)[self.output]


MAX_STACK_BYTES = 1 << 30


def _mosaic_combine(ptype: PixelType):
    def combine(inputs: Iterable[BandResult], grid: PixelGrid) -> Dict[str, BandResult]:
        shape = (grid.height, grid.width)
        out = np.zeros(shape, ptype.dtype)
        mask = np.zeros(shape, bool)
        for v, m in inputs:
            if m.any():
                np.copyto(out, ptype.cast(v), where=m)
                mask |= m
        return {"mosaic": (out, mask)}

    return combine


def _stack(inputs: Iterable[BandResult], grid: PixelGrid, dtype=np.float64) -> Tuple[np.ndarray, np.ndarray]:
    values, masks = [], []
    per = grid.width * grid.height * (np.dtype(dtype).itemsize + 1)
    for v, m in inputs:
        if not m.any():
            continue
        values.append(v.astype(dtype))
        masks.append(m)
        if len(values) * per > MAX_STACK_BYTES:
            raise invalid_argument("User memory limit exceeded.")
    if not values:
        shape = (0, grid.height, grid.width)
        return np.zeros(shape, dtype), np.zeros(shape, bool)
    return np.stack(values), np.stack(masks)


def _shortcut_combine(kind: str):
    def combine(inputs: Iterable[BandResult], grid: PixelGrid) -> Dict[str, BandResult]:
        shape = (grid.height, grid.width)
        if kind in ("mean", "sum", "count", "min", "max", "and", "or", "product"):
            acc = None
            count = np.zeros(shape, np.int64)
            for v, m in inputs:
                if not m.any():
                    continue
                w = v.astype(np.float64)
                count += m
                if kind == "count":
                    continue
                if acc is None:
                    init = {"mean": 0.0, "sum": 0.0, "min": np.inf, "max": -np.inf, "and": 1.0, "or": 0.0,
                            "product": 1.0}[kind]
                    acc = np.full(shape, init)
                if kind in ("mean", "sum"):
                    acc += np.where(m, w, 0.0)
                elif kind == "min":
                    acc = np.where(m, np.minimum(acc, w), acc)
                elif kind == "max":
                    acc = np.where(m, np.maximum(acc, w), acc)
                elif kind == "product":
                    acc = np.where(m, acc * w, acc)
                elif kind == "and":
                    acc = np.where(m, np.minimum(acc, (w != 0).astype(np.float64)), acc)
                elif kind == "or":
                    acc = np.where(m, np.maximum(acc, (w != 0).astype(np.float64)), acc)
            valid = count > 0
            if kind == "count":
                return {kind: (count, valid | True)}
            if acc is None:
                return {kind: (np.zeros(shape), valid)}
            if kind == "mean":
                with np.errstate(all="ignore"):
                    acc = np.where(valid, acc / np.maximum(count, 1), 0.0)
            return {kind: (np.where(valid, acc, 0.0), valid)}
        values, masks = _stack(inputs, grid, np.float64)
        if values.shape[0] == 0:
            return {kind: (np.zeros(shape), np.zeros(shape, bool))}
        data = np.where(masks, values, np.nan)
        valid = masks.any(axis=0)
        with np.errstate(all="ignore"), _Quiet():
            if kind == "median":
                result = _nan_median(data)
            elif kind == "mode":
                result = _mode(values, masks)
            else:
                raise invalid_argument(f"reduce.{kind} is not supported by the sandbox.")
        return {kind: (np.where(valid, np.nan_to_num(result), 0.0), valid)}

    return combine


def _nan_median(data: np.ndarray) -> np.ndarray:
    """``np.nanmedian(data, axis=0)``, the same values: one sort along the stack instead of
    numpy's masked-array median, which is several times slower for short stacks."""
    ordered = np.sort(data, axis=0)  # NaNs (masked) last
    count = data.shape[0] - np.isnan(data).sum(axis=0)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[None], axis=0)[0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[None], axis=0)[0]
    out = (low + high) / 2.0
    out[count == 0] = np.nan
    return out


class _Quiet:
    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)


def _mode(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    n, h, w = values.shape
    best = np.zeros((h, w))
    best_count = np.zeros((h, w), np.int64)
    for i in range(n):
        c = ((values == values[i][None]) & masks & masks[i][None]).sum(axis=0)
        better = masks[i] & ((c > best_count) | ((c == best_count) & (values[i] < best)))
        best = np.where(better, values[i], best)
        best_count = np.where(better, c, best_count)
    return best


_SHORTCUT_TYPES = {
    "mean": lambda t: DOUBLE, "median": lambda t: DOUBLE, "sum": lambda t: DOUBLE, "product": lambda t: DOUBLE,
    "min": lambda t: t, "max": lambda t: t, "mode": lambda t: t,
    "count": lambda t: PixelType("int", 0, 2147483647),
    "and": lambda t: BOOLEAN, "or": lambda t: BOOLEAN,
}


def _shortcut(kind: str):
    def implementation(collection):
        coll = _as_image_collection(collection, f"reduce.{kind}")
        first = _first_image(coll, f"reduce.{kind}")
        if first is None:
            return Image([])
        bands = []
        for i, b in enumerate(first.bands):
            group = _CompositeGroup(coll, b.name, i, _shortcut_combine(kind))
            bands.append(CompositeBand(b.name, _SHORTCUT_TYPES[kind](b.pixel_type), group, kind))
        return Image(bands)

    implementation.__name__ = f"reduce_{kind}"
    algorithm(f"reduce.{kind}")(implementation)


for _kind in ("mean", "median", "min", "max", "count", "sum", "product", "mode", "and", "or"):
    _shortcut(_kind)


def _as_image_collection(value: Any, where: str) -> Collection:
    if not isinstance(value, Collection):
        raise invalid_argument(f"{where}, argument 'collection': Invalid type.\nExpected type: ImageCollection.")
    return value


@algorithm("ImageCollection.mosaic")
def image_collection_mosaic(collection):
    coll = _as_image_collection(collection, "ImageCollection.mosaic")
    first = _first_image(coll, "ImageCollection.mosaic")
    if first is None:
        return Image([])
    bands = []
    for i, b in enumerate(first.bands):
        group = _CompositeGroup(coll, b.name, i, _mosaic_combine(b.pixel_type))
        bands.append(CompositeBand(b.name, b.pixel_type, group, "mosaic"))
    return Image(bands)


_KEEP_TYPE_OUTPUTS = ("min", "max", "first", "last", "mode")


@algorithm("ImageCollection.reduce")
def image_collection_reduce(collection, reducer, parallelScale=1):
    coll = _as_image_collection(collection, "ImageCollection.reduce")
    if not hasattr(reducer, "reduce_stack") or not hasattr(reducer, "output_names"):
        raise invalid_argument("ImageCollection.reduce, argument 'reducer': Invalid type.\nExpected type: Reducer.")
    first = _first_image(coll, "ImageCollection.reduce")
    if first is None:
        return Image([])
    outputs = list(reducer.output_names())

    def combine(inputs: Iterable[BandResult], grid: PixelGrid) -> Dict[str, BandResult]:
        values, masks = _stack(inputs, grid, np.float64)
        shape = (grid.height, grid.width)
        if values.shape[0] == 0:
            empty = {}
            for o in outputs:
                empty[o] = (np.zeros(shape), np.zeros(shape, bool)) if o != "count" else \
                    (np.zeros(shape, np.int64), np.ones(shape, bool))
            return empty
        with np.errstate(all="ignore"), _Quiet():
            result = reducer.reduce_stack(values, masks)
        return {k: (np.asarray(v), np.asarray(m, bool)) for k, (v, m) in result.items()}

    bands = []
    for i, b in enumerate(first.bands):
        group = _CompositeGroup(coll, b.name, i, combine)
        for o in outputs:
            if o in _KEEP_TYPE_OUTPUTS:
                ptype = b.pixel_type
            elif o == "count":
                ptype = PixelType("int", 0, 2147483647)
            else:
                ptype = DOUBLE
            name = f"{b.name}_{o}"
            bands.append(CompositeBand(name, ptype, group, o))
    return Image(bands)




# ----------------------------------------------------------------------------- element-like


@algorithm("Image.geometry")
def image_geometry(feature, maxError=None, proj=None, geodesics=None):
    """The footprint (EPSG:4326); an unbounded image gives the whole world, as Earth Engine."""
    from shapely.geometry import box

    from eeextract_plugin.sandbox.model.geometry import Geometry

    image = as_image(feature, "Image.geometry", "feature")
    footprint = image.footprint()
    geometry = Geometry(footprint if footprint is not None else box(-180, -90, 180, 90), WGS84,
                        bool(geodesics) if geodesics is not None else footprint is not None)
    if proj is not None:
        geometry = geometry.transform(as_projection(proj).crs)
    return geometry


@algorithm("Image.date")
def image_date(image):
    from eeextract_plugin.sandbox.model.date import Date

    t = as_image(image, "Image.date").get("system:time_start")
    if t is None:
        raise invalid_argument("Image.date: Image has no 'system:time_start' property.")
    return Date(int(t))


class _PixelLonLatBand(Band):
    def __init__(self, name: str):
        super().__init__(name, DOUBLE, Projection.wgs84_degrees(), None)
        self.axis = 0 if name == "longitude" else 1  # survives renaming

    def _compute(self, grid: PixelGrid) -> BandResult:
        from eeextract_plugin.sandbox.imagery.projection import grid_lonlat

        lonlat = grid_lonlat(grid)
        v = np.broadcast_to(lonlat[self.axis], (grid.height, grid.width))
        return v, np.isfinite(v)


@algorithm("Image.pixelLonLat")
def image_pixel_lon_lat():
    return Image([_PixelLonLatBand("longitude"), _PixelLonLatBand("latitude")])


class _PixelAreaBand(Band):
    R = 6371007.181  # authalic radius (m)

    def __init__(self):
        super().__init__("area", DOUBLE, Projection.wgs84_degrees(), None)

    def _compute(self, grid: PixelGrid) -> BandResult:
        shape = (grid.height, grid.width)
        sx, hx, tx, hy, sy, ty = grid.transform
        if is_geographic(grid.crs) and hx == 0 and hy == 0:
            top = np.radians(ty + sy * np.arange(grid.height))
            bottom = np.radians(ty + sy * (np.arange(grid.height) + 1))
            band = self.R * self.R * np.radians(abs(sx)) * np.abs(np.sin(top) - np.sin(bottom))
            return np.broadcast_to(band[:, None], shape), np.ones(shape, bool)
        return np.full(shape, abs(sx * sy - hx * hy)), np.ones(shape, bool)


@algorithm("Image.pixelArea")
def image_pixel_area():
    return Image([_PixelAreaBand()])


@algorithm("Image.blend")
def image_blend(bottom, top):
    low = as_image(bottom, "Image.blend", "bottom")
    high = as_image(top, "Image.blend", "top")
    bands = []
    for x, y, name in _pairs(low, high, "Image.blend"):
        ptype = x.pixel_type.union(y.pixel_type)

        def fn(inputs, ptype=ptype):
            (lv, lm), (hv, hm) = inputs
            return ptype.cast(np.where(hm, _wide(hv), _wide(lv))), lm | hm

        footprint = x.footprint.union(y.footprint) if x.footprint is not None and y.footprint is not None else None
        bands.append(FunctionBand(name, ptype, x.projection, footprint, [x, y], fn))
    return _keep(low, bands)


@algorithm("ImageCollection.toBands")
def image_collection_to_bands(collection):
    coll = _as_image_collection(collection, "ImageCollection.toBands")
    bands = []
    for n, image in enumerate(coll.elements()):
        if not isinstance(image, Image):
            raise invalid_argument("ImageCollection.toBands: the collection contains a non-image element.")
        prefix = image.get("system:index")
        prefix = str(n) if prefix is None else str(prefix)
        bands.extend(b.renamed(f"{prefix}_{b.name}") for b in image.bands)
    return Image(bands)


class _QualityGroup(_CompositeGroup):
    """All bands of a quality mosaic on a grid: each pixel from the image whose quality band is
    highest there (ties: the later image, as a mosaic)."""

    def __init__(self, collection: Collection, names: Sequence[str], types: Sequence[PixelType], quality: str):
        super().__init__(collection, quality, 0, lambda inputs, grid: {})
        self.names = list(names)
        self.types = list(types)
        self.quality = quality

    def results(self, grid: PixelGrid) -> Dict[str, BandResult]:
        with self._lock:
            hit = self._cache.get(grid)
        if hit is not None:
            return hit
        shape = (grid.height, grid.width)
        best = np.full(shape, -np.inf)
        outs = {n: np.zeros(shape, t.dtype) for n, t in zip(self.names, self.types)}
        masks = {n: np.zeros(shape, bool) for n in self.names}
        for image in _images_on(self.collection, grid):
            qband = _band_for(image, self.quality, 0)
            if qband is None:
                raise invalid_argument(f"ImageCollection.qualityMosaic: Band '{self.quality}' not found in an image.")
            qv, qm = qband.compute(grid)
            if not qm.any():
                continue
            take = qm & (qv.astype(np.float64) >= best)
            if not take.any():
                continue
            best = np.where(take, qv.astype(np.float64), best)
            for name, ptype in zip(self.names, self.types):
                band = _band_for(image, name, 0)
                if band is None:
                    continue
                v, m = band.compute(grid)
                np.copyto(outs[name], ptype.cast(v), where=take)
                masks[name] = np.where(take, m, masks[name])
        result = {n: (outs[n], masks[n]) for n in self.names}
        with self._lock:
            self._cache[grid] = result
            while len(self._cache) > 2:
                self._cache.popitem(last=False)
        return result


@algorithm("ImageCollection.qualityMosaic")
def image_collection_quality_mosaic(collection, qualityBand):
    coll = _as_image_collection(collection, "ImageCollection.qualityMosaic")
    first = _first_image(coll, "ImageCollection.qualityMosaic")
    if first is None:
        return Image([])
    quality = str(qualityBand)
    if quality not in first.band_names():
        raise invalid_argument(f"ImageCollection.qualityMosaic: Band '{quality}' not found.")
    group = _QualityGroup(coll, first.band_names(), [b.pixel_type for b in first.bands], quality)
    return Image([CompositeBand(b.name, b.pixel_type, group, b.name) for b in first.bands])


# ----------------------------------------------------------------------------- resample


def _cubic_weights(t: np.ndarray) -> List[np.ndarray]:
    """Keys' cubic convolution (a = -0.5) weights of the 4 neighbours at offsets -1, 0, 1, 2."""
    a = -0.5

    def k(x):
        x = np.abs(x)
        return np.where(x <= 1, (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1,
                        np.where(x < 2, a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a, 0.0))

    return [k(t + 1), k(t), k(1 - t), k(2 - t)]


class InterpolatedBand(Band):
    """``Image.resample``: values between the centres of ``inner``'s pixel lattice (its
    projection) interpolated bilinearly or bicubically instead of nearest-neighbour. On the
    band's own lattice the values are the native ones."""

    def __init__(self, inner: Band, mode: str, max_pixels: int = 1 << 26):
        super().__init__(inner.name, inner.pixel_type, inner.projection, inner.footprint, inner.dimensions)
        self.inner = inner
        self.mode = mode
        self.max_pixels = max_pixels
        self.grid_hint = inner.grid_hint

    def _compute(self, grid: PixelGrid) -> BandResult:
        from eeextract_plugin.sandbox.imagery.projection import aligned_offset, grid_centres

        shape = (grid.height, grid.width)
        proj = self.inner.projection
        if aligned_offset(grid, proj) is not None:
            return self.inner.compute(grid)
        x, y = grid_centres(grid)
        x, y = np.broadcast_arrays(x, y)
        nx, ny = transform_xy(grid.crs, proj.crs, x, y)
        fc, fr = proj.to_pixel(nx, ny)
        ok = np.isfinite(fc) & np.isfinite(fr)
        if not ok.any():
            return np.zeros(shape, self.pixel_type.dtype), np.zeros(shape, bool)
        u = np.where(ok, fc - 0.5, 0.0)
        v = np.where(ok, fr - 0.5, 0.0)
        i0 = np.floor(u).astype(np.int64)
        j0 = np.floor(v).astype(np.int64)
        tx = u - i0
        ty = v - j0
        if self.mode == "bilinear":
            offsets = [0, 1]
            wx = [1.0 - tx, tx]
            wy = [1.0 - ty, ty]
        else:
            offsets = [-1, 0, 1, 2]
            wx = _cubic_weights(tx)
            wy = _cubic_weights(ty)
        c0 = int(i0[ok].min()) + offsets[0]
        c1 = int(i0[ok].max()) + offsets[-1]
        r0 = int(j0[ok].min()) + offsets[0]
        r1 = int(j0[ok].max()) + offsets[-1]
        w, h = c1 - c0 + 1, r1 - r0 + 1
        if w * h > max(self.max_pixels, 16 * grid.width * grid.height):
            raise invalid_argument("User memory limit exceeded.")
        window = PixelGrid(proj.crs, proj.transform, w, h).window(c0, r0, w, h)
        values, mask = self.inner.compute(window)
        values = values.astype(np.float64)
        total = np.zeros(shape)
        valid = ok.copy()
        for dj, wyj in zip(offsets, wy):
            rows = np.clip(j0 + dj - r0, 0, h - 1)
            for di, wxi in zip(offsets, wx):
                cols = np.clip(i0 + di - c0, 0, w - 1)
                weight = wxi * wyj
                total += weight * values[rows, cols]
                valid &= mask[rows, cols] | (weight == 0)
        if self.pixel_type.is_int:
            total = np.round(total)
        return self.pixel_type.cast(np.where(valid, total, 0.0)), valid


@algorithm("Image.resample")
def image_resample(image, mode="bilinear"):
    img = as_image(image, "Image.resample")
    mode = str(mode or "bilinear").lower()
    if mode not in ("bilinear", "bicubic"):
        raise invalid_argument(f"Image.resample: Unknown resampling mode '{mode}'. Use 'bilinear' or 'bicubic'.")
    return _keep(img, [InterpolatedBand(b, mode) for b in img.bands])
