"""Never silently wrong (issue 16): each fault a probe found, end to end through the real ``ee``
client against the sandbox. Each test failed on the code before the fix."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from eeextract_plugin.core.runner import run_job
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec


@pytest.fixture(autouse=True)
def restore_client_retries():
    yield
    import ee

    ee.data.setMaxRetries(5)


@pytest.fixture()
def session(sandbox_url):
    return initialise(SessionConfig(url=sandbox_url, credentials="none", project="sandbox"))


def pixels(path) -> np.ndarray:
    from osgeo import gdal

    ds = gdal.Open(str(path))
    arr = ds.ReadAsArray()
    ds = None
    return arr


def fields_file(path: Path, ids) -> Path:
    """Square fields of equal size in different places of the sandbox DEM, one per id."""
    feats = []
    for n, fid in enumerate(ids):
        x0, y0 = -8.5 + 0.05 * n, 38.3 + 0.02 * n
        ring = [[x0, y0], [x0 + 0.03, y0], [x0 + 0.03, y0 + 0.03], [x0, y0 + 0.03], [x0, y0]]
        feats.append({"type": "Feature", "properties": {"fid": fid}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def features_spec(region_file: Path, out: Path) -> JobSpec:
    return JobSpec.from_dict({
        "version": 1, "name": "fields", "kind": "features",
        "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": {"type": "file", "path": str(region_file), "id_field": "fid"},
        "output": {"directory": str(out), "format": "GEO_TIFF"},
        "execution": {"tile_size": 64, "max_concurrent_requests": 8}})


# ---------------------------------------------------------------------------- fault 1
def test_dotted_output_ids_each_get_their_own_pixels(session, tmp_path):
    """Ids ``plot.1``, ``plot.2``, ``plot.3`` once staged into one ``plot.raw``: the job said
    completed, 3/3 files, all holding one plot's pixels."""
    dotted = run_job(features_spec(fields_file(tmp_path / "d.geojson", ["plot.1", "plot.2", "plot.3"]),
                                   tmp_path / "dotted"), session, workdir=tmp_path / "w")
    plain = run_job(features_spec(fields_file(tmp_path / "p.geojson", ["p1", "p2", "p3"]),
                                  tmp_path / "plain"), session, workdir=tmp_path / "w")
    assert dotted.ok and plain.ok, (dotted.message, plain.message)
    assert sorted(Path(p).name for p in dotted.rasters) == [f"fields_plot.{i}.tif" for i in (1, 2, 3)]
    for i in (1, 2, 3):
        got = pixels(tmp_path / "dotted" / f"fields_plot.{i}.tif")
        want = pixels(tmp_path / "plain" / f"fields_p{i}.tif")
        assert np.array_equal(got, want), f"plot.{i} does not hold its own pixels"
    assert not np.array_equal(pixels(tmp_path / "plain" / "fields_p1.tif"),
                              pixels(tmp_path / "plain" / "fields_p3.tif"))


# ---------------------------------------------------------------------------- faults 2 and 3
def expression_collection_spec(ee, images, out: Path, name: str = "consts") -> JobSpec:
    expr = ee.serializer.encode(ee.ImageCollection.fromImages(images), for_cloud_api=True)
    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": "collection",
        "source": {"type": "expression", "expression": expr},
        "region": {"type": "bbox", "bbox": [10.0, 45.0, 10.01, 45.01]},
        "grid": {"crs": "EPSG:4326", "scale": 0.001},
        "output": {"directory": str(out), "format": "GEO_TIFF"}})


def test_images_without_ids_are_each_their_own_output_not_the_median(session, tmp_path):
    """``ImageCollection.fromImages`` of two constants 1 and 5: once two files of 3 (the
    collection's median), or one file when the images carry no ``system:index``."""
    ee = session.ee
    spec = expression_collection_spec(ee, [ee.Image.constant(1), ee.Image.constant(5)], tmp_path / "out")
    result = run_job(spec, session, workdir=tmp_path / "w")
    assert result.ok, result.message
    assert len(result.rasters) == 2
    values = sorted(np.unique(pixels(p)).tolist() for p in result.rasters)
    assert values == [[1], [5]]


