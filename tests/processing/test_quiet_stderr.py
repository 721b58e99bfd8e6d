"""A Processing run says nothing on the process's stderr (what QGIS prints in its terminal and
qgis_process prints after its results): no PROJ complaint about a CRS it could not parse."""

from __future__ import annotations


def test_a_run_prints_nothing_on_stderr(eeextract_provider, sandbox_url, monkeypatch, tmp_path, capfd):
    import processing

    monkeypatch.setenv("EEEXTRACT_URL", sandbox_url)
    monkeypatch.setenv("EEEXTRACT_PROJECT", "sandbox")
    capfd.readouterr()
    result = processing.run("eeextract:extract_image", {
        "ASSET": "SANDBOX/DEM", "BANDS": "elevation", "EXTENT": "7.0,7.01,46.0,46.01 [EPSG:4326]",
        "CRS": "EPSG:32632", "OUTPUT": str(tmp_path / "dem.tif")})
    assert (tmp_path / "dem.tif").exists(), result
    err = capfd.readouterr().err
    assert "proj_create" not in err and "PROJ" not in err, err
