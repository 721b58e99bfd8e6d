"""Output formats of the sandbox: a computed ``Raster`` as the bytes Earth Engine would answer.

- ``NPY``: a NumPy structured array of shape (height, width), one named field per band in the
  band's own data type, as ``ee.data.computePixels(... fileFormat="NUMPY_NDARRAY")`` decodes it
  with ``numpy.load``. NPY carries no mask: masked pixels are 0.
- ``GEO_TIFF``: a GeoTIFF georeferenced on the raster's grid (CRS + affine transform), bands
  named after the image's bands, all bands in one common data type (NumPy's promotion, as EE
  casts bands to a common type). Masked pixels: when every band has the same mask, an internal
  per-dataset mask (values under it are 0); when the masks differ, a nodata value per file
  (NaN for floats, the type's minimum for signed and maximum for unsigned integers) unless the
  caller gives ``nodata``.
- ``PNG`` / ``JPEG``: 1-band grey or 3-band RGB, 8 bits (values outside 0..255 are clamped, as
  for an unvisualized thumbnail). PNG adds an alpha channel when pixels are masked; JPEG has
  no transparency (masked pixels are black). ``AUTO_JPEG_PNG`` picks JPEG when nothing is
  masked, PNG otherwise (Earth Engine's rule).
- ``ZIPPED_GEO_TIFF``: ``{prefix}.tif`` in a zip; ``ZIPPED_GEO_TIFF_PER_BAND``: one
  ``{prefix}.{band}.tif`` per band.

``write_geotiff(raster, path, **creation_options)`` writes the same GeoTIFF to disk (exports
reuse it).
"""

from __future__ import annotations

import io
import threading
import uuid
import zipfile
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.raster import BandData, Raster

FORMATS = ("NPY", "GEO_TIFF", "PNG", "JPEG", "AUTO_JPEG_PNG", "ZIPPED_GEO_TIFF",
           "ZIPPED_GEO_TIFF_PER_BAND", "TF_RECORD_IMAGE")

CONTENT_TYPES = {
    "NPY": "application/octet-stream",
    "GEO_TIFF": "image/tiff",
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "ZIPPED_GEO_TIFF": "application/zip",
    "ZIPPED_GEO_TIFF_PER_BAND": "application/zip",
}

EXTENSIONS = {"NPY": "npy", "GEO_TIFF": "tif", "PNG": "png", "JPEG": "jpg",
              "ZIPPED_GEO_TIFF": "zip", "ZIPPED_GEO_TIFF_PER_BAND": "zip"}


@dataclass
class Encoded:
    """Bytes of one answer, their MIME type and the format actually produced."""

    data: bytes
    content_type: str
    file_format: str
    filename: str


def normalize_format(file_format: Optional[str], default: str = "AUTO_JPEG_PNG") -> str:
    """An ``ImageFileFormat`` name, validated (400 for an unknown one, like the service)."""
    value = (file_format or default).upper()
    aliases = {"JPG": "JPEG", "GEOTIFF": "GEO_TIFF", "AUTO": "AUTO_JPEG_PNG", "NUMPY": "NPY",
               "IMAGE_FILE_FORMAT_UNSPECIFIED": default}
    value = aliases.get(value, value)
    if value not in FORMATS:
        raise invalid_argument(
            f'Invalid value at \'file_format\' (type.googleapis.com/google.earthengine.v1.ImageFileFormat), "{file_format}"')
    if value == "TF_RECORD_IMAGE":
        raise invalid_argument("TF_RECORD_IMAGE is not supported by computePixels or getPixels; use an export.")
    return value


def encode(raster: Raster, file_format: Optional[str], filename_prefix: Optional[str] = None) -> Encoded:
    """The raster in ``file_format`` (an ``ImageFileFormat`` name)."""
    fmt = normalize_format(file_format)
    prefix = filename_prefix or "download"
    if fmt == "AUTO_JPEG_PNG":
        fmt = "JPEG" if all(bool(b.mask.all()) for b in raster.bands) else "PNG"
    if fmt == "NPY":
        data = to_npy(raster)
    elif fmt == "GEO_TIFF":
        data = to_geotiff(raster)
    elif fmt == "PNG":
        data = to_png(raster)
    elif fmt == "JPEG":
        data = to_jpeg(raster)
    elif fmt == "ZIPPED_GEO_TIFF":
        data = to_zipped_geotiff(raster, prefix)
    else:
        data = to_zipped_geotiff_per_band(raster, prefix)
    return Encoded(data, CONTENT_TYPES[fmt], fmt, f"{prefix}.{EXTENSIONS[fmt]}")


# --------------------------------------------------------------------------------------------- NPY

def to_npy(raster: Raster) -> bytes:
    """A structured array (height, width) with one field per band, masked pixels 0."""
    grid = raster.grid
    if not raster.bands:
        raise invalid_argument("Image has no bands.")
    dtype = np.dtype([(b.name, _native(b.values.dtype)) for b in raster.bands])
    out = np.zeros((grid.height, grid.width), dtype=dtype)
    for band in raster.bands:
        values = _band_values(band, grid.height, grid.width)
        if band.mask.all():
            out[band.name] = values
        else:
            out[band.name] = np.where(band.mask, values, 0)
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, out, allow_pickle=False)
    return buffer.getvalue()


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=") if dtype.byteorder not in ("=", "|") else dtype


