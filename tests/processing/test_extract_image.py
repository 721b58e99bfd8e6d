"""Extract image (direct) through processing.run against the sandbox: the raster's grid and
values checked against the same pixels asked of the sandbox directly with the ee client."""

from __future__ import annotations

import numpy as np
import pytest

EXTENT = "7.0,7.05,46.0,46.03 [EPSG:4326]"


@pytest.fixture()
def sandbox_env(sandbox_url, monkeypatch):
    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    return sandbox_url


def read(path):
    from osgeo import gdal

    ds = gdal.Open(str(path))
    assert ds is not None, path
    return ds, ds.ReadAsArray()


def direct_pixels(ee, asset, ds, band):
    """The same grid asked of the sandbox with ee.data.getPixels (no EE Extract code involved)."""
    gt = ds.GetGeoTransform()
    request = {
        "assetId": asset, "fileFormat": "NUMPY_NDARRAY", "bandIds": [band],
        "grid": {"crsCode": "EPSG:4326", "dimensions": {"width": ds.RasterXSize, "height": ds.RasterYSize},
                 "affineTransform": {"scaleX": gt[1], "shearX": 0, "translateX": gt[0],
                                     "shearY": 0, "scaleY": gt[5], "translateY": gt[3]}},
    }
    return ee.data.getPixels(request)[band]


def test_extract_image_writes_the_sandbox_pixels(eeextract_provider, sandbox_env, ee_sandbox, tmp_path):
    import processing

    out = tmp_path / "dem.tif"
    result = processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "BANDS": "elevation", "EXTENT": EXTENT, "OUTPUT": str(out),
    })
    assert result["OUTPUT"] == str(out)
    ds, values = read(out)
    gt = ds.GetGeoTransform()
    assert gt[1] == pytest.approx(1 / 3600) and gt[5] == pytest.approx(-1 / 3600)  # native grid
    assert gt[0] <= 7.0 < gt[0] + ds.RasterXSize * gt[1]
    assert ds.RasterXSize == pytest.approx(0.05 * 3600, abs=2)
    assert "4326" in ds.GetSpatialRef().GetAuthorityCode(None)
    expected = direct_pixels(ee_sandbox, "SANDBOX/DEM", ds, "elevation")
    np.testing.assert_array_equal(values, expected)
    assert values.std() > 0  # a real terrain, not a constant
    assert not list(tmp_path.glob(".eeextract-*")), "the work folder is removed"


def test_earth_engine_errors_reach_the_user(eeextract_provider, sandbox_env, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="SANDBOX/NOPE"):
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/NOPE", "EXTENT": EXTENT, "OUTPUT": str(tmp_path / "x.tif")})


def test_a_batch_of_rows_shares_one_session_and_keeps_outputs_apart(
    eeextract_provider, sandbox_env, monkeypatch, tmp_path
):
    """What the batch dialog does: one algorithm instance per row, run one after another."""
    import processing
    from qgis.core import QgsApplication

    from eeextract_plugin import qgis_session
    from eeextract_plugin.core import session as core_session

    calls = []
    real = core_session.initialise
    monkeypatch.setattr(core_session, "initialise", lambda config: calls.append(config) or real(config))
    qgis_session.forget_session()
    rows = [
        ("7.00,7.02,46.00,46.01 [EPSG:4326]", "TEMPORARY_OUTPUT"),
        ("7.10,7.13,46.05,46.07 [EPSG:4326]", "TEMPORARY_OUTPUT"),
        ("7.20,7.21,46.10,46.12 [EPSG:4326]", str(tmp_path / "row3.tif")),
    ]
    outputs = []
    for extent, output in rows:
        alg = QgsApplication.processingRegistry().createAlgorithmById("eeextract:extract_image")
        result = processing.run(alg, {"ASSET": "SANDBOX/DEM", "EXTENT": extent, "OUTPUT": output})
        outputs.append(result["OUTPUT"])
    assert len(calls) == 1, "one Earth Engine initialisation for the whole batch"
    assert len(set(outputs)) == 3
    for (extent, _), path in zip(rows, outputs):
        ds, values = read(path)
        xmin, xmax, ymin, ymax = (float(v) for v in extent.split(" ")[0].split(","))
        gt = ds.GetGeoTransform()
        assert gt[0] == pytest.approx(xmin, abs=2 / 3600)
        assert gt[3] == pytest.approx(ymax, abs=2 / 3600)
        assert ds.RasterXSize == pytest.approx((xmax - xmin) * 3600, abs=2)
        assert ds.RasterYSize == pytest.approx((ymax - ymin) * 3600, abs=2)


def test_an_unknown_band_is_reported_with_earth_engines_words(eeextract_provider, sandbox_env, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="nope") as raised:
        processing.run("eeextract:extract_image", {
            "ASSET": "SANDBOX/DEM", "BANDS": "nope", "EXTENT": EXTENT, "OUTPUT": str(tmp_path / "x.tif")})
    assert "elevation" in str(raised.value) or "band" in str(raised.value).lower()


def test_nodata_value_is_written(eeextract_provider, sandbox_env, tmp_path):
    import processing
    from osgeo import gdal

    out = processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "EXTENT": EXTENT, "NODATA": -9999, "OUTPUT": str(tmp_path / "nd.tif")})["OUTPUT"]
    assert gdal.Open(out).GetRasterBand(1).GetNoDataValue() == -9999
