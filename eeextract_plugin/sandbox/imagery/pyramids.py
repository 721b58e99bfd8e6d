"""Pyramids of stored bands, as Earth Engine builds and reads them.

Earth Engine keeps every stored image as a pyramid: level 0 is the native grid, level ``k`` has
pixels ``2**k`` times larger, each made from the 2 x 2 pixels of level ``k - 1`` below it by the
band's **pyramiding policy**: ``MEAN`` (continuous bands, the default), ``MODE`` (categorical),
``SAMPLE`` (the upper-left pixel: bit masks), ``MIN`` or ``MAX``. A request reads the coarsest
level whose pixels are still no larger than the requested ones, then samples it nearest-neighbour
onto the requested grid. So a request 8 times coarser than the native grid gets the means of
8 x 8 native blocks (for a MEAN band), not one native pixel in 64.

How the sandbox computes level ``k`` (its stored bands are generated on demand, not stored):

- ``k <= 3`` (blocks up to 8 x 8): exactly, from every native pixel of the block (a request
  2**k times coarser reads as many native pixels as a native request over the same area);
- ``k > 3``: from a 2 x 2 stratified subsample of the block (the native pixels at the centres of
  its four quarters), so that a continent-wide view costs 4 native pixels per output pixel, not
  4**k. MEAN is then the mean of those 4, MODE their mode: smoothed like a pyramid, but not the
  exact block statistic.

A block's value uses only its valid (unmasked) native pixels; the block is masked when none is
valid. MEAN of an integer band is rounded to the nearest integer (the level keeps the band's type).
The level is chosen from the size of the requested grid's centre pixel measured in native pixels.
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np

from eeextract_plugin.sandbox.imagery.projection import (
    Projection,
    aligned_offset,
    transform_xy,
)
from eeextract_plugin.sandbox.raster import PixelGrid

POLICIES = ("MEAN", "MODE", "SAMPLE", "MIN", "MAX")
# Exact blocks up to this level (8 x 8 native pixels); above it a stratified subsample of
# SAMPLES_PER_SIDE x SAMPLES_PER_SIDE pixels a block.
EXACT_LEVELS = 3
SAMPLES_PER_SIDE = 2
# How coarse a level may get (2**MAX_LEVEL native pixels a side).
MAX_LEVEL = 30


def pyramid_level(grid: PixelGrid, native: Projection, dimensions: Optional[Tuple[int, int]] = None) -> int:
    """The pyramid level Earth Engine would read for ``grid``: the largest ``k`` with
    ``2**k`` native pixels no larger than one requested pixel (0 for the native grid or finer)."""
    if aligned_offset(grid, native) is not None:
        return 0
    size = requested_pixel_size(grid, native)
    if size is None or size < 2.0 - 1e-9:
        return 0
    level = int(math.floor(math.log2(size) + 1e-9))
    if dimensions is not None:
        # No level coarser than the one where the whole image is a single pixel.
        top = max(0, int(math.ceil(math.log2(max(dimensions[0], dimensions[1], 1)))))
        level = min(level, top)
    return max(0, min(level, MAX_LEVEL))


def requested_pixel_size(grid: PixelGrid, native: Projection) -> Optional[float]:
    """The side of the grid's centre pixel in native pixels (the square root of its area
    measured in the native pixel lattice), or None where it cannot be projected."""
    sx, hx, tx, hy, sy, ty = grid.transform
    c = grid.width / 2.0
    r = grid.height / 2.0
    cols = np.array([c, c + 1.0, c])
    rows = np.array([r, r, r + 1.0])
    x = tx + sx * cols + hx * rows
    y = ty + hy * cols + sy * rows
    nx, ny = transform_xy(grid.crs, native.crs, x, y)
    if not (np.all(np.isfinite(nx)) and np.all(np.isfinite(ny))):
        return None
    pc, pr = native.to_pixel(nx, ny)
    ax, ay = pc[1] - pc[0], pr[1] - pr[0]
    bx, by = pc[2] - pc[0], pr[2] - pr[0]
    area = abs(ax * by - ay * bx)
    if not math.isfinite(area) or area <= 0:
        return None
    return math.sqrt(area)


def level_projection(native: Projection, level: int) -> Projection:
    """The projection of pyramid level ``level``: same origin, pixels ``2**level`` larger."""
    f = float(2 ** level)
    sx, hx, tx, hy, sy, ty = native.transform
    return Projection(native.crs, (sx * f, hx * f, tx, hy * f, sy * f, ty))


def block_offsets(level: int, policy: str) -> np.ndarray:
    """Offsets (native pixels, along one axis) of the pixels read in a level-``level`` block."""
    side = 2 ** level
    if policy == "SAMPLE":
        return np.zeros(1, np.int64)
    if level <= EXACT_LEVELS:
        return np.arange(side, dtype=np.int64)
    return np.floor((np.arange(SAMPLES_PER_SIDE) + 0.5) * side / SAMPLES_PER_SIDE).astype(np.int64)


def aggregate(policy: str, values: np.ndarray, valid: np.ndarray, dtype: np.dtype) -> Tuple[np.ndarray, np.ndarray]:
    """Reduce ``values`` / ``valid`` of shape (n, h, w) (the n native pixels read per block)
    to one level pixel each, by ``policy``."""
    ok = valid.any(axis=0)
    if values.shape[0] == 1:
        out = values[0]
    elif policy == "MEAN":
        count = valid.sum(axis=0)
        total = np.where(valid, values.astype(np.float64), 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(count > 0, total / np.maximum(count, 1), 0.0)
        if np.dtype(dtype).kind in "iub":
            out = np.round(out)
    elif policy == "MIN":
        big = np.where(valid, values.astype(np.float64), np.inf)
        out = np.where(ok, big.min(axis=0), 0.0)
    elif policy == "MAX":
        small = np.where(valid, values.astype(np.float64), -np.inf)
        out = np.where(ok, small.max(axis=0), 0.0)
    elif policy == "MODE":
        out = _mode(values, valid)
    else:  # SAMPLE reads one pixel a block
        out = values[0]
    out = np.where(ok, out, 0)
    return np.asarray(out).astype(dtype, copy=False), ok


def _mode(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Most frequent valid value along axis 0; ties go to the smallest value."""
    n = values.shape[0]
    order = np.argsort(np.where(valid, values, np.iinfo(np.int64).max if values.dtype.kind in "iub" else np.inf),
                       axis=0, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=0)
    sorted_valid = np.take_along_axis(valid, order, axis=0)
    best = sorted_values[0].copy()
    best_count = np.zeros(values.shape[1:], np.int64)
    run = np.zeros(values.shape[1:], np.int64)
    for i in range(n):
        v = sorted_values[i]
        same = (i > 0) & (v == sorted_values[i - 1]) if i > 0 else np.zeros(v.shape, bool)
        run = np.where(sorted_valid[i], np.where(same, run + 1, 1), 0)
        better = run > best_count
        best = np.where(better, v, best)
        best_count = np.where(better, run, best_count)
    return best
