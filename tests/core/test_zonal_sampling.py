"""Raster values at points: which pixel a point falls in, nodata, outside, reprojection, and
the CSV / GeoPackage written. Values are known from how the raster was made."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr, osr
from shapely.geometry import Point, box

from eeextract_plugin.core.zonal import SampleRequest, ZonalError, run_sampling

X0, Y0, PX, EPSG, NODATA = 300000.0, 5000000.0, 20.0, 32633, -1.0


def write_raster(path: Path, bands, block=None) -> Path:
    rows, cols = bands[0].shape
    opts = [f"BLOCKXSIZE={block}", f"BLOCKYSIZE={block}", "TILED=YES"] if block else []
    ds = gdal.GetDriverByName("GTiff").Create(
        str(path), cols, rows, len(bands), gdal.GDT_Float32, opts
    )
    ds.SetGeoTransform((X0, PX, 0.0, Y0, 0.0, -PX))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    for i, arr in enumerate(bands, start=1):
        ds.GetRasterBand(i).WriteArray(arr)
        ds.GetRasterBand(i).SetNoDataValue(NODATA)
    ds = None
    return path


def at(col: float, row: float) -> Point:
    """The point at pixel coordinates (col, row); (c + 0.5, r + 0.5) is pixel (r, c)'s centre."""
    return Point(X0 + col * PX, Y0 - row * PX)


def grid(rows=40, cols=50) -> np.ndarray:
    a = (np.arange(rows)[:, None] * 1000 + np.arange(cols)[None, :]).astype(np.float32)
    a[3, 4] = NODATA
    return a


def read(path):
    with open(path, newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def test_points_take_the_value_of_the_pixel_they_fall_in(tmp_path):
    g = grid()
    tif = write_raster(
        tmp_path / "g.tif", [g, np.where(g == NODATA, NODATA, g * 2)], block=16
    )  # several blocks are read
    points = [
        ("centre", at(7.5, 2.5)),  # pixel (2, 7) = 2007
        ("corner", at(7.0, 2.0)),  # top-left corner of pixel (2, 7) belongs to it
        ("far", at(49.9, 39.9)),  # last pixel (39, 49) = 39049
        ("nodata", at(4.5, 3.5)),
        ("outside", at(-0.5, 1.5)),
        ("right_edge", at(50.0, 1.5)),  # on the raster's outer edge: no pixel there
    ]
    result = run_sampling(
        SampleRequest(tif, points, csv_path=tmp_path / "s.csv", gpkg_path=tmp_path / "s.gpkg")
    )
    rows = read(tmp_path / "s.csv")
    assert list(rows["centre"]) == ["id", "x", "y", "b1", "b2", "sample_status"]
    assert float(rows["centre"]["b1"]) == 2007 and float(rows["centre"]["b2"]) == 4014
    assert float(rows["corner"]["b1"]) == 2007
    assert float(rows["far"]["b1"]) == 39049
    assert float(rows["centre"]["x"]) == pytest.approx(X0 + 7.5 * PX)
    for zid, status in (("nodata", "nodata"), ("outside", "outside"), ("right_edge", "outside")):
        assert rows[zid]["b1"] == "" and rows[zid]["sample_status"] == status
    assert result.points == 6 and result.sampled == 3
    assert result.outside == ["outside", "right_edge"] and result.nodata == ["nodata"]

    ds = ogr.Open(str(tmp_path / "s.gpkg"))
    lyr = ds.GetLayer(0)
    feats = {f.GetField("id"): (f.GetField("b1"), f.GetGeometryRef().GetX()) for f in lyr}
    lyr = None
    ds = None
    assert feats["far"][0] == 39049 and feats["nodata"][0] is None
    assert feats["centre"][1] == pytest.approx(X0 + 7.5 * PX)


def test_points_from_a_file_in_another_crs(tmp_path):
    from pyproj import Transformer

    tif = write_raster(tmp_path / "g.tif", [grid()])
    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    path = tmp_path / "pts.gpkg"
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lyr = ds.CreateLayer("pts", srs, ogr.wkbPoint)
    lyr.CreateField(ogr.FieldDefn("site", ogr.OFTString))
    for name, (c, r) in {"a": (10.5, 20.5), "b": (0.5, 0.5)}.items():
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("site", name)
        lon, lat = to_ll.transform(*at(c, r).coords[0])
        f.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({lon} {lat})"))
        lyr.CreateFeature(f)
    f = lyr = None
    ds = None
    run_sampling(SampleRequest(tif, str(path), id_field="site", csv_path=tmp_path / "s.csv"))
    with open(tmp_path / "s.csv", newline="") as fh:
        rows = {r["site"]: r for r in csv.DictReader(fh)}
    assert float(rows["a"]["b1"]) == 20010 and float(rows["b"]["b1"]) == 0
    assert float(rows["a"]["x"]) < 180  # coordinates stay in the points' CRS


def test_sampling_bad_input(tmp_path):
    tif = write_raster(tmp_path / "g.tif", [grid()])
    with pytest.raises(ZonalError, match="do not overlap raster"):
        run_sampling(SampleRequest(tif, [(1, Point(0, 0))], csv_path=tmp_path / "x.csv"))
    with pytest.raises(ZonalError, match="duplicate id 1"):
        run_sampling(
            SampleRequest(tif, [(1, at(1, 1)), (1, at(2, 2))], csv_path=tmp_path / "x.csv")
        )
    result = run_sampling(
        SampleRequest(
            tif,
            [(1, at(1, 1)), (2, box(*at(1, 2).coords[0], *at(2, 1).coords[0]))],
            csv_path=tmp_path / "y.csv",
        )
    )
    assert result.invalid == {2: "Polygon is not a point"}
