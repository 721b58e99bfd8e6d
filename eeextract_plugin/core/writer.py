"""Streaming tiles into an output raster with bounded memory, crash-safe for resume.

Each output raster is staged as a raw band-sequential file (``<id>.raw``) described by a GDAL VRT
(``<id>.vrt``, ``VRTRawRasterBand``). The file is created sparse at its full size; every tile is
written in place with ``os.pwrite`` as it arrives (several threads at once: tiles never
overlap), so memory never holds more than the tiles in flight. A tile written by ``pwrite`` is
in the OS page cache the moment the call returns: a ``kill -9`` of the process does not lose it.
A power cut could: units are recorded as done in batches, each after :meth:`StagingRaster.sync`
has flushed the staging file to disk. When the last tile of an output lands,
:mod:`eeextract_plugin.core.mosaic` turns the staged raster into the final file (COG by default).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from pathlib import Path
from typing import List, Optional, Sequence, Union
from xml.sax.saxutils import escape

import numpy as np

from eeextract_plugin.core.errors import DiskFullError
from eeextract_plugin.core.grid import PixelGrid, crs_of

log = logging.getLogger(__name__)

_GDAL_TYPES = {
    "uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
    "int32": "Int32", "float32": "Float32", "float64": "Float64", "int64": "Int64",
    "uint64": "UInt64",
}


class StagingRaster:
    """A raw, band-sequential raster on disk that tiles are written into, in any order."""

    def __init__(self, base: Union[str, Path], grid: PixelGrid, bands: Sequence[str],
                 dtype: Union[str, np.dtype], nodata: Optional[float] = None) -> None:
        # ``base`` is a name from core.naming: its dots belong to the id ("plot.1"), so the
        # suffixes are appended, never substituted (with_suffix would stage plot.1 and plot.2
        # both into plot.raw).
        self.base = Path(base)
        self.raw_path = self.base.with_name(self.base.name + ".raw")
        self.vrt_path = self.base.with_name(self.base.name + ".vrt")
        self.grid = grid
        self.bands = list(bands)
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.nodata = nodata
        self._band_bytes = grid.width * grid.height * self.dtype.itemsize
        self._fd: Optional[int] = None
        self._lock = threading.Lock()

    @property
    def size_bytes(self) -> int:
        return self._band_bytes * len(self.bands)

    def open(self) -> StagingRaster:
        """Creates the staging files, or reopens them as they are (resume)."""
        self.base.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            if self._fd is not None:
                return self
            fd = os.open(self.raw_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
            try:
                if os.fstat(fd).st_size != self.size_bytes:
                    os.ftruncate(fd, self.size_bytes)  # sparse: no disk used until written
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
            if not self.vrt_path.exists():
                tmp = self.vrt_path.with_name(self.vrt_path.name + ".tmp")
                tmp.write_text(self.vrt_xml(), encoding="utf-8")
                os.replace(tmp, self.vrt_path)
        return self

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def sync(self) -> None:
        """Flushes every tile written so far to the disk (``fsync``): after it, they survive a
        power cut, so their units may be recorded as done."""
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)

    def write(self, col: int, row: int, data: Union[np.ndarray, Sequence[np.ndarray]]) -> int:
        """Writes a tile at (col, row): a (bands, height, width) array or one 2-D array per band
        (views are fine: each band is copied at most once, into the output type). Returns bytes
        written."""
        if self._fd is None:
            self.open()
        assert self._fd is not None
        planes = [data] if isinstance(data, np.ndarray) and data.ndim == 2 else list(data)
        if len(planes) != len(self.bands):
            raise ValueError(f"tile has {len(planes)} bands, the output {len(self.bands)}")
        h, w = planes[0].shape
        if col < 0 or row < 0 or col + w > self.grid.width or row + h > self.grid.height:
            raise ValueError(f"tile ({col},{row},{w}x{h}) outside the {self.grid.width}x"
                             f"{self.grid.height} output")
        isz = self.dtype.itemsize
        line = self.grid.width * isz
        total = 0
        try:
            for b, plane in enumerate(planes):
                arr = np.ascontiguousarray(plane, dtype=self.dtype)
                band_off = b * self._band_bytes
                if w == self.grid.width:  # full-width tile: one contiguous write per band
                    total += _pwrite_all(self._fd, memoryview(arr).cast("B"), band_off + row * line)
                    continue
                for r in range(h):
                    off = band_off + (row + r) * line + col * isz
                    total += _pwrite_all(self._fd, memoryview(arr[r]).cast("B"), off)
                del arr
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(exc.errno, f"disk full writing {self.raw_path}") from exc
            raise
        return total

    def vrt_xml(self) -> str:
        g = self.grid
        gt = ", ".join(repr(float(v)) for v in g.gdal_geotransform)
        wkt = escape(crs_of(g.crs).to_wkt())
        dt = _GDAL_TYPES[self.dtype.name]
        parts = [f'<VRTDataset rasterXSize="{g.width}" rasterYSize="{g.height}">',
                 f"  <SRS>{wkt}</SRS>", f"  <GeoTransform>{gt}</GeoTransform>"]
        for i, name in enumerate(self.bands):
            parts.append(f'  <VRTRasterBand dataType="{dt}" band="{i + 1}" subClass="VRTRawRasterBand">')
            parts.append(f"    <Description>{escape(name)}</Description>")
            if self.nodata is not None:
                parts.append(f"    <NoDataValue>{self.nodata!r}</NoDataValue>")
            parts.append(f'    <SourceFilename relativeToVRT="1">{escape(self.raw_path.name)}</SourceFilename>')
            parts.append(f"    <ImageOffset>{i * self._band_bytes}</ImageOffset>")
            parts.append(f"    <PixelOffset>{self.dtype.itemsize}</PixelOffset>")
            parts.append(f"    <LineOffset>{g.width * self.dtype.itemsize}</LineOffset>")
            parts.append("    <ByteOrder>LSB</ByteOrder>")
            parts.append("  </VRTRasterBand>")
        parts.append("</VRTDataset>")
        return "\n".join(parts) + "\n"

    def remove(self) -> None:
        self.close()
        for p in (self.raw_path, self.vrt_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass


_SEEK_LOCK = threading.Lock()  # where os.pwrite is missing (Windows): seek + write, serialised


def _pwrite(fd: int, data: memoryview, offset: int) -> int:
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    with _SEEK_LOCK:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.write(fd, data)


def _pwrite_all(fd: int, data: Union[bytes, memoryview], offset: int) -> int:
    view = memoryview(data)
    done = 0
    while done < len(view):
        n = _pwrite(fd, view[done:], offset + done)
        if n == 0:
            raise OSError(errno.EIO, "short write")
        done += n
    return done


def write_atomic(path: Union[str, Path], data: bytes, durable: bool = True) -> int:
    """Writes a small file whole: temp file then rename, so a crash leaves no half file; with
    ``durable`` the bytes are on disk (``fsync``) before the rename, so a power cut leaves the
    old file or the whole new one, never a renamed empty one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFullError(exc.errno, f"disk full writing {path}") from exc
        raise
    return len(data)


def default_nodata(dtype: Union[str, np.dtype]) -> Optional[float]:
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return float("nan")
    return None


def band_planes(arr: np.ndarray, bands: List[str]) -> List[np.ndarray]:
    """One 2-D view per band of the structured array Earth Engine's NPY gives (no copy)."""
    names = arr.dtype.names
    if names is None:
        return [arr] if arr.ndim == 2 else [arr[i] for i in range(arr.shape[0])]
    missing = [b for b in bands if b not in names]
    if missing:
        if len(names) == len(bands):
            return [arr[n] for n in names]
        raise ValueError(f"response lacks bands {missing} (has {list(names)})")
    return [arr[b] for b in bands]


def band_stack(structured: np.ndarray, bands: List[str]) -> np.ndarray:
    """A (bands, h, w) array (a copy) from Earth Engine's structured NPY array."""
    return np.stack(band_planes(structured, bands))
