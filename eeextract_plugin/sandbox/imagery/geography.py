"""Real land and water for the sandbox's synthetic assets.

Reads ``sandbox/data/geography.npz`` (derived from GSHHG 2.3.7 by
``scripts/build_sandbox_geography.py``; see ``sandbox/data/README.md`` for its source and
licence). Nothing is downloaded: the file ships with the plugin and is read once per process,
on first use (about 25 MB in memory).

- :func:`land_fraction` — the share of land around any point (0…1), bilinear between the
  centres of 1/60° cells; lakes are water.
- :func:`inland` — 0 on coasts, 1 far (a few hundred km) from any sea: a smooth field for the
  relief and the climate.
- :func:`s2_tile_keys` — the Sentinel-2 tiles that hold land: (UTM zone, north, column, row).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "geography.npz"
CELLS = 60             # cells per degree
FULL = 16              # a land count of 16 = all land
COARSE = 2             # cells per degree of the inland and open-ocean fields (1/2°)

_LOCK = threading.Lock()
_DATA: Optional[_Geography] = None


class _Geography:
    def __init__(self, path: Path):
        with np.load(path, allow_pickle=False) as npz:
            index = npz["block_index"].astype(np.int64)
            blocks = npz["blocks"]
            self.tiles = npz["s2_tiles"].astype(np.int64)
        n = blocks.shape[0]
        # Two extra blocks: all water (n) and all land (n + 1), so every lookup is one gather.
        index = np.where(index == -1, n, np.where(index == -2, n + 1, index))
        self.block_index = index
        flat = np.empty((n + 2) * CELLS * CELLS, np.uint8)
        flat[: n * CELLS * CELLS] = blocks.ravel()
        flat[n * CELLS * CELLS: (n + 1) * CELLS * CELLS] = 0
        flat[(n + 1) * CELLS * CELLS:] = FULL
        self.flat = flat
        self.inland_grid, self.ocean_grid = _distance_grids(self)

    def counts(self, ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        """Land counts (0…16) of cells (ix east from 180° W, iy south from 90° N); longitude
        wraps, latitude is clamped."""
        ix = np.mod(ix, 360 * CELLS)
        iy = np.clip(iy, 0, 180 * CELLS - 1)
        block = self.block_index[iy // CELLS, ix // CELLS]
        return self.flat[block * (CELLS * CELLS) + (iy % CELLS) * CELLS + (ix % CELLS)]


def data() -> _Geography:
    global _DATA
    if _DATA is None:
        with _LOCK:
            if _DATA is None:
                _DATA = _Geography(DATA_FILE)
    return _DATA


def _bilinear(lookup, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of ``lookup(ix, iy)`` (values at integer positions)."""
    fx0 = np.floor(gx)
    fy0 = np.floor(gy)
    wx = gx - fx0
    wy = gy - fy0
    ix = fx0.astype(np.int64)
    iy = fy0.astype(np.int64)
    v00 = lookup(ix, iy)
    v10 = lookup(ix + 1, iy)
    v01 = lookup(ix, iy + 1)
    v11 = lookup(ix + 1, iy + 1)
    top = v00 * (1.0 - wx) + v10 * wx
    bottom = v01 * (1.0 - wx) + v11 * wx
    return top * (1.0 - wy) + bottom * wy


def land_fraction(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Share of land (0…1, float64) at each point: the cells' land fractions, bilinear between
    cell centres."""
    geo = data()
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    gx = (lon + 180.0) * CELLS - 0.5
    gy = (90.0 - lat) * CELLS - 0.5
    return _bilinear(lambda ix, iy: geo.counts(ix, iy).astype(np.float64), gx, gy) * (1.0 / FULL)


def _box_mean(a: np.ndarray, radius: int) -> np.ndarray:
    """Mean over (2r+1)² cells: longitude wraps, latitude is clamped at the poles."""
    n = 2 * radius + 1
    padded = np.concatenate([a[:, -radius:], a, a[:, :radius]], axis=1)
    c = np.cumsum(padded, axis=1)
    c = np.concatenate([np.zeros((a.shape[0], 1)), c], axis=1)
    rows = (c[:, n:] - c[:, :-n]) / n
    top = np.repeat(rows[:1], radius, axis=0)
    bottom = np.repeat(rows[-1:], radius, axis=0)
    padded = np.concatenate([top, rows, bottom], axis=0)
    c = np.cumsum(padded, axis=0)
    c = np.concatenate([np.zeros((1, a.shape[1])), c], axis=0)
    return (c[n:] - c[:-n]) / n


def _coarse_share(geo: _Geography) -> np.ndarray:
    """Land share of every coarse cell (1/COARSE degrees)."""
    k = CELLS // COARSE
    blocks = geo.flat.reshape(-1, COARSE, k, COARSE, k)
    means = blocks.mean(axis=(2, 4)) / FULL  # (blocks, COARSE, COARSE)
    return means[geo.block_index].transpose(0, 2, 1, 3).reshape(180 * COARSE, 360 * COARSE)


def _distance_grids(geo: _Geography) -> Tuple[np.ndarray, np.ndarray]:
    """(inland, open ocean), 0…1 on the coarse grid, from land shares within ±1°, ±2° and ±4°."""
    share = _coarse_share(geo)
    near = _box_mean(share, COARSE)
    mid = _box_mean(share, 2 * COARSE)
    far = _box_mean(share, 4 * COARSE)
    inland = 0.5 * np.clip((near - 0.5) * 2.0, 0.0, 1.0) + 0.5 * np.clip((far - 0.5) * 2.0, 0.0, 1.0)
    inland *= np.clip(share * 2.0, 0.0, 1.0)
    open_water = np.clip(1.0 - mid / 0.35, 0.0, 1.0)
    ocean = open_water * np.sqrt(open_water) * np.clip((1.0 - share) * 2.0, 0.0, 1.0)
    return inland, ocean


def _coarse_field(grid: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    ny, nx = grid.shape
    gx = (np.asarray(lon, dtype=np.float64) + 180.0) * COARSE - 0.5
    gy = (90.0 - np.asarray(lat, dtype=np.float64)) * COARSE - 0.5

    def lookup(ix, iy):
        return grid[np.clip(iy, 0, ny - 1), np.mod(ix, nx)]

    return _bilinear(lookup, gx, gy)


def inland(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """0 at the coast and at sea, rising to 1 deep inside large land masses (bilinear, 1/2°)."""
    return _coarse_field(data().inland_grid, lon, lat)


def open_ocean(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """0 on land and near it, rising to 1 in the open ocean, hundreds of km from any coast."""
    return _coarse_field(data().ocean_grid, lon, lat)


def s2_tile_keys() -> np.ndarray:
    """(n, 4) int64: UTM zone, 1 north / 0 south, MGRS square column (easting / 100 km) and
    row (northing / 100 km, southern rows with the 10,000 km false northing)."""
    return data().tiles