def _band_values(band: BandData, height: int, width: int) -> np.ndarray:
    values = np.asarray(band.values)
    if values.shape != (height, width):
        raise ValueError(f"band {band.name}: shape {values.shape} is not the grid's ({height}, {width})")
    return values


# ------------------------------------------------------------------------------------------ GeoTIFF

_SRS_CACHE: Dict[str, str] = {}
_SRS_LOCK = threading.Lock()


def _wkt(crs: str) -> str:
    with _SRS_LOCK:
        cached = _SRS_CACHE.get(crs)
    if cached is not None:
        return cached
    from osgeo import osr

    srs = osr.SpatialReference()
    if srs.SetFromUserInput(crs) != 0:
        raise invalid_argument(f"Invalid CRS: {crs!r}.")
    wkt = srs.ExportToWkt()
    with _SRS_LOCK:
        _SRS_CACHE[crs] = wkt
    return wkt


def _gdal_type(dtype: np.dtype):
    from osgeo import gdal

    table = {
        "uint8": gdal.GDT_Byte, "int8": gdal.GDT_Int16, "uint16": gdal.GDT_UInt16,
        "int16": gdal.GDT_Int16, "uint32": gdal.GDT_UInt32, "int32": gdal.GDT_Int32,
        "float32": gdal.GDT_Float32, "float64": gdal.GDT_Float64,
        "int64": getattr(gdal, "GDT_Int64", gdal.GDT_Float64),
        "uint64": getattr(gdal, "GDT_UInt64", gdal.GDT_Float64),
        "bool": gdal.GDT_Byte,
    }
    try:
        return table[np.dtype(dtype).name]
    except KeyError:
        raise invalid_argument(f"Data type {dtype} cannot be written to GeoTIFF.") from None


def common_dtype(bands: Sequence[BandData]) -> np.dtype:
    dtype = np.result_type(*[b.values.dtype for b in bands])
    if dtype == np.bool_:
        dtype = np.dtype("uint8")
    if dtype == np.int8:
        dtype = np.dtype("int16")   # GDAL 3.6 has no Int8
    return np.dtype(dtype)


def default_nodata(dtype: np.dtype) -> float:
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return float("nan")
    info = np.iinfo(dtype)
    return float(info.min if dtype.kind == "i" else info.max)


def write_geotiff(raster: Raster, path: str, nodata: Optional[float] = None,
                  cloud_optimized: bool = False, **creation_options: str) -> None:
    """Write ``raster`` as a GeoTIFF at ``path`` (a file or a ``/vsimem/`` name).

    ``nodata``: masked pixels get this value and the file declares it (Earth Engine's export
    ``noData``). Without it, masks are written as described in the module docstring.
    ``cloud_optimized``: a Cloud-Optimized GeoTIFF (GDAL's COG driver). ``creation_options``
    are GDAL creation options, e.g. ``COMPRESS="DEFLATE"``, ``TILED="YES"``.
    """
    from osgeo import gdal

    if not raster.bands:
        raise invalid_argument("Image has no bands.")
    grid = raster.grid
    dtype = common_dtype(raster.bands)
    masks_differ = False
    any_masked = False
    first_mask = raster.bands[0].mask
    for band in raster.bands:
        if not band.mask.all():
            any_masked = True
        if band.mask is not first_mask and not np.array_equal(band.mask, first_mask):
            masks_differ = True
    use_nodata = nodata is not None or (any_masked and masks_differ)
    if use_nodata and nodata is None:
        nodata = default_nodata(dtype)

    options = [f"{k}={v}" for k, v in creation_options.items()]
    if cloud_optimized:
        target_driver = gdal.GetDriverByName("COG")
        driver = gdal.GetDriverByName("MEM")
        target = ""
    else:
        driver = gdal.GetDriverByName("GTiff")
        target = path
        if len(raster.bands) > 1 and not any(o.upper().startswith("INTERLEAVE=") for o in options):
            options.append("INTERLEAVE=BAND")
    ds = driver.Create(target, grid.width, grid.height, len(raster.bands), _gdal_type(dtype),
                       options=[] if cloud_optimized else options)
    if ds is None:
        raise OSError(f"GDAL could not create {path}: {gdal.GetLastErrorMsg()}")
    try:
        ds.SetGeoTransform(grid.gdal_geotransform)
        ds.SetProjection(_wkt(grid.crs))
        for index, band in enumerate(raster.bands, start=1):
            values = _band_values(band, grid.height, grid.width).astype(dtype, copy=False)
            if not band.mask.all():
                fill = nodata if use_nodata else 0
                values = np.where(band.mask, values, np.asarray(fill).astype(dtype))
            out = ds.GetRasterBand(index)
            out.SetDescription(band.name)
            if use_nodata:
                out.SetNoDataValue(float(nodata))
            out.WriteArray(values)
        if any_masked and not use_nodata:
            gdal.SetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", "YES")
            try:
                ds.CreateMaskBand(gdal.GMF_PER_DATASET)
            finally:
                gdal.SetThreadLocalConfigOption("GDAL_TIFF_INTERNAL_MASK", None)
            ds.GetRasterBand(1).GetMaskBand().WriteArray(first_mask.astype(np.uint8) * 255)
        if cloud_optimized:
            copied = target_driver.CreateCopy(path, ds, options=options)
            if copied is None:
                raise OSError(f"GDAL could not write {path}: {gdal.GetLastErrorMsg()}")
            copied = None
        ds.FlushCache()
    finally:
        ds = None


