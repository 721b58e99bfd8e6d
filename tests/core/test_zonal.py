"""Zonal statistics checked against values computed by hand: small rasters written with GDAL,
zones with known answers, both engines (rasterstats is skipped where it cannot run, with the
reason)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from shapely.geometry import Polygon, box

from eeextract_plugin.core.errors import Cancelled
from eeextract_plugin.core.zonal import (
    ZonalError,
    ZonalRequest,
    rasterstats_problem,
    run_zonal,
)

# A 10 x 10 grid of 10 m pixels in UTM 31N; pixel (row r, col c) covers
# x in [X0 + 10c, X0 + 10c + 10], y in [Y0 - 10r - 10, Y0 - 10r].
X0, Y0, PX = 500000.0, 4000000.0, 10.0
EPSG = 32631
NODATA = -9999.0


def px_box(c0: float, r0: float, c1: float, r1: float) -> Tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of the pixel-space rectangle cols [c0, c1) x rows [r0, r1)."""
    return X0 + c0 * PX, Y0 - r1 * PX, X0 + c1 * PX, Y0 - r0 * PX


def write_raster(
    path: Path,
    bands: Sequence[np.ndarray],
    nodata: Optional[float] = NODATA,
    dtype: int = gdal.GDT_Float32,
    descriptions: Optional[Sequence[str]] = None,
    epsg: int = EPSG,
    origin: Tuple[float, float] = (X0, Y0),
    pixel: float = PX,
) -> Path:
    rows, cols = bands[0].shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, len(bands), dtype)
    ds.SetGeoTransform((origin[0], pixel, 0.0, origin[1], 0.0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for i, arr in enumerate(bands, start=1):
        band = ds.GetRasterBand(i)
        band.WriteArray(arr)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        if descriptions:
            band.SetDescription(descriptions[i - 1])
    ds.FlushCache()
    ds = None
    return path


def write_vector(
    path: Path,
    features: Iterable[Tuple[Dict[str, object], Optional[object]]],
    epsg: Optional[int] = EPSG,
    layer: str = "zones",
    geom_type: int = ogr.wkbPolygon,
    fields: Optional[Dict[str, int]] = None,
) -> Path:
    """GeoPackage with one layer; each feature is (attributes, shapely geometry or None)."""
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(str(path)) if not path.exists() else ogr.Open(str(path), 1)
    srs = None
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lyr = ds.CreateLayer(layer, srs, geom_type)
    for name, ftype in (fields or {"zone": ogr.OFTInteger}).items():
        lyr.CreateField(ogr.FieldDefn(name, ftype))
    for attrs, geom in features:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in attrs.items():
            if v is not None:
                f.SetField(k, v)
        if geom is not None:
            f.SetGeometry(ogr.CreateGeometryFromWkb(geom.wkb))
        lyr.CreateFeature(f)
    f = lyr = None  # children before their dataset (GDAL < 3.8)
    ds = None
    return path


def read_csv(path) -> Dict[str, Dict[str, str]]:
    """Rows keyed by the first column."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    return {r[0]: dict(zip(header, r)) for r in rows[1:]}


def num(text: str) -> Optional[float]:
    return None if text == "" else float(text)


def value_grid() -> np.ndarray:
    """value = 10 * row + col, float32; pixel (5, 5) is nodata."""
    a = np.arange(100, dtype=np.float32).reshape(10, 10)
    a[5, 5] = NODATA
    return a


def weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """Weighted quantile, written from its definition (stats.stackexchange.com/a/13223): sort
    by value; S_k = (k-1) w_k + (n-1) sum_{i<k} w_i; the quantile interpolates linearly where
    S crosses q * S_n. Equal weights give numpy's default (type 7) percentile."""
    order = np.argsort(values)
    x = np.asarray(values, dtype=float)[order]
    w = np.asarray(weights, dtype=float)[order]
    n = len(x)
    cum = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    s = np.arange(n) * w + (n - 1) * cum
    target = q * s[-1]
    return float(np.interp(target, s, x))


# ------------------------------------------------------------------------------------ fixtures
ENGINES = [
    "exactextract",
    pytest.param(
        "rasterstats",
        marks=pytest.mark.skipif(
            rasterstats_problem() is not None,
            reason=f"rasterstats unusable here: {rasterstats_problem()}",
        ),
    ),
]
ALL_STATS = [
    "count",
    "sum",
    "mean",
    "min",
    "max",
    "stddev",
    "median",
    "p10",
    "p90",
    "majority",
    "minority",
    "variety",
]


@pytest.fixture()
def grid_tif(tmp_path) -> Path:
    return write_raster(tmp_path / "grid.tif", [value_grid()])


def zonal(tmp_path, raster, zones, engine, stats=ALL_STATS, **kw):
    csv_path = tmp_path / f"out_{engine}.csv"
    kw.setdefault("gpkg_path", None)
    result = run_zonal(
        ZonalRequest(
            raster=raster, zones=zones, statistics=stats, engine=engine, csv_path=csv_path, **kw
        )
    )
    return result, read_csv(csv_path)


def values_in(c0, r0, c1, r1):
    a = value_grid()[r0:r1, c0:c1].ravel()
    return a[a != NODATA].astype(float)


# ------------------------------------------------------------------------- whole-pixel zones
@pytest.mark.parametrize("engine", ENGINES)
def test_pixel_aligned_zone_gives_every_statistic_by_hand(tmp_path, grid_tif, engine):
    # cols 1-3 x rows 2-4: values 21 22 23 / 31 32 33 / 41 42 43, nine whole pixels.
    vals = values_in(1, 2, 4, 5)
    assert list(vals) == [21, 22, 23, 31, 32, 33, 41, 42, 43]
    result, rows = zonal(tmp_path, grid_tif, [(7, box(*px_box(1, 2, 4, 5)))], engine)
    r = rows["7"]
    assert num(r["b1_count"]) == pytest.approx(9)
    assert num(r["b1_sum"]) == pytest.approx(288)
    assert num(r["b1_mean"]) == pytest.approx(32)
    assert num(r["b1_min"]) == 21 and num(r["b1_max"]) == 43
    assert num(r["b1_stddev"]) == pytest.approx(np.sqrt(np.mean((vals - 32) ** 2)))  # 8.2192
    assert num(r["b1_median"]) == pytest.approx(32)
    assert num(r["b1_p10"]) == pytest.approx(np.percentile(vals, 10))  # 22.6
    assert num(r["b1_p90"]) == pytest.approx(np.percentile(vals, 90))  # 42.2
    assert num(r["b1_variety"]) == 9
    assert r["zonal_status"] == "ok"
    assert result.zones == 1 and result.zones_with_data == 1 and result.engine == engine
    assert result.columns[:3] == ["b1_count", "b1_sum", "b1_mean"]


@pytest.mark.parametrize("engine", ENGINES)
def test_nodata_pixels_are_left_out(tmp_path, grid_tif, engine):
    # cols 5-6 x rows 5-6: 55 is nodata; 56, 65, 66 remain.
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, box(*px_box(5, 5, 7, 7)))],
        engine,
        stats=["count", "sum", "mean", "min"],
    )
    r = rows["1"]
    assert num(r["b1_count"]) == pytest.approx(3)
    assert num(r["b1_sum"]) == pytest.approx(56 + 65 + 66)
    assert num(r["b1_mean"]) == pytest.approx((56 + 65 + 66) / 3)
    assert num(r["b1_min"]) == 56