def test_a_servers_system_index_never_writes_outside_the_output_folder(session, tmp_path):
    """A user's expression can set ``system:index`` to ``../../../../X``: once a GeoTIFF four
    folders up."""
    ee = session.ee
    out = tmp_path / "a" / "b" / "c" / "d" / "out"
    images = [ee.Image.constant(1).set("system:index", "../../../../X"),
              ee.Image.constant(5).set("system:index", "..\\..\\X"),
              ee.Image.constant(7).set("system:index", "../../../../X")]  # the same again
    result = run_job(expression_collection_spec(ee, images, out), session, workdir=tmp_path / "w")
    assert result.ok, result.message
    written = sorted(p for p in tmp_path.rglob("*.tif"))
    assert len(written) == 3 and all(p.parent == out for p in written), written
    assert sorted(np.unique(pixels(p)).item() for p in written) == [1, 5, 7]


# ---------------------------------------------------------------------------- fault 6
ROOT = Path(__file__).resolve().parents[2]


def cli(*args, timeout=120):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                          timeout=timeout)


def dem_job(tmp_path: Path, **over) -> Path:
    d = {"version": 1, "name": "dem", "kind": "mosaic", "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
         "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.3, 38.4]}, "output": {"directory": str(tmp_path / "out")}}
    d.update(over)
    path = tmp_path / "job.json"
    path.write_text(json.dumps(d))
    return path


@pytest.mark.parametrize("over, words", [
    ({"grid": {"crs": "EPSG:4326", "scale": 2.1e-7}, "execution": {"tile_size": 16}},
     "more than 500,000 work units"),
    ({"kind": "chips", "region": {"type": "geometry", "geometry": {"type": "Point", "coordinates": [-8.4, 38.35]}},
      "output": {"chip_size": 1000000000}}, "output.chip_size: at most 32,768 px a side"),
])
def test_planning_a_monstrous_job_answers_at_once_with_one_line(sandbox_url, tmp_path, over, words):
    """Once ``chip_size: 1e9`` hung for 90 s and ``scale 2.1e-7`` with ``tile_size 16`` grew past
    1.9 GB, even ``eeextract plan``: tiles were listed before any size check."""
    job = dem_job(tmp_path, **over)
    r = cli("plan", str(job), "--url", sandbox_url, "--project", "sandbox", timeout=60)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and words in r.stderr, r.stderr


def test_the_huge_job_question_comes_before_any_unit_is_made(sandbox_url, tmp_path, monkeypatch, capsys):
    from eeextract_plugin.cli.main import main
    from eeextract_plugin.core import plan

    def no_units(self, first_seq):
        raise AssertionError("a unit was made before the huge-job question")

    monkeypatch.setattr(plan.Tiling, "units", no_units)
    ring = [[-20.0, 20.0], [20.0, 20.0], [0.0, 60.0], [-20.0, 20.0]]  # tiles are tested against it
    job = dem_job(tmp_path, region={"type": "geometry", "geometry": {"type": "Polygon", "coordinates": [ring]}})
    code = main(["run", str(job), "--url", sandbox_url, "--project", "sandbox", "--workdir", str(tmp_path / "w"),
                 "--no-progress"])
    assert code == 3, capsys.readouterr()
    assert "--yes" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_counted_figures_equal_the_units_made():
    from shapely.geometry import Polygon

    from eeextract_plugin.core.grid import PixelGrid
    from eeextract_plugin.core.plan import PlannedUnits, Tiling

    grid = PixelGrid("EPSG:4326", (0.001, 0, 0, 0, -0.001, 1), 3000, 1000)
    tri = Polygon([(0, 0), (3, 0), (1.5, 1)])
    units = PlannedUnits([Tiling("a", grid, 256, tri), Tiling("b", grid, 0), Tiling("c", grid, 300)])
    made = list(units)
    assert units.stats() == (len(made), sum(u.pixels for u in made), max(u.pixels for u in made))
    assert [u.seq for u in made] == list(range(len(made)))
    assert len({u.unit_id for u in made}) == len(made)
    assert sum(u.output_id == "a" for u in made) < 12 * 4  # tiles outside the triangle are left out


# ---------------------------------------------------------------------------- fault 8
def spec_dict(**over):
    d = {"version": 1, "name": "x", "kind": "mosaic", "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
         "region": {"type": "bbox", "bbox": [-8.5, 38.3, -8.3, 38.4]}}
    d.update(over)
    return d


@pytest.mark.parametrize("over, field, words", [
    ({"source": {"type": "asset", "asset_id": "../../etc/passwd"}}, "source.asset_id", "not an Earth Engine asset ID"),
    ({"source": {"type": "asset", "asset_id": "projects/p/assets/../x"}}, "source.asset_id", "not an Earth Engine"),
    ({"region": {"bbox": [10, 40, 11, 91]}}, "region.bbox", "latitude 91 is beyond ±90°"),
    ({"region": {"bbox": [179, 40, 181, 41]}}, "region.bbox", "longitude 181 is beyond ±180°"),
    ({"region": {"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 95], [0, 0]]]}}},
     "region.geometry", "latitude 95"),
    ({"region": {"geometry": {"type": "Polygon", "coordinates": [[[179, 0], [-179, 0], [-179, 1], [179, 1], [179, 0]]]}}},
     "region.geometry", "crosses the antimeridian"),
    ({"output": {"name": ".."}}, "output.name", "'..'"),
    ({"output": {"name": "   "}}, "output.name", "blank"),
    ({"output": {"name": "a\nb"}}, "output.name", "line breaks"),
    ({"output": {"name": "../up"}}, "output.name", "must not hold"),
])
def test_small_hostile_inputs_are_refused_naming_the_field(over, field, words):
    from eeextract_plugin.core.spec import SpecError

    with pytest.raises(SpecError) as err:
        JobSpec.from_dict(spec_dict(**over))
    assert err.value.field == field and words in err.value.reason, str(err.value)


def test_coordinates_beyond_90_are_fine_in_a_projected_crs():
    s = JobSpec.from_dict(spec_dict(region={"bbox": [500000, 4000000, 510000, 4010000], "crs": "EPSG:32629"}))
    assert s.region.bbox[3] == 4010000


def test_an_antimeridian_polygon_split_in_two_is_planned_as_two_small_pieces():
    """The documented way across the antimeridian: a MultiPolygon split at ±180° (in a CRS where
    it is one piece, e.g. EPSG:3832, the grid is compact)."""
    from eeextract_plugin.core.plan import build_plan
    from eeextract_plugin.core.regions import read_region
    from eeextract_plugin.core.source import BandInfo, SourceInfo

    split = {"type": "MultiPolygon", "coordinates": [[[[179, 0], [180, 0], [180, 1], [179, 1], [179, 0]]],
                                                     [[[-180, 0], [-179, 0], [-179, 1], [-180, 1], [-180, 0]]]]}
    s = JobSpec.from_dict(spec_dict(kind="mosaic", region={"geometry": split},
                                    grid={"crs": "EPSG:3832", "scale": 1000}))
    plan = build_plan(s, SourceInfo([BandInfo("b", "int16", None)], None), read_region(s.region))
    (out,) = plan.outputs
    assert out.grid.width < 300  # about 222 km wide, not the globe round


@pytest.mark.parametrize("nodata, ok", [(1e300, False), (40000, False), (-32768, True), (1.5, False), (-9999, True)])
def test_nodata_outside_the_output_type_is_refused_not_clamped(nodata, ok):
    from eeextract_plugin.core.plan import build_plan
    from eeextract_plugin.core.regions import read_region
    from eeextract_plugin.core.source import BandInfo, SourceInfo
    from eeextract_plugin.core.spec import SpecError

    s = JobSpec.from_dict(spec_dict(output={"nodata": nodata}, grid={"crs": "EPSG:4326", "scale": 0.01}))
    info = SourceInfo([BandInfo("elevation", "int16", None)], None)
    if ok:
        assert build_plan(s, info, read_region(s.region)).outputs
        return
    with pytest.raises(SpecError) as err:
        build_plan(s, info, read_region(s.region))
    assert err.value.field == "output.nodata" and "int16" in err.value.reason


def test_a_unit_is_recorded_done_only_after_its_bytes_are_flushed_to_disk(session, tmp_path, monkeypatch):
    """Durability (docs/job-spec.md): units are recorded in batches, each after an fsync of the
    staging files they wrote, so what the registry calls done survives a power cut too."""
    from eeextract_plugin.core import registry as reg
    from eeextract_plugin.core.writer import StagingRaster

    events: list = []
    real_sync, real_mark, real_mark_one = StagingRaster.sync, reg.Registry.mark_units_done, reg.Registry.mark_unit

    def sync(self):
        events.append(("sync", self.raw_path.name))
        return real_sync(self)

    def mark_units_done(self, job_id, done):
        events.append(("mark", [u for u, _, _ in done]))
        return real_mark(self, job_id, done)

    def mark_unit(self, job_id, unit_id, state, **kw):
        assert state != reg.DONE, "a unit recorded done on its own, without a flush"
        return real_mark_one(self, job_id, unit_id, state, **kw)

    monkeypatch.setattr(StagingRaster, "sync", sync)
    monkeypatch.setattr(reg.Registry, "mark_units_done", mark_units_done)
    monkeypatch.setattr(reg.Registry, "mark_unit", mark_unit)
    spec = features_spec(fields_file(tmp_path / "f.geojson", ["a", "b"]), tmp_path / "out")
    result = run_job(spec, session, workdir=tmp_path / "w")
    assert result.ok, result.message
    marked = [u for kind, units in events if kind == "mark" for u in units]
    assert sorted(marked) == sorted(u for u in marked) and len(marked) == result.units_done
    last = 0
    for i, (kind, what) in enumerate(events):
        if kind != "mark":
            continue
        outputs = {u.split("/")[0] for u in what}
        synced = {name for k, name in events[last:i] if k == "sync"}
        assert {f"{o}.raw" for o in outputs} <= synced, (what, events[last:i])
        last = i
    assert sum(kind == "mark" for kind, _ in events) < len(marked)  # batches, not one per unit


def test_the_unit_cap_counts_the_tiles_that_touch_the_region_not_its_box():
    from shapely.geometry import Polygon

    from eeextract_plugin.core.plan import PlanError, RequestLimits, build_plan
    from eeextract_plugin.core.regions import RegionFeature
    from eeextract_plugin.core.source import BandInfo, SourceInfo

    tri = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]  # half its box
    s = JobSpec.from_dict(spec_dict(region={"geometry": {"type": "Polygon", "coordinates": [tri]}},
                                    grid={"crs": "EPSG:4326", "scale": 0.01}, execution={"tile_size": 10}))
    feats = [RegionFeature("0", Polygon(tri), "EPSG:4326")]
    info = SourceInfo([BandInfo("b", "int16", None)], None)
    # 100 tiles in the box; 55 hold part of the triangle (those along the diagonal that only
    # meet it at a corner hold none of its pixels and are not fetched).
    plan = build_plan(s, info, feats, RequestLimits(max_units=55))
    assert len(plan.units) == 55
    with pytest.raises(PlanError, match="more than 54 work units .55 tiles touch the region"):
        build_plan(s, info, feats, RequestLimits(max_units=54))
    with pytest.raises(PlanError, match="more than 20 work units"):
        build_plan(s, info, feats, RequestLimits(max_units=20))  # the box alone: not even counted
