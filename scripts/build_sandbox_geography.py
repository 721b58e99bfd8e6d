#!/usr/bin/env python3
"""Derive the sandbox's real geography from GSHHG: ``eeextract_plugin/sandbox/data/geography.npz``.

What it writes (nothing is downloaded at run time; the sandbox only reads this file):

- ``fraction``: the land fraction of every 1/60° cell of the globe (1 arc-minute, ~1.85 km),
  in sixteenths (0 = all water, 16 = all land), from a GSHHG land/water mask at 15 arc-seconds
  (4 x 4 samples per cell). Lakes are water, islands in lakes are land, ponds on those islands are
  water (``grdlandmask -N0/1/0/1/0``). Stored block-sparse: 1° blocks that are all land or all
  water are one code in ``block_index`` (-1 water, -2 land); the others index ``blocks``
  (n x 60 x 60 uint8).
- ``s2_tiles``: the Sentinel-2 tiles (UTM zone, hemisphere, 100 km column and row of the MGRS
  square) whose 109.8 km footprint holds land or lies within ~2.7 km of it, between 56° S and
  84° N, for the squares that overlap their zone's 6° strip. A tile's footprint is the real one: upper-left corner 40 m west
  and 20 m north of its MGRS square's upper-left corner (e.g. T31UDQ: ULX 399960, ULY 5500020).

Inputs, all from Debian 12 packages: ``gmt`` (6.4) and ``gmt-gshhg-high`` (GSHHG 2.3.7, high
resolution, LGPL-3+), GDAL's Python bindings (``python3-gdal``), numpy and pyproj.

    apt-get install gmt gmt-gshhg-high
    .venv/bin/python scripts/build_sandbox_geography.py [--work DIR]

GMT's masks are cached in ``--work`` (default ``build/geography``) so an interrupted run
resumes; the whole run takes about 25 minutes on one core (GMT's masks; the rest takes a minute or two). The output is deterministic: the
same inputs give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "eeextract_plugin" / "sandbox" / "data" / "geography.npz"
FINE = 240        # samples per degree of GMT's mask (15 arc-seconds)
CELLS = 60        # cells per degree of the stored fraction (1 arc-minute)
BLOCK = 30        # degrees per GMT run
S2_SOUTH, S2_NORTH = -56.0, 84.0
TILE_SIZE = 109800.0


def gmt_block(work: Path, west: int, south: int) -> np.ndarray:
    """Land counts (0..16) of the 1/60° cells of one BLOCK° x BLOCK° block (north row first)."""
    cached = work / f"counts_{west:+04d}_{south:+03d}.npy"
    if cached.exists():
        return np.load(cached)
    from osgeo import gdal

    nc = work / f"mask_{west:+04d}_{south:+03d}.nc"
    region = f"-R{west}/{west + BLOCK}/{south}/{south + BLOCK}"
    subprocess.run(["gmt", "grdlandmask", region, "-I15s", "-Dh", "-N0/1/0/1/0", "-rp",
                    f"-G{nc}=nb"], check=True, cwd=work)
    ds = gdal.Open(f'NETCDF:"{nc}":z')
    mask = ds.ReadAsArray().astype(np.uint8)
    gt = ds.GetGeoTransform()
    ds = None
    if gt[5] > 0:  # south row first: flip to north-up
        mask = mask[::-1]
    n = BLOCK * CELLS
    k = FINE // CELLS
    counts = mask.reshape(n, k, n, k).sum(axis=(1, 3), dtype=np.uint8)
    np.save(cached, counts)
    nc.unlink()
    return counts


def land_counts(work: Path) -> np.ndarray:
    counts = np.zeros((180 * CELLS, 360 * CELLS), np.uint8)
    blocks = [(w, s) for s in range(90 - BLOCK, -91, -BLOCK) for w in range(-180, 180, BLOCK)]
    for n, (west, south) in enumerate(blocks, 1):
        print(f"GSHHG mask {n}/{len(blocks)}: {west}..{west + BLOCK} E, {south}..{south + BLOCK} N", flush=True)
        r0 = (90 - south - BLOCK) * CELLS
        c0 = (west + 180) * CELLS
        counts[r0:r0 + BLOCK * CELLS, c0:c0 + BLOCK * CELLS] = gmt_block(work, west, south)
    return counts


def block_sparse(counts: np.ndarray):
    nb_y, nb_x = 180, 360
    blk = counts.reshape(nb_y, CELLS, nb_x, CELLS).transpose(0, 2, 1, 3)
    lo = blk.min(axis=(2, 3))
    hi = blk.max(axis=(2, 3))
    index = np.full((nb_y, nb_x), -1, np.int32)
    index[(lo == 16)] = -2
    mixed = lo != hi
    index[mixed] = np.arange(int(mixed.sum()), dtype=np.int32)
    return index, np.ascontiguousarray(blk[mixed])


def s2_tiles(counts: np.ndarray) -> np.ndarray:
    """(zone, north, i, j) of every tile whose footprint holds land (or lies within ~2.7 km of
    it, as Sentinel-2 also images coastal waters): the centres of 1/30° cells with land, in UTM
    coordinates of every zone whose tiles can reach them, land in the tiles containing them
    (tiles grown by the cells' half diagonal)."""
    from pyproj import Transformer

    k = 2  # 1/60° -> 1/30° cells
    cells = counts.reshape(180 * CELLS // k, k, 360 * CELLS // k, k).max(axis=(1, 3)) > 0
    n = CELLS // k
    lat_rows = 90.0 - (np.arange(180 * n) + 0.5) / n
    keep_rows = (lat_rows > S2_SOUTH - 1.0) & (lat_rows < S2_NORTH + 1.0)
    r, c = np.nonzero(cells & keep_rows[:, None])
    lat = lat_rows[r]
    lon = -180.0 + (c + 0.5) / n
    margin = 2700.0
    # How far (degrees of longitude) beyond its 6° strip a tile can reach at this latitude.
    reach = 3.0 + (TILE_SIZE + margin) / (111320.0 * np.cos(np.radians(np.minimum(np.abs(lat), 85.0)))) + 0.5
    found = set()
    for zone in range(1, 61):
        cm = -180.0 + 6.0 * (zone - 1) + 3.0
        d = ((lon - cm + 180.0) % 360.0) - 180.0
        near = np.abs(d) < reach
        for north in (True, False):
            sel = near & ((lat >= -1.0) if north else (lat <= 1.0))
            if not sel.any():
                continue
            tr = Transformer.from_crs(4326, (32600 if north else 32700) + zone, always_xy=True)
            x, y = tr.transform(cm + d[sel], lat[sel])
            ok = np.isfinite(x) & np.isfinite(y)
            x, y = x[ok], y[ok]
            # Column i covers [i*1e5 - 40, i*1e5 + 109760); row j covers
            # [(j+1)*1e5 + 20 - 109800, (j+1)*1e5 + 20); both grown by the margin.
            for di in (-1, 0, 1):
                i = np.floor((x + 40.0) / 1e5).astype(np.int64) + di
                in_i = (x >= i * 1e5 - 40.0 - margin) & (x < i * 1e5 - 40.0 + TILE_SIZE + margin)
                for dj in (-1, 0, 1):
                    j = np.floor((y - 20.0) / 1e5).astype(np.int64) + dj
                    top = (j + 1) * 1e5 + 20.0
                    in_j = (y < top + margin) & (y >= top - TILE_SIZE - margin)
                    m = in_i & in_j & (i >= 1) & (i <= 8)
                    for key in np.unique(i[m] * 10000 + (j[m] + 1000)).tolist():
                        found.add((zone, int(north), key // 10000, key % 10000 - 1000))
    candidates = np.array(sorted(found), dtype=np.int64).reshape(-1, 4)
    return candidates[_square_in_strip(candidates)].astype(np.int16)


def _square_in_strip(tiles: np.ndarray) -> np.ndarray:
    """The tiles whose 100 km MGRS square overlaps its zone's 6° strip, between 56° S and 84° N."""
    from pyproj import Transformer

    keep = np.zeros(len(tiles), bool)
    t = np.linspace(0.0, 1e5, 11)
    for zone in range(1, 61):
        for north in (1, 0):
            sel = np.nonzero((tiles[:, 0] == zone) & (tiles[:, 1] == north))[0]
            if sel.size == 0:
                continue
            tr = Transformer.from_crs((32600 if north else 32700) + zone, 4326, always_xy=True)
            e0 = tiles[sel, 2][:, None] * 1e5
            n0 = tiles[sel, 3][:, None] * 1e5
            xs = np.concatenate([e0 + t, e0 + t, np.broadcast_to(e0, (len(sel), t.size)),
                                 np.broadcast_to(e0 + 1e5, (len(sel), t.size))], axis=1)
            ys = np.concatenate([np.broadcast_to(n0, (len(sel), t.size)), np.broadcast_to(n0 + 1e5, (len(sel), t.size)),
                                 n0 + t, n0 + t], axis=1)
            lon, lat = tr.transform(xs.ravel(), ys.ravel())
            lon = lon.reshape(xs.shape)
            lat = lat.reshape(xs.shape)
            cm = -180.0 + 6.0 * (zone - 1) + 3.0
            d = ((lon - cm + 180.0) % 360.0) - 180.0
            overlaps = (d.min(axis=1) < 3.0) & (d.max(axis=1) > -3.0)
            in_lat = (lat.min(axis=1) < S2_NORTH) & (lat.max(axis=1) > S2_SOUTH)
            if north:
                in_lat &= lat.max(axis=1) > 0.0
            else:
                in_lat &= lat.min(axis=1) < 0.0
            keep[sel] = overlaps & in_lat
    return keep


def write(index: np.ndarray, blocks: np.ndarray, tiles: np.ndarray) -> bytes:
    """A deterministic .npz (fixed member order, fixed timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, array in (("block_index", index), ("blocks", blocks), ("s2_tiles", tiles)):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "geography")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    counts = land_counts(args.work)
    index, blocks = block_sparse(counts)
    print(f"{blocks.shape[0]} mixed 1° blocks; land {counts.mean() / 16:.3f} of the cells", flush=True)
    tiles = s2_tiles(counts)
    print(f"{len(tiles)} Sentinel-2 tiles over land", flush=True)
    data = write(index, blocks, tiles)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