@pytest.mark.parametrize("engine", ENGINES)
def test_zone_of_nodata_only_has_count_zero_and_empty_statistics(tmp_path, grid_tif, engine):
    inner = box(*px_box(5.2, 5.2, 5.8, 5.8))  # inside the nodata pixel (its centre too)
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, inner), (2, box(*px_box(0, 0, 1, 1)))],
        engine,
        stats=["count", "mean", "max", "variety"],
    )
    assert num(rows["1"]["b1_count"]) == 0
    assert rows["1"]["b1_mean"] == "" and rows["1"]["b1_max"] == ""
    assert num(rows["1"]["b1_variety"]) == 0
    assert num(rows["2"]["b1_mean"]) == 0  # value 0 is a value, not an empty statistic


@pytest.mark.parametrize("engine", ENGINES)
def test_raster_without_nodata_counts_every_value(tmp_path, engine):
    # Int16 without nodata: 0 and -999 (rasterstats' own fallback nodata) are values.
    a = np.zeros((10, 10), dtype=np.int16)
    a[0, 0], a[0, 1] = -999, 7
    tif = write_raster(tmp_path / "plain.tif", [a], nodata=None, dtype=gdal.GDT_Int16)
    _, rows = zonal(
        tmp_path, tif, [(1, box(*px_box(0, 0, 2, 2)))], engine, stats=["count", "sum", "min"]
    )
    assert num(rows["1"]["b1_count"]) == pytest.approx(4)
    assert num(rows["1"]["b1_sum"]) == pytest.approx(-992)
    assert num(rows["1"]["b1_min"]) == -999


