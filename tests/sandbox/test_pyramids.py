"""Pyramids as Earth Engine builds them: a request coarser than a stored band's grid reads the
pyramid level for its scale, made by the band's pyramiding policy (MEAN for continuous bands,
MODE for categorical ones, SAMPLE for bit masks), through the real client's computePixels."""

from __future__ import annotations

import numpy as np

from eeextract_plugin.sandbox.imagery import pyramids
from eeextract_plugin.sandbox.imagery.projection import Projection
from eeextract_plugin.sandbox.raster import PixelGrid

ARCSEC = 1 / 3600
S2_ID = "SANDBOX/S2_SR/20240603T110329_20240603T110329_T29SNC"


def grid(crs, scale, x0, y0, width, height):
    return {"crsCode": crs, "dimensions": {"width": width, "height": height},
            "affineTransform": {"scaleX": scale, "shearX": 0.0, "translateX": x0, "shearY": 0.0,
                                "scaleY": -scale, "translateY": y0}}


def pixels(ee, image, g, band):
    return ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": g})[band]


def blocks(native, factor):
    h, w = native.shape[0] // factor, native.shape[1] // factor
    return native[:h * factor, :w * factor].reshape(h, factor, w, factor).transpose(0, 2, 1, 3).reshape(h, w, -1)


def test_eight_times_coarser_is_the_mean_of_eight_by_eight_blocks(ee_sandbox):
    ee = ee_sandbox
    x0, y0 = -8.5, 38.4
    native = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", ARCSEC, x0, y0, 256, 128), "elevation")
    coarse = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", 8 * ARCSEC, x0, y0, 32, 16), "elevation")
    expected = np.round(blocks(native, 8).astype(np.float64).mean(axis=2))
    np.testing.assert_array_equal(coarse, expected)
    # Not one native pixel in 64: sampling would give the blocks' upper-left (or centre) values.
    assert not np.array_equal(coarse, native[::8, ::8]) and not np.array_equal(coarse, native[4::8, 4::8])


def test_categorical_bands_take_the_mode_of_their_blocks(ee_sandbox):
    ee = ee_sandbox
    scale = 1 / 12000  # LANDCOVER's native grid
    x0, y0 = -8.6, 38.4
    native = pixels(ee, ee.Image("SANDBOX/LANDCOVER"), grid("EPSG:4326", scale, x0, y0, 400, 400), "landcover")
    coarse = pixels(ee, ee.Image("SANDBOX/LANDCOVER"), grid("EPSG:4326", 4 * scale, x0, y0, 100, 100), "landcover")
    expected = np.empty((100, 100), native.dtype)
    native_blocks = blocks(native, 4)
    for r in range(100):
        for c in range(100):
            values, counts = np.unique(native_blocks[r, c], return_counts=True)
            expected[r, c] = values[np.argmax(counts)]  # ties: the smallest class
    np.testing.assert_array_equal(coarse, expected)
    assert set(np.unique(coarse)) <= set(np.unique(native))  # never a mean of classes


def test_bit_mask_bands_take_a_sample_of_their_blocks(ee_sandbox):
    ee = ee_sandbox
    assert ee.data.getAsset("projects/earthengine-public/assets/" + S2_ID)["bands"][-1]["pyramidingPolicy"] == "SAMPLE"
    # On the scene's own 60 m lattice (its MGRS tile's corner), 60 km into the tile.
    t = ee.Image(S2_ID).select("QA60").getInfo()["bands"][0]["crs_transform"]
    x0, y0 = t[2] + 60 * 1000, t[5] - 60 * 1000
    native = pixels(ee, ee.Image(S2_ID).select("QA60"), grid("EPSG:32629", 60, x0, y0, 400, 400), "QA60")
    coarse = pixels(ee, ee.Image(S2_ID).select("QA60"), grid("EPSG:32629", 240, x0, y0, 100, 100), "QA60")
    np.testing.assert_array_equal(coarse, native[::4, ::4])