def to_geotiff(raster: Raster, **creation_options: str) -> bytes:

    path = f"/vsimem/eeextract-{uuid.uuid4().hex}.tif"
    try:
        write_geotiff(raster, path, **creation_options)
        return _read_vsimem(path)
    finally:
        _unlink_vsimem(path, path + ".msk")


def _read_vsimem(path: str) -> bytes:
    from osgeo import gdal

    stat = gdal.VSIStatL(path)
    if stat is None:
        raise OSError(f"GDAL wrote nothing at {path}")
    handle = gdal.VSIFOpenL(path, "rb")
    try:
        return bytes(gdal.VSIFReadL(1, stat.size, handle))
    finally:
        gdal.VSIFCloseL(handle)


def to_zipped_geotiff(raster: Raster, prefix: str) -> bytes:
    return _zip({f"{prefix}.tif": to_geotiff(raster)})


def to_zipped_geotiff_per_band(raster: Raster, prefix: str) -> bytes:
    files = {}
    for band in raster.bands:
        files[f"{prefix}.{band.name}.tif"] = to_geotiff(Raster(raster.grid, [band], raster.properties))
    return _zip(files)


def _zip(files: Dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in files.items():
            # a fixed timestamp: same request, same bytes
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, compresslevel=1)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------- PNG / JPEG

def _rgb_planes(raster: Raster) -> List[np.ndarray]:
    count = len(raster.bands)
    if count not in (1, 3):
        raise invalid_argument(
            f"Image must have 1 or 3 bands for PNG or JPEG output, found {count} "
            f"({', '.join(raster.band_names)}). Use visualization parameters or select bands.")
    planes = []
    grid = raster.grid
    for band in raster.bands:
        values = _band_values(band, grid.height, grid.width)
        if values.dtype != np.uint8:
            values = np.clip(np.nan_to_num(values.astype(np.float64)), 0, 255).round().astype(np.uint8)
        planes.append(np.where(band.mask, values, 0).astype(np.uint8))
    return planes


def _alpha(raster: Raster) -> Optional[np.ndarray]:
    if all(bool(b.mask.all()) for b in raster.bands):
        return None
    valid = np.logical_and.reduce([b.mask for b in raster.bands])
    return (valid.astype(np.uint8) * 255)


def _unlink_vsimem(*paths: str) -> None:
    """Removes in-memory files that exist (GDAL raises for a missing one when exceptions are on,
    which any module of the process may turn on)."""
    from osgeo import gdal

    for p in paths:
        if gdal.VSIStatL(p) is not None:
            gdal.Unlink(p)


def _encode_8bit(planes: List[np.ndarray], driver_name: str, options: Sequence[str]) -> bytes:
    from osgeo import gdal

    height, width = planes[0].shape
    mem = gdal.GetDriverByName("MEM").Create("", width, height, len(planes), gdal.GDT_Byte)
    for index, plane in enumerate(planes, start=1):
        mem.GetRasterBand(index).WriteArray(plane)
    path = f"/vsimem/eeextract-{uuid.uuid4().hex}.{driver_name.lower()}"
    try:
        out = gdal.GetDriverByName(driver_name).CreateCopy(path, mem, options=list(options))
        if out is None:
            raise OSError(f"GDAL {driver_name} encoding failed: {gdal.GetLastErrorMsg()}")
        out = None
        return _read_vsimem(path)
    finally:
        _unlink_vsimem(path, path + ".aux.xml")


def to_png(raster: Raster) -> bytes:
    planes = _rgb_planes(raster)
    alpha = _alpha(raster)
    if alpha is not None:
        planes.append(alpha)
    # zlib level 1: GDAL's default (6) spends 4-5x the time on smooth imagery for ~20 % fewer
    # bytes, and made PNG encoding the sandbox's largest cost per chip.
    return _encode_8bit(planes, "PNG", ["WORLDFILE=NO", "ZLEVEL=1"])


def to_jpeg(raster: Raster, quality: int = 90) -> bytes:
    return _encode_8bit(_rgb_planes(raster), "JPEG", [f"QUALITY={quality}", "WORLDFILE=NO"])


def payload_bytes(raster: Raster) -> int:
    """Earth Engine's count: each band's data type plus one mask byte, per pixel."""
    pixels = raster.grid.width * raster.grid.height
    return sum((b.values.dtype.itemsize + 1) * pixels for b in raster.bands)
