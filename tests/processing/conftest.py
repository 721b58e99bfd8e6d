"""Fixtures of the Processing tests: the provider registered once, small rasters and zones."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


_PROVIDERS = []  # Python providers must stay referenced while registered


@pytest.fixture(autouse=True)
def canvas_with_a_crs(qgis_canvas):
    """The map canvas has a CRS, as QGIS's always has (the project's). Processing builds every
    run's expression context from the canvas (``dataobjects.createExpressionContext``); with
    pytest-qgis's bare canvas that asked PROJ for the operation of an empty CRS, and PROJ printed
    "proj_create: unrecognized format / unknown name" on stderr at every run."""
    from qgis.core import QgsCoordinateReferenceSystem

    if not qgis_canvas.mapSettings().destinationCrs().isValid():
        qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))


@pytest.fixture()
def eeextract_provider(qgis_processing):
    """The EE Extract provider in the processing registry (as the plugin's initProcessing does),
    registered on first use and again if a test unregistered it."""
    from qgis.core import QgsApplication

    from eeextract_plugin.processing.provider import EEExtractProvider

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("eeextract")
    if provider is None:
        provider = EEExtractProvider()
        _PROVIDERS.append(provider)
        assert registry.addProvider(provider)
    return provider


def write_raster(path, values, origin=(500000.0, 4600000.0), pixel=10.0, epsg=32633, nodata=None):
    """A GeoTIFF of ``values`` (bands × rows × cols or rows × cols), north-up."""
    import numpy as np
    from osgeo import gdal, osr

    array = np.asarray(values, dtype="float32")
    if array.ndim == 2:
        array = array[None]
    bands, rows, cols = array.shape
    ds = gdal.GetDriverByName("GTiff").Create(str(path), cols, rows, bands, gdal.GDT_Float32)
    ds.SetGeoTransform((origin[0], pixel, 0.0, origin[1], 0.0, -pixel))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    for i in range(bands):
        band = ds.GetRasterBand(i + 1)
        band.WriteArray(array[i])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds.FlushCache()
    ds = None
    return str(path)


def write_polygons(path, polygons, epsg=32633, id_field="zone", geometry="Polygon"):
    """A GeoPackage layer of ``{id: wkt}``."""
    from osgeo import ogr, osr

    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    kind = {"Polygon": ogr.wkbPolygon, "Point": ogr.wkbPoint}[geometry]
    layer = ds.CreateLayer("zones", srs, kind)
    layer.CreateField(ogr.FieldDefn(id_field, ogr.OFTString))
    for zid, wkt in polygons.items():
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField(id_field, str(zid))
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    ds = None
    return str(path)


def box(xmin, ymin, xmax, ymax):
    return f"POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},{xmin} {ymin}))"


@pytest.fixture()
def helpers():
    class H:
        pass

    H.write_raster = staticmethod(write_raster)
    H.write_polygons = staticmethod(write_polygons)
    H.box = staticmethod(box)
    return H