def test_the_level_is_the_coarsest_not_coarser_than_the_request(ee_sandbox):
    """Three times coarser reads level 1 (2 x 2 means), sampled at the output pixel centres."""
    ee = ee_sandbox
    x0, y0 = -8.5, 38.4
    native = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", ARCSEC, x0, y0, 96, 96), "elevation")
    level1 = np.round(blocks(native, 2).astype(np.float64).mean(axis=2))
    coarse = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", 3 * ARCSEC, x0, y0, 32, 32), "elevation")
    centres = ((np.arange(32) + 0.5) * 3 / 2).astype(int)
    np.testing.assert_array_equal(coarse, level1[np.ix_(centres, centres)])


def test_level_choice_and_subsampled_high_levels():
    native = Projection("EPSG:4326", (ARCSEC, 0.0, -180.0, 0.0, -ARCSEC, 90.0))

    def level(scale, crs="EPSG:4326", dims=None):
        return pyramids.pyramid_level(PixelGrid(crs, (scale, 0.0, -8.5 if crs == "EPSG:4326" else 560000.0, 0.0,
                                                      -scale, 38.4 if crs == "EPSG:4326" else 4240000.0), 64, 64),
                                      native, dims)

    assert level(ARCSEC) == 0 and level(ARCSEC / 2) == 0 and level(1.99 * ARCSEC) == 0
    assert level(2 * ARCSEC) == 1 and level(7.9 * ARCSEC) == 2 and level(8 * ARCSEC) == 3
    assert level(1.0) == 11  # 3600 arc-seconds: 2**11 = 2048 <= 3600 < 4096
    assert level(1.0, dims=(1000, 1000)) == 10  # no level past the one where the image is one pixel
    # 90 m UTM pixels over a 1 arc-second (about 24 x 31 m here) lattice: level 1.
    assert level(90.0, crs="EPSG:32629") == 1
    assert list(pyramids.block_offsets(2, "MEAN")) == [0, 1, 2, 3]
    assert list(pyramids.block_offsets(3, "MODE")) == list(range(8))
    assert list(pyramids.block_offsets(4, "MEAN")) == [4, 12]
    assert list(pyramids.block_offsets(5, "SAMPLE")) == [0]


def test_sixteen_times_coarser_is_the_mean_of_a_stratified_subsample(ee_sandbox):
    """Above 8 x 8 blocks the sandbox averages 2 x 2 of the block's pixels, at the centres of its
    quarters (documented in docs/sandbox-fidelity.md as an approximation of the block mean)."""
    ee = ee_sandbox
    x0, y0 = -180 + 38588 * 16 * ARCSEC, 38.4  # on the level-4 lattice (16 arc-seconds)
    native = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", ARCSEC, x0, y0, 128, 64), "elevation")
    coarse = pixels(ee, ee.Image("SANDBOX/DEM"), grid("EPSG:4326", 16 * ARCSEC, x0, y0, 8, 4), "elevation")
    picks = np.array([4, 12])
    sub = native.reshape(4, 16, 8, 16)[:, picks][:, :, :, picks]
    np.testing.assert_array_equal(coarse, np.round(sub.astype(np.float64).mean(axis=(1, 3))))
    full = np.round(native.reshape(4, 16, 8, 16).astype(np.float64).mean(axis=(1, 3)))
    assert np.abs(coarse.astype(int) - full).max() <= 10


def test_every_policy_reduces_only_valid_pixels():
    values = np.array([[[4]], [[1]], [[1]], [[9]]], dtype=np.int16)
    valid = np.array([[[True]], [[True]], [[True]], [[False]]])
    expect = {"MEAN": 2, "MODE": 1, "MIN": 1, "MAX": 4}
    for policy, value in expect.items():
        out, ok = pyramids.aggregate(policy, values, valid, np.dtype(np.int16))
        assert out.dtype == np.int16 and out[0, 0] == value and ok[0, 0], policy
    out, ok = pyramids.aggregate("MEAN", values, np.zeros_like(valid), np.dtype(np.int16))
    assert not ok[0, 0] and out[0, 0] == 0
