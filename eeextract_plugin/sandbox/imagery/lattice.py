"""Two-scale evaluation of the synthetic fields on a band's native pixel lattice.

The broad part of a field (:mod:`.synthetic`: coastlines, relief, climate — features of ~200 m
and more) is evaluated on *control points* every ``step`` pixels of the band's own lattice
(anchored at its origin, so they do not depend on the request) and interpolated bilinearly to
each pixel centre; the detail noise is evaluated at each pixel. A pixel's value is a function of
its native (col, row) alone: the same whether it is computed in a large window, in a small one,
or on its own (every path below performs the same float operations per pixel), so tiles join
exactly and the same request gives the same bytes.

Cost: the broad fields at one point in ``step²`` pixels; at each pixel only the interpolation
(a few operations per field) and the detail noise.
"""

from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

LonLat = Tuple[np.ndarray, np.ndarray]
# (u, v) pixel-edge coordinates on the native lattice (col, row as floats) -> (lon, lat)
ToLonLat = Callable[[np.ndarray, np.ndarray], LonLat]
BroadFn = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (lon, lat) -> (k, ...) stacked fields


class TwoScale:
    """Broad fields of one lattice: ``sample(cols, rows)`` → interpolated fields, lon, lat.

    ``geographic``: the lattice's (u, v) map to lon/lat by an affine ``lon = lon0 + u * dlon``,
    ``lat = lat0 - v * dlat`` (then per-pixel lon/lat are exact and separable); otherwise they
    are interpolated between control points like the broad fields.
    """

    def __init__(self, step: int, broad: BroadFn, to_lonlat: ToLonLat, geographic: bool = False):
        self.step = int(step)
        self.broad = broad
        self.to_lonlat = to_lonlat
        self.geographic = geographic

    # -- public
    def sample(self, cols: np.ndarray, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fields (k, h, w), lon, lat) at native pixels (broadcastable int arrays). A row vector
        of columns with a column vector of rows (a window, possibly strided) is separable;
        anything else is gathered from its bounding window when that is compact, else computed
        point by point."""
        cols = np.asarray(cols, dtype=np.int64)
        rows = np.asarray(rows, dtype=np.int64)
        if cols.ndim == 2 and rows.ndim == 2 and cols.shape[0] == 1 and rows.shape[1] == 1:
            return self._separable(cols[0], rows[:, 0])
        cb, rb = np.broadcast_arrays(cols, rows)
        c0, c1 = int(cb.min()), int(cb.max())
        r0, r1 = int(rb.min()), int(rb.max())
        w, h = c1 - c0 + 1, r1 - r0 + 1
        if w * h <= 4 * cb.size + 4096:
            fields, lon, lat = self._separable(np.arange(c0, c1 + 1, dtype=np.int64),
                                               np.arange(r0, r1 + 1, dtype=np.int64))
            lon, lat = np.broadcast_arrays(lon, lat)
            ri, ci = rb - r0, cb - c0
            return fields[:, ri, ci], lon[ri, ci], lat[ri, ci]
        return self._points(cb, rb)

    # -- the two paths
    def _separable(self, cols: np.ndarray, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Columns ``cols`` x rows ``rows``: the broad fields on the control points they need
        (the one at or before each pixel and the next), interpolated rows first."""
        k = self.step
        jc = cols // k
        jr = rows // k
        need_c = np.unique(np.concatenate([jc, jc + 1]))
        need_r = np.unique(np.concatenate([jr, jr + 1]))
        u = (need_c * k).astype(np.float64)[None, :]
        v = (need_r * k).astype(np.float64)[:, None]
        clon, clat = self.to_lonlat(*np.broadcast_arrays(u, v))
        control = self.broad(clon, clat)  # (f, nr, nc)
        ix = np.searchsorted(need_c, jc)
        iy = np.searchsorted(need_r, jr)
        wx = ((cols.astype(np.float64) + 0.5) - (jc * k).astype(np.float64)) * (1.0 / k)
        wy = ((rows.astype(np.float64) + 0.5) - (jr * k).astype(np.float64)) * (1.0 / k)
        fields = _interpolate(control, ix, iy, wx, wy)
        if self.geographic:
            lon, lat = self.to_lonlat(cols.astype(np.float64)[None, :] + 0.5, rows.astype(np.float64)[:, None] + 0.5)
        else:
            ll = _interpolate(np.stack([clon, clat]), ix, iy, wx, wy)
            lon, lat = ll[0], ll[1]
        return fields, lon, lat

    def _points(self, cols: np.ndarray, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self.step
        jc = cols // k
        jr = rows // k
        wx = ((cols.astype(np.float64) + 0.5) - (jc * k).astype(np.float64)) * (1.0 / k)
        wy = ((rows.astype(np.float64) + 0.5) - (jr * k).astype(np.float64)) * (1.0 / k)
        u = np.stack([jc, jc + 1, jc, jc + 1]) * k
        v = np.stack([jr, jr, jr + 1, jr + 1]) * k
        clon, clat = self.to_lonlat(u.astype(np.float64), v.astype(np.float64))
        control = self.broad(clon, clat)  # (f, 4, ...)
        fields = _combine(control[:, 0], control[:, 1], control[:, 2], control[:, 3], wx, wy)
        if self.geographic:
            lon, lat = self.to_lonlat(cols.astype(np.float64) + 0.5, rows.astype(np.float64) + 0.5)
        else:
            lon = _combine(clon[0], clon[1], clon[2], clon[3], wx, wy)
            lat = _combine(clat[0], clat[1], clat[2], clat[3], wx, wy)
        return fields, lon, lat


def _interpolate(control: np.ndarray, ix: np.ndarray, iy: np.ndarray, wx: np.ndarray,
                 wy: np.ndarray) -> np.ndarray:
    """Bilinear, separable: along rows of control points first, then between rows; per pixel
    the same operations as :func:`_combine`."""
    left = control[..., ix]
    right = control[..., ix + 1]
    along = left * (1.0 - wx) + right * wx                  # (f, nr, w)
    top = along[..., iy, :]
    bottom = along[..., iy + 1, :]
    return top * (1.0 - wy)[:, None] + bottom * wy[:, None]  # (f, h, w)


def _combine(v00, v10, v01, v11, wx, wy):
    top = v00 * (1.0 - wx) + v10 * wx
    bottom = v01 * (1.0 - wx) + v11 * wx
    return top * (1.0 - wy) + bottom * wy
