"""Final rasters: a staged raster or a set of parts → Cloud-Optimized GeoTIFF (or GeoTIFF, NPY,
PNG, JPEG), written through GDAL with a bounded block cache, to a temporary name then renamed.

``build_cog(source, dest)`` is also what batch exports use for their downloaded parts
(``parts_to_vrt`` then ``build_cog``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Iterable, List, Optional, Sequence, Union

import numpy as np

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.core.writer import DiskFullError

log = logging.getLogger(__name__)

GDAL_CACHE_BYTES = 64 * 1024 * 1024  # the COG driver adds ~170 MB of its own whatever the size


def _gdal():
    """GDAL without touching its process-global exception mode (other code in the process,
    e.g. an embedded sandbox, relies on it): every call's result is checked instead."""
    from osgeo import gdal

    return gdal


def _open(path: str):
    gdal = _gdal()
    ds = gdal.Open(str(path))
    if ds is None:
        raise RuntimeError(f"GDAL cannot open {path}: {gdal.GetLastErrorMsg()}")
    return ds


def cog_options(dtype: str, compression: str = "DEFLATE", threads: int = 2) -> List[str]:
    """COG creation options: lossless compression with a predictor, 512 px blocks, overviews
    (nearest for integers: categories stay categories; average for floats)."""
    opts = ["BLOCKSIZE=512", "OVERVIEWS=AUTO", "BIGTIFF=IF_SAFER", f"NUM_THREADS={threads}",
            "RESAMPLING=" + ("AVERAGE" if np.dtype(dtype).kind == "f" else "NEAREST")]
    if compression != "NONE":
        opts += [f"COMPRESS={compression}", "PREDICTOR=YES"]
    return opts


def build_output(source: Union[str, Path], dest: Union[str, Path], fmt: str, dtype: str,
                 compression: str = "DEFLATE", nodata: Optional[float] = None,
                 cancelled: Optional[Callable[[], bool]] = None, publisher: Any = None) -> Path:
    """Writes ``source`` (any GDAL raster, e.g. a staging VRT) to ``dest`` in ``fmt``.

    ``cancelled()`` is polled through GDAL's progress callback: a large COG stops promptly
    (raising :class:`Cancelled`, the partial file removed). ``publisher`` (a job's
    :class:`~.publish.Publisher`) names the temporary file and puts it in place under the job's
    overwrite rule; without one the file replaces ``dest``."""
    gdal = _gdal()
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = publisher.temp_path(dest) if publisher is not None else dest.with_name(f".{dest.stem}.part{dest.suffix}")
    old_cache = gdal.GetCacheMax()
    gdal.SetCacheMax(GDAL_CACHE_BYTES)
    try:
        if fmt == "NPY":
            _write_npy(str(source), tmp)
        else:
            if fmt == "COG":
                driver, opts = "COG", cog_options(dtype, compression)
            elif fmt == "GEO_TIFF":
                driver = "GTiff"
                opts = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "BIGTIFF=IF_SAFER"]
                if compression != "NONE":
                    opts += [f"COMPRESS={compression}", "PREDICTOR=" + ("3" if np.dtype(dtype).kind == "f" else "2")]
            elif fmt == "PNG":
                driver, opts = "PNG", []
            elif fmt == "JPEG":
                driver, opts = "JPEG", ["QUALITY=95"]
            else:
                raise ValueError(f"unknown output format {fmt}")
            kwargs = {}
            if nodata is not None and fmt in ("COG", "GEO_TIFF"):
                kwargs["noData"] = nodata
            if cancelled is not None:
                kwargs["callback"] = lambda *_: 0 if cancelled() else 1
            gdal.ErrorReset()
            try:
                ds = gdal.Translate(str(tmp), str(source), format=driver, creationOptions=opts, **kwargs)
            except RuntimeError:
                # With gdal.UseExceptions() on (any module may turn it on, process-wide) a
                # cancelled callback raises "User terminated" instead of returning None.
                if cancelled is not None and cancelled():
                    raise Cancelled(f"writing {dest} cancelled") from None
                raise
            if ds is None and cancelled is not None and cancelled():
                raise Cancelled(f"writing {dest} cancelled")
            if ds is not None:
                ds.FlushCache()
            if ds is None or gdal.GetLastErrorType() >= gdal.CE_Failure:
                raise RuntimeError(f"GDAL could not write {dest}: {gdal.GetLastErrorMsg()}")
            ds = None  # noqa: F841  (closing flushes)
        for aux in (tmp.with_name(tmp.name + ".aux.xml"),):
            if aux.exists():
                aux.unlink()
        if publisher is not None:
            publisher.publish(tmp, dest)
        else:
            os.replace(tmp, dest)
    except Cancelled:
        _cleanup(tmp)
        raise
    except RuntimeError as exc:
        _cleanup(tmp)
        if "No space left" in str(exc) or "not enough space" in str(exc).lower():
            raise DiskFullError(28, f"disk full writing {dest}") from exc
        raise
    except OSError as exc:
        _cleanup(tmp)
        if exc.errno == 28 and not isinstance(exc, DiskFullError):
            raise DiskFullError(28, f"disk full writing {dest}") from exc
        raise
    finally:
        gdal.SetCacheMax(old_cache)
    return dest


