"""Export and mosaic (batch export to a bucket, parts downloaded and mosaicked) through
processing.run against the sandbox: the mosaic equals the same region extracted directly."""

from __future__ import annotations

import numpy as np
import pytest

EXTENT = "7.0,7.03,46.0,46.02 [EPSG:4326]"


@pytest.fixture()
def sandbox_env(sandbox_url, monkeypatch):
    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    return sandbox_url


@pytest.mark.parametrize("destination, where", [("export_gcs", {"BUCKET": "sandbox-public"}),
                                                ("export_drive", {"DRIVE_FOLDER": "EEExtract"})])
def test_export_mosaic_equals_the_direct_extraction(eeextract_provider, sandbox_env, tmp_path,
                                                     destination, where):
    import processing
    from osgeo import gdal

    exported = processing.run("eeextract:export_mosaic", {
        "ASSET": "SANDBOX/DEM", "EXTENT": EXTENT, "DESTINATION": destination, **where,
        "OUTPUT": str(tmp_path / "exported.tif"),
    })["OUTPUT"]
    direct = processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "EXTENT": EXTENT, "OUTPUT": str(tmp_path / "direct.tif"),
    })["OUTPUT"]
    a, b = gdal.Open(exported), gdal.Open(direct)
    assert a.GetGeoTransform() == pytest.approx(b.GetGeoTransform())
    assert (a.RasterXSize, a.RasterYSize) == (b.RasterXSize, b.RasterYSize)
    np.testing.assert_array_equal(a.ReadAsArray(), b.ReadAsArray())
