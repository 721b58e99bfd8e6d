"""Results as layers: a group named after the job, RGB or a colour ramp, tables joinable."""

from __future__ import annotations

import csv
import json

from eeextract_plugin.core.results import JobResult


def test_rasters_load_in_a_group_named_after_the_job_and_are_styled(qgis_new_project, tmp_path, make_geotiff):
    from qgis.core import QgsMultiBandColorRenderer, QgsProject, QgsSingleBandPseudoColorRenderer

    from eeextract_plugin import layers

    rgb = make_geotiff(tmp_path / "rgb.tif", 3)
    dem = make_geotiff(tmp_path / "dem.tif", 1)
    project = QgsProject.instance()
    loaded = layers.load_results(project, "my job", JobResult("job-1", "completed", rasters=[str(rgb), str(dem)]), job_id="job-1")
    assert len(loaded) == 2
    group = project.layerTreeRoot().findGroup("my job")
    assert group is not None and len(group.findLayers()) == 2
    by_name = {lyr.name(): lyr for lyr in loaded}
    assert isinstance(by_name["rgb"].renderer(), QgsMultiBandColorRenderer)
    ramp = by_name["dem"].renderer()
    assert isinstance(ramp, QgsSingleBandPseudoColorRenderer)
    assert ramp.classificationMin() < ramp.classificationMax()
    assert by_name["dem"].customProperty(layers.JOB_PROPERTY) == "job-1"
    # Loading again (reopening the dock's results) does not duplicate layers.
    assert layers.load_results(project, "my job", JobResult("job-1", "completed", rasters=[str(rgb), str(dem)]), job_id="job-1") == []


def test_a_zonal_table_loads_and_joins_to_the_zones(qgis_new_project, tmp_path):
    from qgis.core import QgsProject, QgsVectorLayer

    from eeextract_plugin import layers

    zones_path = tmp_path / "zones.geojson"
    zones_path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"zone": "a"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}},
        {"type": "Feature", "properties": {"zone": "b"},
         "geometry": {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}},
    ]}))
    table_path = tmp_path / "dem_zonal.csv"
    with open(table_path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["zone", "mean", "max"])
        w.writerow(["a", "10.5", "20"])
        w.writerow(["b", "30.25", "40"])
    project = QgsProject.instance()
    zones = QgsVectorLayer(str(zones_path), "zones", "ogr")
    project.addMapLayer(zones)
    table = layers.load_results(project, "zonal job", JobResult("j", "completed", tables=[str(table_path)]), job_id="j")[0]
    assert table.featureCount() == 2
    assert layers.join_table_to_zones(zones, table, "zone")
    joined = {f["zone"]: f[f"{table.name()}_mean"] for f in zones.getFeatures()}
    assert joined == {"a": 10.5, "b": 30.25}


def test_chips_are_indexed_by_a_footprint_layer(qgis_new_project, tmp_path, make_geotiff):
    """The engine's footprint index (core.postprocess) stands for many chips; PNG chips, which
    carry no georeferencing, are indexed from their grids like the others."""
    from qgis.core import QgsProject

    from eeextract_plugin import layers
    from eeextract_plugin.core.postprocess import footprints, write_index, write_vrt
    from eeextract_plugin.core.registry import OutputRecord

    chips = [make_geotiff(tmp_path / f"chip_{i}.tif", 3, 8, 8, origin=(7 + i, 46), pixel=0.1)
             for i in range(3)]
    png = tmp_path / "chip_3.png"
    png.write_bytes(b"not read: the index comes from the grid")
    grids = [{"crs": "EPSG:4326", "transform": [0.1, 0, 7 + i, 0, -0.1, 46], "width": 8, "height": 8}
             for i in range(4)]
    records = [OutputRecord("c", str(i), str(p), "done", {"grid": g, "fetch": "NPY"}, None)
               for i, (p, g) in enumerate(zip([*chips, png], grids))]
    index = write_index(footprints(records), tmp_path / "chips-index.gpkg")
    vrt = write_vrt([str(c) for c in chips], tmp_path / "chips-mosaic.vrt")
    result = JobResult("c", "completed", rasters=[str(c) for c in chips] + [str(png)], index=index, vrt=vrt)
    loaded = layers.load_results(QgsProject.instance(), "chips", result, job_id="c", max_rasters=2)
    footprint_layers = [lyr for lyr in loaded if lyr.name() == "chips footprints"]
    assert len(footprint_layers) == 1 and footprint_layers[0].featureCount() == 4
    assert footprint_layers[0].crs().authid() == "EPSG:4326"
    # Drawn as outlines above the rasters (the first child of the job's group is drawn on top):
    # the footprints never hide the pixels they index.
    from qgis.PyQt.QtCore import Qt

    symbol = footprint_layers[0].renderer().symbol()
    assert symbol.symbolLayer(0).brushStyle() == Qt.NoBrush
    assert symbol.symbolLayer(0).strokeStyle() == Qt.SolidLine
    group = QgsProject.instance().layerTreeRoot().findGroup("chips")
    order = [node.layer() for node in group.findLayers()]
    assert order.index(footprint_layers[0]) < min(order.index(lyr) for lyr in loaded if lyr.type() == lyr.RasterLayer)
    paths = sorted(f["file"] for f in footprint_layers[0].getFeatures())
    assert paths == sorted([str(c) for c in chips] + [str(png)])
    # More chips than max_rasters: the index and the VRT stand for them, no raster layer per chip.
    assert all(lyr.name() != "chip_0" for lyr in loaded)
    assert any(lyr.source() == vrt for lyr in loaded)


def test_project_records_jobs_without_secrets(qgis_new_project, tmp_path):
    from qgis.core import QgsProject

    from eeextract_plugin import project_jobs

    project = QgsProject.instance()
    project_jobs.record_job(project, project_jobs.ProjectJob("j1", "one", "/x/j1.json", "/x/.eeextract", ["/x/a.tif"]))
    project_jobs.record_job(project, project_jobs.ProjectJob("j1", "one", "/x/j1.json", "/x/.eeextract", ["/x/b.tif"]))
    path = tmp_path / "p.qgs"
    assert project.write(str(path))
    text = path.read_text()
    assert "j1" in text and "private_key" not in text and "authcfg" not in text
    project.clear()
    assert project.read(str(path))
    jobs = project_jobs.read_jobs(project)
    assert [(j.job_id, j.outputs) for j in jobs] == [("j1", ["/x/b.tif"])]