# ---------------------------------------------------------------------------- partial pixels
def test_exactextract_weights_partial_pixels_by_covered_fraction(tmp_path, grid_tif):
    # Row 0, x from col 0 to col 2.4: pixels 0 and 1 whole, pixel 2 at 40 %.
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, box(*px_box(0, 0, 2.4, 1)))],
        "exactextract",
        stats=["count", "sum", "mean", "stddev", "min", "max", "p25"],
    )
    r = rows["1"]
    w, x = np.array([1.0, 1.0, 0.4]), np.array([0.0, 1.0, 2.0])
    assert num(r["b1_count"]) == pytest.approx(2.4, rel=1e-6)
    assert num(r["b1_sum"]) == pytest.approx(1.8, rel=1e-6)
    assert num(r["b1_mean"]) == pytest.approx(0.75, rel=1e-6)
    mean = (w * x).sum() / w.sum()
    assert num(r["b1_stddev"]) == pytest.approx(
        np.sqrt((w * (x - mean) ** 2).sum() / w.sum()), rel=1e-5
    )
    assert num(r["b1_min"]) == 0 and num(r["b1_max"]) == 2  # any touched pixel counts
    assert num(r["b1_p25"]) == pytest.approx(weighted_quantile(x, w, 0.25), rel=1e-5)


@pytest.mark.skipif(
    rasterstats_problem() is not None, reason=f"rasterstats unusable: {rasterstats_problem()}"
)
def test_rasterstats_counts_a_pixel_whole_when_its_centre_is_inside(tmp_path, grid_tif):
    # Same zone: the centre of pixel 2 (x = 2.5 px) is outside 2.4 px; pixels 0 and 1 count.
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, box(*px_box(0, 0, 2.4, 1))), (2, box(*px_box(0, 0, 2.6, 1)))],
        "rasterstats",
        stats=["count", "sum", "mean"],
    )
    assert num(rows["1"]["b1_count"]) == 2 and num(rows["1"]["b1_sum"]) == 1
    assert num(rows["1"]["b1_mean"]) == pytest.approx(0.5)
    assert num(rows["2"]["b1_count"]) == 3 and num(rows["2"]["b1_mean"]) == pytest.approx(1.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_sliver_inside_the_raster_edge(tmp_path, grid_tif, engine):
    # Only a 1e-8 pixel wide strip of this zone lies on the raster.
    sliver = box(*px_box(-3, 0, 1e-8, 2))
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, sliver), (2, box(*px_box(0, 0, 1, 1)))],
        engine,
        stats=["count", "mean"],
    )
    assert num(rows["1"]["b1_count"]) == pytest.approx(0, abs=1e-6)
    if engine == "rasterstats":
        assert rows["1"]["b1_mean"] == ""
    assert num(rows["2"]["b1_count"]) == 1


