"""QGIS's own zonal statistics as the core's ``qgis`` engine: its answers agree with
exactextract's, and inside QGIS it runs whenever exactextract or rasterstats would bring their
own native libraries into the process.

Stated tolerance: on zones whose edges follow pixel edges the two engines give the same count,
sum, mean, min, max, majority, variety and standard deviation (1e-9 relative; the median within
1 % of the value range, as the two pick differently between two middle values); on arbitrary polygons of at least 100 pixels over a smooth raster, QGIS's pixel-centre
rule and exactextract's area weighting differ by at most 1 % of the raster's value range in the
mean (and the count by at most 2 % + the pixels along the edge)."""

from __future__ import annotations

import csv
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, osr

from eeextract_plugin.core.geometry import box, polygon
from eeextract_plugin.core.zonal import ZonalRequest, run_zonal

X0, Y0, PX, N = 500000.0, 4000000.0, 10.0, 200
VALUE_RANGE = 100 * 2 + 0.5 * N
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def qgis_engine(qgis_app, clean_settings):
    from eeextract_plugin import qgis_zonal

    qgis_zonal.install()
    yield qgis_zonal
    qgis_zonal.uninstall()


def smooth_raster(path: Path, categorical: bool = False) -> Path:
    yy, xx = np.mgrid[0:N, 0:N].astype(np.float64)
    values = (100 * np.sin(xx / 23.0) * np.cos(yy / 31.0) + 0.5 * xx).astype(np.float32)
    if categorical:  # classes 0..4 in uneven patches
        values = ((xx // 7 + yy // 5 + (xx * yy) // 97) % 5).astype(np.float32)
    values[7, 11] = -9999  # one nodata pixel
    ds = gdal.GetDriverByName("GTiff").Create(str(path), N, N, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((X0, PX, 0, Y0, 0, -PX))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32631)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteArray(values)
    ds.GetRasterBand(1).SetNoDataValue(-9999)
    ds = None
    return path


def aligned_zones():
    zones = []
    for i, (c0, r0, c1, r1) in enumerate([(0, 0, 10, 10), (5, 3, 40, 9), (100, 100, 180, 130),
                                          (8, 5, 14, 9), (150, 20, 151, 21)]):
        zones.append((i, box(X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX)))
    return zones


def random_zones(count: int = 40):
    rng = random.Random(3)
    zones = []
    for i in range(count):
        cx, cy = rng.uniform(30, N - 30), rng.uniform(30, N - 30)
        radius = rng.uniform(8, 25)
        ring = []
        for k in range(9):
            a = 2 * math.pi * k / 9
            r = radius * rng.uniform(0.7, 1.0)
            ring.append((X0 + (cx + r * math.cos(a)) * PX, Y0 - (cy + r * math.sin(a)) * PX))
        zones.append((i, polygon(ring)))
    return zones


def run(raster: Path, zones, engine: str, tmp: Path, stats, here: bool = False):
    if engine == "exactextract" and not here:
        return run_exactextract_elsewhere(raster, zones, tmp, stats)
    res = run_zonal(ZonalRequest(raster=raster, zones=zones, statistics=stats, engine=engine,
                                 csv_path=tmp / f"{engine}.csv", zones_crs="EPSG:32631"))
    with open(res.csv_path, newline="") as fh:
        return res, {r["id"]: r for r in csv.DictReader(fh)}


def run_exactextract_elsewhere(raster: Path, zones, tmp: Path, stats):
    """exactextract's answers from a plain Python process: its PyPI wheel carries its own GDAL
    and GEOS, which never go into a process that has QGIS's (that is the point of the qgis
    engine; loading both here made later tests crash)."""
    pytest.importorskip("exactextract")
    request = tmp / "exactextract-request.json"
    request.write_text(json.dumps({"raster": str(raster), "csv": str(tmp / "exactextract.csv"),
                                   "stats": list(stats), "zones": [[z, g.wkb_hex] for z, g in zones]}))
    code = ("import json, sys\n"
            "from eeextract_plugin.core.zonal import ZonalRequest, run_zonal\n"
            "r = json.load(open(sys.argv[1]))\n"
            "res = run_zonal(ZonalRequest(raster=r['raster'], zones=[tuple(z) for z in r['zones']],\n"
            "    statistics=r['stats'], engine='exactextract', csv_path=r['csv'], zones_crs='EPSG:32631'))\n"
            "print(res.engine)\n")
    out = subprocess.run([sys.executable, "-c", code, str(request)], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]

    class Result:
        engine = out.stdout.strip().splitlines()[-1]

    with open(tmp / "exactextract.csv", newline="") as fh:
        return Result(), {r["id"]: r for r in csv.DictReader(fh)}


STATS = ["count", "sum", "mean", "min", "max", "median", "stddev", "majority", "variety"]


def test_qgis_engine_matches_exactextract_on_pixel_aligned_zones(qgis_engine, tmp_path):
    raster = smooth_raster(tmp_path / "r.tif")
    res_q, q = run(raster, aligned_zones(), "qgis", tmp_path, STATS)
    res_e, e = run(raster, aligned_zones(), "exactextract", tmp_path, STATS)
    assert res_q.engine == "qgis" and res_e.engine == "exactextract"
    assert set(q) == set(e) == {str(i) for i in range(5)}
    for zid in q:
        for s in ("count", "sum", "mean", "min", "max", "variety"):
            col = f"b1_{s}"
            assert float(q[zid][col]) == pytest.approx(float(e[zid][col]), rel=1e-9, abs=1e-6), (zid, s)
        assert float(q[zid]["b1_stddev"]) == pytest.approx(float(e[zid]["b1_stddev"]), rel=1e-6)
        # an even count has two middle values: QGIS and exactextract pick differently
        assert abs(float(q[zid]["b1_median"]) - float(e[zid]["b1_median"])) <= 0.01 * VALUE_RANGE
    classes = smooth_raster(tmp_path / "classes.tif", categorical=True)
    _, q = run(classes, aligned_zones(), "qgis", tmp_path, ["count", "majority", "minority", "variety"])
    _, e = run(classes, aligned_zones(), "exactextract", tmp_path, ["count", "majority", "minority", "variety"])
    for zid in q:
        for s in ("count", "majority", "variety"):
            assert float(q[zid][f"b1_{s}"]) == float(e[zid][f"b1_{s}"]), (zid, s)


def test_qgis_engine_agrees_with_exactextract_on_arbitrary_polygons(qgis_engine, tmp_path):
    raster = smooth_raster(tmp_path / "r.tif")
    zones = random_zones()
    _, q = run(raster, zones, "qgis", tmp_path, ["count", "mean"])
    _, e = run(raster, zones, "exactextract", tmp_path, ["count", "mean"])
    value_range = VALUE_RANGE
    worst = 0.0
    for zid, _ in zones:
        row_q, row_e = q[str(zid)], e[str(zid)]
        n_q, n_e = float(row_q["b1_count"]), float(row_e["b1_count"])
        assert n_e >= 100
        perimeter_px = 2 * math.pi * 25
        assert abs(n_q - n_e) <= 0.02 * n_e + perimeter_px, zid
        diff = abs(float(row_q["b1_mean"]) - float(row_e["b1_mean"])) / value_range
        worst = max(worst, diff)
        assert diff <= 0.01, (zid, diff)
    assert worst > 0  # the rules do differ: this compares two computations


def test_inside_qgis_a_wheel_with_its_own_libraries_never_runs(qgis_engine, tmp_path):
    """The policy: exactextract asked for, but its wheel bundles GDAL/GEOS → QGIS's engine runs;
    the settings' choice is honoured where it is safe."""
    from eeextract_plugin.core.zonal import bundled_native_libraries

    raster = smooth_raster(tmp_path / "r.tif")
    res, rows = run(raster, aligned_zones(), "exactextract", tmp_path, ["mean"], here=True)
    if bundled_native_libraries("exactextract") or qgis_engine.unsafe_reason("exactextract"):
        assert res.engine == "qgis"
        assert "QGIS's zonal statistics run" in qgis_engine.engine_report()
    else:
        assert res.engine == "exactextract"
    qgis_engine.save_engine_setting("qgis")
    res, _ = run(raster, aligned_zones(), "auto", tmp_path, ["mean"])
    assert res.engine == "qgis"
    assert qgis_engine.engine_report().startswith("QGIS's zonal statistics run")


def test_qgis_engine_refuses_statistics_it_does_not_compute(qgis_engine, tmp_path):
    from eeextract_plugin.core.zonal import ZonalError

    raster = smooth_raster(tmp_path / "r.tif")
    with pytest.raises(ZonalError, match="does not compute p90"):
        run(raster, aligned_zones(), "qgis", tmp_path, ["mean", "p90"])


def test_outside_qgis_the_qgis_engine_says_where_it_runs(tmp_path):
    code = ("from eeextract_plugin.core.zonal import engine_problem, choose_engine\n"
            "print(engine_problem('qgis')); print(choose_engine('auto'))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "engine 'qgis' runs inside QGIS only"
    assert lines[1] in ("exactextract", "rasterstats")
    json.dumps(lines)