def build_cog(source: Union[str, Path], dest: Union[str, Path], compression: str = "DEFLATE") -> Path:
    gdal = _gdal()
    ds = _open(str(source))
    dtype = gdal.GetDataTypeName(ds.GetRasterBand(1).DataType)
    ds = None
    npd = {"Byte": "uint8", "UInt16": "uint16", "Int16": "int16", "UInt32": "uint32",
           "Int32": "int32", "Float32": "float32", "Float64": "float64"}.get(dtype, "float64")
    return build_output(source, dest, "COG", npd, compression)


def parts_to_vrt(parts: Sequence[Union[str, Path]], vrt: Union[str, Path]) -> Path:
    """A VRT mosaic of GeoTIFF parts (e.g. an export's ``prefix-0000000000-0000012800.tif``)."""
    gdal = _gdal()
    ds = gdal.BuildVRT(str(vrt), [str(p) for p in parts])
    if ds is None:
        raise RuntimeError(f"GDAL cannot build {vrt}: {gdal.GetLastErrorMsg()}")
    ds = None  # noqa: F841
    return Path(vrt)


def _write_npy(source: str, dest: Path, rows_per_chunk: int = 512) -> None:
    """A structured NPY (one field per band, like Earth Engine's), written in row chunks."""
    ds = _open(source)
    names = [ds.GetRasterBand(i + 1).GetDescription() or f"b{i + 1}" for i in range(ds.RasterCount)]
    first = ds.GetRasterBand(1).ReadAsArray(0, 0, 1, 1)
    dt = np.dtype([(n, first.dtype) for n in names])
    out = np.lib.format.open_memmap(str(dest), mode="w+", dtype=dt, shape=(ds.RasterYSize, ds.RasterXSize))
    for y in range(0, ds.RasterYSize, rows_per_chunk):
        h = min(rows_per_chunk, ds.RasterYSize - y)
        for i, n in enumerate(names):
            out[n][y:y + h] = ds.GetRasterBand(i + 1).ReadAsArray(0, y, ds.RasterXSize, h)
        out.flush()
    del out
    ds = None  # noqa: F841


def _cleanup(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def describe(path: Union[str, Path]) -> dict:
    """Figures of a finished raster (size, bands, type, CRS, overviews), for reports."""
    gdal = _gdal()
    ds = _open(str(path))
    b = ds.GetRasterBand(1)
    info = {
        "path": str(path), "width": ds.RasterXSize, "height": ds.RasterYSize,
        "bands": ds.RasterCount, "type": gdal.GetDataTypeName(b.DataType),
        "overviews": b.GetOverviewCount(), "driver": ds.GetDriver().ShortName,
        "bytes": os.path.getsize(path),
        "layout": ds.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"),
        "compression": ds.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"),
    }
    ds = None  # noqa: F841
    return info


def iter_paths(paths: Iterable[Union[str, Path]]) -> List[str]:
    return [str(p) for p in paths]