def test_exactextract_zone_smaller_than_a_pixel(tmp_path, grid_tif):
    # A quarter of pixel (3, 4) (value 34): count 0.25, mean exactly the pixel's value.
    _, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, box(*px_box(4, 3, 4.5, 3.5)))],
        "exactextract",
        stats=["count", "mean"],
    )
    assert num(rows["1"]["b1_count"]) == pytest.approx(0.25)
    assert num(rows["1"]["b1_mean"]) == pytest.approx(34)


# ------------------------------------------------------------------ CRS, outside, invalid zones
@pytest.mark.parametrize("engine", ENGINES)
def test_zones_in_another_crs_are_reprojected(tmp_path, grid_tif, engine):
    from pyproj import Transformer

    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    xmin, ymin, xmax, ymax = px_box(1, 2, 4, 5)
    corners = [(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax)]
    ll = Polygon([to_ll.transform(x, y) for x, y in corners])
    # In memory with an explicit CRS, and from a GeoPackage in EPSG:4326.
    _, mem = zonal(
        tmp_path, grid_tif, [(1, ll)], engine, stats=["count", "mean"], zones_crs="EPSG:4326"
    )
    gpkg = write_vector(tmp_path / "ll.gpkg", [({"zone": 1}, ll)], epsg=4326)
    _, fil = zonal(tmp_path, grid_tif, str(gpkg), engine, stats=["count", "mean"], id_field="zone")
    for rows in (mem, fil):
        assert num(rows["1"]["b1_count"]) == pytest.approx(9, rel=1e-5)
        assert num(rows["1"]["b1_mean"]) == pytest.approx(32, rel=1e-5)


def test_long_edges_are_densified_before_reprojection():
    """A 4-corner lon/lat rectangle of 2 x 1 degrees is a curved shape in UTM: the prepared zone
    must match the rectangle reprojected with 1,000 vertices per edge, not its 4 corners."""
    import shapely
    from pyproj import CRS, Transformer

    from eeextract_plugin.core.zonal.zones import ZonePreparer

    ll = box(2.0, 45.0, 4.0, 46.0)
    utm = CRS.from_epsg(EPSG).to_wkt()
    prep = ZonePreparer(CRS.from_epsg(4326).to_wkt(), utm, (0, 0, 2e6, 1e7))
    zone = prep.prepare([(0, "z", ll)])[0]
    t = Transformer.from_crs(4326, EPSG, always_xy=True)
    dense = shapely.transform(
        shapely.segmentize(ll, 0.002), lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
    )
    corners = Polygon([t.transform(x, y) for x, y in ll.exterior.coords])
    prepared = shapely.from_wkb(zone.geometry.wkb)  # OGR did it; shapely + pyproj check it
    error_prepared = prepared.symmetric_difference(dense).area / dense.area
    error_corners = corners.symmetric_difference(dense).area / dense.area
    assert error_prepared < 1e-5 < error_corners


@pytest.mark.parametrize("engine", ENGINES)
def test_zones_outside_or_partly_outside_the_raster(tmp_path, grid_tif, engine):
    zones = [
        ("in", box(*px_box(0, 0, 1, 1))),
        ("partly", box(*px_box(-2, 0, 2, 1))),  # cols -2..1: only pixels 0 and 1 exist
        ("away", box(*px_box(50, 50, 52, 52))),
        ("edge", box(*px_box(10, 0, 12, 1))),  # touches the raster's right edge only
    ]
    result, rows = zonal(tmp_path, grid_tif, zones, engine, stats=["count", "sum", "mean", "frac"])
    assert num(rows["partly"]["b1_count"]) == pytest.approx(2)
    assert num(rows["partly"]["b1_sum"]) == pytest.approx(1)
    assert rows["partly"]["zonal_status"] == "ok"
    for zid in ("away", "edge"):
        assert num(rows[zid]["b1_count"]) == 0
        assert rows[zid]["b1_sum"] == "" and rows[zid]["b1_mean"] == ""
        assert rows[zid]["zonal_status"] == "outside"
    assert sorted(result.outside) == ["away", "edge"]
    assert result.zones == 4 and result.zones_with_data == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_invalid_geometries_are_repaired_or_reported_by_id(tmp_path, grid_tif, engine):
    # A bow-tie over pixels (0..2) x rows (0..2): make_valid gives two triangles, each of
    # area 1 px: an exact count of 2 px for exactextract.
    a, b = px_box(0, 0, 2, 2)[0], px_box(0, 0, 2, 2)[2]
    y0, y1 = px_box(0, 0, 2, 2)[1], px_box(0, 0, 2, 2)[3]
    bowtie = Polygon([(a, y0), (b, y1), (b, y0), (a, y1), (a, y0)])
    assert not bowtie.is_valid
    result, rows = zonal(
        tmp_path,
        grid_tif,
        [(1, bowtie), (2, None), (3, box(*px_box(0, 0, 1, 1)))],
        engine,
        stats=["count"],
    )
    assert rows["1"]["zonal_status"] == "repaired" and result.repaired == [1]
    if engine == "exactextract":
        assert num(rows["1"]["b1_count"]) == pytest.approx(2)
    else:
        assert num(rows["1"]["b1_count"]) > 0
    assert rows["2"]["zonal_status"] == "invalid" and 2 in result.invalid
    assert num(rows["2"]["b1_count"]) == 0


# ------------------------------------------------------------------------ categorical rasters
@pytest.mark.parametrize("engine", ENGINES)
def test_class_fractions_majority_minority_variety(tmp_path, engine):
    classes = np.zeros((10, 10), dtype=np.uint8)
    block = classes[0:4, 0:5]  # 20 pixels: 10 of class 1, 6 of class 2, 4 of class 7
    block.flat[:10], block.flat[10:16], block.flat[16:20] = 1, 2, 7
    tif = write_raster(tmp_path / "classes.tif", [classes], nodata=0, dtype=gdal.GDT_Byte)
    _, rows = zonal(
        tmp_path,
        tif,
        [(1, box(*px_box(0, 0, 5, 4)))],
        engine,
        stats=["frac", "majority", "minority", "variety", "count"],
    )
    r = rows["1"]
    assert num(r["b1_frac_1"]) == pytest.approx(0.5)
    assert num(r["b1_frac_2"]) == pytest.approx(0.3)
    assert num(r["b1_frac_7"]) == pytest.approx(0.2)
    assert num(r["b1_majority"]) == 1 and num(r["b1_minority"]) == 7
    assert num(r["b1_variety"]) == 3 and num(r["b1_count"]) == 20
    assert "b1_frac_0" not in r  # nodata is not a class


def test_exactextract_class_fractions_are_area_weighted(tmp_path):
    classes = np.full((10, 10), 3, dtype=np.uint8)
    classes[0, 0], classes[0, 1] = 1, 2
    tif = write_raster(tmp_path / "c.tif", [classes], nodata=0, dtype=gdal.GDT_Byte)
    # Pixel (0,0) whole, half of pixel (0,1): class 1 covers 1 of 1.5 px, class 2 0.5.
    _, rows = zonal(
        tmp_path, tif, [(1, box(*px_box(0, 0, 1.5, 1)))], "exactextract", stats=["frac", "majority"]
    )
    assert num(rows["1"]["b1_frac_1"]) == pytest.approx(2 / 3)
    assert num(rows["1"]["b1_frac_2"]) == pytest.approx(1 / 3)
    assert num(rows["1"]["b1_majority"]) == 1
    assert rows["1"]["b1_frac_3"] == "" if "b1_frac_3" in rows["1"] else True


def test_frac_columns_are_the_union_of_classes_sorted_across_zones(tmp_path):
    classes = np.full((10, 10), 5, dtype=np.uint8)
    classes[:, 5:] = 2
    classes[9, 9] = 11
    tif = write_raster(tmp_path / "c.tif", [classes], nodata=0, dtype=gdal.GDT_Byte)
    result, rows = zonal(
        tmp_path,
        tif,
        [("w", box(*px_box(0, 0, 5, 10))), ("e", box(*px_box(5, 0, 10, 10)))],
        "exactextract",
        stats=["frac"],
        batch_size=1,
    )
    assert result.columns == ["b1_frac_2", "b1_frac_5", "b1_frac_11"]
    assert num(rows["w"]["b1_frac_5"]) == 1 and rows["w"]["b1_frac_2"] == ""
    assert num(rows["e"]["b1_frac_2"]) == pytest.approx(49 / 50)
    assert num(rows["e"]["b1_frac_11"]) == pytest.approx(1 / 50)


# -------------------------------------------------------------------------- bands and outputs
@pytest.mark.parametrize("engine", ENGINES)
def test_every_band_gets_its_columns_named_by_band_description(tmp_path, engine):
    g = value_grid()
    tif = write_raster(
        tmp_path / "two.tif", [g, np.where(g == NODATA, NODATA, g * 2)], descriptions=["red", "nir"]
    )
    result, rows = zonal(
        tmp_path, tif, [(1, box(*px_box(1, 2, 4, 5)))], engine, stats=["mean", "max"]
    )
    assert result.columns == ["red_mean", "red_max", "nir_mean", "nir_max"]
    assert num(rows["1"]["red_mean"]) == pytest.approx(32)
    assert num(rows["1"]["nir_mean"]) == pytest.approx(64)
    _, only = zonal(
        tmp_path, tif, [(1, box(*px_box(1, 2, 4, 5)))], engine, stats=["max"], bands=["nir"]
    )
    assert list(only["1"]) == ["id", "nir_max", "zonal_status"]


def test_geopackage_holds_the_zones_in_their_crs_with_the_statistics(tmp_path, grid_tif):
    from pyproj import Transformer

    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    zones = [
        (
            {"name": n},
            Polygon(
                [to_ll.transform(x, y) for x, y in box(*px_box(c, 0, c + 2, 2)).exterior.coords]
            ),
        )
        for n, c in (("a", 0), ("b", 4))
    ]
    src = write_vector(tmp_path / "z.gpkg", zones, epsg=4326, fields={"name": ogr.OFTString})
    out = tmp_path / "stats.gpkg"
    result = run_zonal(
        ZonalRequest(
            grid_tif,
            str(src),
            id_field="name",
            statistics=["mean", "count"],
            csv_path=tmp_path / "s.csv",
            gpkg_path=out,
        )
    )
    ds = ogr.Open(str(out))
    lyr = ds.GetLayer(0)
    assert lyr.GetFeatureCount() == 2
    assert lyr.GetSpatialRef().GetAuthorityCode(None) == "4326"
    names = [
        lyr.GetLayerDefn().GetFieldDefn(i).GetName()
        for i in range(lyr.GetLayerDefn().GetFieldCount())
    ]
    assert names == ["name", "b1_mean", "b1_count", "zonal_status"]
    feats = {f.GetField("name"): f for f in lyr}
    # zone a: cols 0-1 rows 0-1 → 0 1 10 11; zone b: cols 4-5 → 4 5 14 15.
    assert feats["a"].GetField("b1_mean") == pytest.approx(5.5, rel=1e-5)
    assert feats["b"].GetField("b1_mean") == pytest.approx(9.5, rel=1e-5)
    lon, lat = feats["a"].GetGeometryRef().Centroid().GetPoint_2D()
    assert -180 < lon < 180 and -90 < lat < 90 and lat > 30  # degrees, in the zones' CRS
    assert result.gpkg_path == str(out) and Path(result.csv_path).exists()


def test_default_outputs_next_to_the_raster(tmp_path, grid_tif):
    result = run_zonal(ZonalRequest(grid_tif, [(1, box(*px_box(0, 0, 1, 1)))]))
    assert result.csv_path == str(tmp_path / "grid_zonal.csv")
    assert result.gpkg_path == str(tmp_path / "grid_zonal.gpkg")
    assert read_csv(result.csv_path)["1"]["b1_mean"] == "0.0"


def test_batches_give_the_same_table_as_one_pass(tmp_path, grid_tif):
    zones = [(i, box(*px_box(i % 9, i // 9, i % 9 + 1.5, i // 9 + 1.5))) for i in range(40)]
    _, one = zonal(
        tmp_path, grid_tif, zones, "exactextract", stats=["mean", "count"], batch_size=500
    )
    _, many = zonal(
        tmp_path, grid_tif, zones, "exactextract", stats=["mean", "count"], batch_size=3
    )
    assert one == many and len(one) == 40


def test_progress_reaches_100_and_cancel_stops_between_batches(tmp_path, grid_tif):
    zones = [(i, box(*px_box(0, 0, 1, 1))) for i in range(10)]
    seen = []
    run_zonal(
        ZonalRequest(grid_tif, zones, csv_path=tmp_path / "a.csv", batch_size=2),
        progress=seen.append,
    )
    assert seen[-1] == 100 and seen == sorted(seen)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        run_zonal(
            ZonalRequest(grid_tif, zones, csv_path=tmp_path / "b.csv", batch_size=2), cancel=cancel
        )
    assert not (tmp_path / "b.csv").exists()


def test_request_from_the_job_spec_zonal_section(tmp_path, grid_tif):
    from eeextract_plugin.core.spec import Zonal

    src = write_vector(tmp_path / "z.gpkg", [({"zone": 4}, box(*px_box(1, 2, 4, 5)))])
    section = Zonal.from_dict(
        {
            "polygons": str(src),
            "id_field": "zone",
            "statistics": ["mean", "p90"],
            "engine": "exactextract",
            "output": "tables",
        }
    )
    req = ZonalRequest.from_spec(section, grid_tif)
    assert req.csv_path == tmp_path / "tables" / "grid_zonal.csv"
    assert req.gpkg_path == tmp_path / "tables" / "grid_zonal.gpkg"
    result = run_zonal(req)
    assert num(read_csv(result.csv_path)["4"]["b1_mean"]) == pytest.approx(32)
    only_csv = ZonalRequest.from_spec({**section.to_dict(), "output": "t.csv"}, grid_tif)
    assert only_csv.gpkg_path is None and only_csv.csv_path == tmp_path / "t.csv"
    from eeextract_plugin.core.zonal import run_for_job  # what core/runner.py calls

    hooked = run_for_job(grid_tif, section)
    assert hooked.csv_path == str(tmp_path / "tables" / "grid_zonal.csv")
    assert hooked.zones == 1 and hooked.zones_with_data == 1
    default = ZonalRequest.from_spec(
        {**section.to_dict(), "output": None}, grid_tif, tmp_path / "o"
    )
    assert default.csv_path == tmp_path / "o" / "grid_zonal.csv"


# ------------------------------------------------------------------------------ bad input
def _raises(match, tmp_path, raster, zones, **kw):
    with pytest.raises(ZonalError, match=match) as info:
        run_zonal(ZonalRequest(raster, zones, csv_path=tmp_path / "x.csv", **kw))
    assert "\n" not in str(info.value)
    return str(info.value)


def test_bad_input_gives_one_clear_line_naming_it(tmp_path, grid_tif):
    good = write_vector(tmp_path / "z.gpkg", [({"zone": 1}, box(*px_box(0, 0, 1, 1)))])
    msg = _raises("id field 'code' not found", tmp_path, grid_tif, str(good), id_field="code")
    assert "fields are: zone" in msg
    _raises("no id field given", tmp_path, grid_tif, str(good))
    dup = write_vector(
        tmp_path / "dup.gpkg",
        [({"zone": 1}, box(*px_box(0, 0, 1, 1))), ({"zone": 1}, box(*px_box(1, 0, 2, 1)))],
    )
    _raises("duplicate id 1 in field 'zone'", tmp_path, grid_tif, str(dup), id_field="zone")
    _raises(
        "duplicate id 'a'", tmp_path, grid_tif, [("a", box(0, 0, 1, 1)), ("a", box(0, 0, 2, 2))]
    )
    empty = write_vector(tmp_path / "empty.gpkg", [])
    _raises("is empty", tmp_path, grid_tif, str(empty), id_field="zone")
    far = write_vector(tmp_path / "far.gpkg", [({"zone": 1}, box(0, 0, 1, 1))])
    _raises("do not overlap raster", tmp_path, grid_tif, str(far), id_field="zone")
    _raises(
        "unknown statistic 'avrage'",
        tmp_path,
        grid_tif,
        str(good),
        id_field="zone",
        statistics=["mean", "avrage"],
    )
    _raises(
        "unknown zonal engine 'gdal'", tmp_path, grid_tif, str(good), id_field="zone", engine="gdal"
    )
    _raises(
        "percentile must be between 0 and 100",
        tmp_path,
        grid_tif,
        str(good),
        id_field="zone",
        statistics=["p101"],
    )
    pts = write_vector(
        tmp_path / "pts.gpkg", [({"zone": 1}, box(0, 0, 1, 1).centroid)], geom_type=ogr.wkbPoint
    )
    _raises(
        "has Point geometries; zonal statistics need polygons",
        tmp_path,
        grid_tif,
        str(pts),
        id_field="zone",
    )
    _raises(
        "raster .*nothing.tif: no such file",
        tmp_path,
        tmp_path / "nothing.tif",
        str(good),
        id_field="zone",
    )
    nulls = write_vector(tmp_path / "nulls.gpkg", [({"zone": None}, box(*px_box(0, 0, 1, 1)))])
    _raises("has no id", tmp_path, grid_tif, str(nulls), id_field="zone")
    assert not (tmp_path / "x.csv").exists()


def test_layer_choice_in_a_multi_layer_file(tmp_path, grid_tif):
    path = tmp_path / "two.gpkg"
    write_vector(path, [({"zone": 1}, box(*px_box(0, 0, 1, 1)))], layer="first")
    write_vector(path, [({"zone": 2}, box(*px_box(1, 0, 2, 1)))], layer="second")
    _raises(
        "has 2 layers \\(first, second\\); name the one to use",
        tmp_path,
        grid_tif,
        str(path),
        id_field="zone",
    )
    _raises(
        "no layer 'third'; layers are: first, second",
        tmp_path,
        grid_tif,
        str(path),
        id_field="zone",
        layer="third",
    )
    _raises(
        "no band named 'nir'; bands are: b1",
        tmp_path,
        grid_tif,
        str(path),
        id_field="zone",
        layer="first",
        bands=["nir"],
    )
    _, rows = zonal(
        tmp_path,
        grid_tif,
        str(path),
        "exactextract",
        stats=["mean"],
        id_field="zone",
        layer="second",
    )
    assert list(rows) == ["2"] and num(rows["2"]["b1_mean"]) == 1


def test_geometry_inputs_the_dock_may_hand_over():
    import json

    import shapely

    from eeextract_plugin.core.zonal.zones import to_geometry

    g = box(0, 0, 2, 1)

    class QByteArrayLike:  # what QgsGeometry.asWkb() returns: .data() gives the bytes
        def data(self):
            return g.wkb

    class GeoInterface:
        __geo_interface__ = json.loads(shapely.to_geojson(g))

    for value in (
        g,
        g.wkb,
        bytearray(g.wkb),
        memoryview(g.wkb),
        g.wkt,
        GeoInterface(),
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(g))},
        QByteArrayLike(),
    ):
        assert shapely.from_wkb(to_geometry(value).wkb).equals(g), value


def test_statistic_aliases_are_accepted():
    from eeextract_plugin.core.zonal import parse_statistics

    names = [s.name for s in parse_statistics("std, percentile_25 mode unique p2.5 MEAN")]
    assert names == ["stddev", "p25", "majority", "variety", "p2.5", "mean"]
