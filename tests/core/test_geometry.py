"""The core's geometry and CRS work is OGR/OSR's: checked against shapely + pyproj (kept in the
test environment as an independent reference), and shown to need neither."""

from __future__ import annotations

import math
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from eeextract_plugin.core.crs import CRS, crs_code, is_known_crs, same_crs, transform_bounds
from eeextract_plugin.core.geometry import Geometry, as_geometry, box, union_all
from eeextract_plugin.core.grid import GridError, grid_for_region, reproject

REPO = Path(__file__).resolve().parents[2]


def test_axis_order_is_x_y_for_geographic_crs():
    # EPSG:4326's official axis order is lat, lon; the core always speaks lon, lat.
    g = reproject(box(7.0, 46.0, 7.001, 46.001), "EPSG:4326", "EPSG:32632")
    x0, y0, _, _ = g.bounds
    assert 300_000 < x0 < 400_000 and 5_090_000 < y0 < 5_100_000
    back = reproject(g, "EPSG:32632", "EPSG:4326")
    assert back.bounds == pytest.approx((7.0, 46.0, 7.001, 46.001), abs=1e-7)


def test_reprojection_matches_pyproj_on_densified_edges():
    """Random polygons through OSR agree with pyproj's always_xy transform of the same
    densified vertices (both are PROJ; one datum, so no choice of operation between PROJ
    versions), vertex for vertex: the densifier is GEOS's, so grids come out as before."""
    shapely = pytest.importorskip("shapely")
    pyproj = pytest.importorskip("pyproj")
    rng = random.Random(7)
    t = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    for _ in range(20):
        x, y = rng.uniform(-5, 20), rng.uniform(40, 60)
        w, h = rng.uniform(0.1, 3), rng.uniform(0.1, 3)
        ours = reproject(box(x, y, x + w, y + h), "EPSG:4326", "EPSG:32632")
        ref = shapely.box(x, y, x + w, y + h)
        b = ref.bounds
        ref = shapely.segmentize(ref, max(b[2] - b[0], b[3] - b[1]) / 32)
        ref = shapely.transform(ref, lambda xy: __import__("numpy").column_stack(t.transform(xy[:, 0], xy[:, 1])))
        assert shapely.from_wkb(ours.wkb).equals_exact(ref, 1e-6)
        assert ours.bounds == pytest.approx(ref.bounds, abs=1e-6)


def test_edges_are_densified_before_reprojection():
    # A 60-degree wide box in Lambert azimuthal (centre 10 E): the bottom edge sags south
    # around 10 E; its corners alone miss that.
    g = reproject(box(-20, 50, 40, 60), "EPSG:4326", "EPSG:3035")
    corners = reproject(box(-20, 50, 40, 60), "EPSG:4326", "EPSG:3035", densify=1)
    assert len(g.to_geojson()["coordinates"][0]) == 2 * 32 + 2 * 6 + 1
    assert g.bounds[1] < corners.bounds[1] - 10_000


def test_unprojectable_region_is_a_grid_error():
    with pytest.raises(GridError):
        reproject(box(170, -10, 190, 10), "EPSG:4326", "EPSG:32632").bounds  # noqa: B018
        grid_for_region(reproject(box(-180, -90, 180, 90), "EPSG:4326", "EPSG:3857"), "EPSG:3857", scale=10)


def test_crs_identity_and_codes():
    assert crs_code("EPSG:32633") == "EPSG:32633"
    utm = CRS("EPSG:32633").to_wkt("WKT1")
    assert crs_code("+proj=utm +zone=33 +datum=WGS84 +units=m +no_defs") == "EPSG:32633"
    assert same_crs("EPSG:32633", utm)
    assert not same_crs("EPSG:32633", "EPSG:32632")
    assert is_known_crs("EPSG:3857") and not is_known_crs("EPSG:99999999") and not is_known_crs("nonsense")
    assert not is_known_crs("https://example.org/crs")  # never fetched
    b = transform_bounds("EPSG:4326", "EPSG:3857", (-10, -10, 10, 10))
    assert b == pytest.approx((-1113194.9, -1118889.97, 1113194.9, 1118889.97), abs=1)


def test_geometry_round_trips_and_union():
    poly = Geometry.from_geojson({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 1], [0, 0]]]})
    assert poly.geom_type == "Polygon" and poly.area == 1.0
    assert poly.to_geojson() == {"type": "Polygon", "coordinates": [[[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 0.0]]]}
    assert pickle.loads(pickle.dumps(poly)).wkb == poly.wkb
    assert as_geometry(poly.wkb_hex).wkb == poly.wkb and as_geometry(poly.wkt).wkb == poly.wkb
    u = union_all([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
    assert u.geom_type == "MultiPolygon" and u.area == pytest.approx(3.0)
    pts = union_all([Geometry.from_geojson({"type": "Point", "coordinates": [1, 2]})] * 2)
    assert pts.geom_type == "Point" and (pts.x, pts.y) == (1.0, 2.0)
    bowtie = Geometry.from_wkt("POLYGON ((0 0,1 1,1 0,0 1,0 0))")
    assert not bowtie.is_valid and "Self-intersection" in bowtie.validity_reason()
    assert bowtie.make_valid().area == pytest.approx(0.5)


def test_geometries_work_across_threads():
    """OSR transformations are per thread: many threads reprojecting at once agree."""
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> tuple:
        return reproject(box(7 + i * 1e-3, 46, 7.5, 46.5), "EPSG:4326", "EPSG:32632").bounds

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(64)))
    assert results == [work(i) for i in range(64)]
    assert all(math.isfinite(v) for r in results for v in r)


def test_the_core_needs_neither_shapely_nor_pyproj():
    """Every core module imports, and a job is planned, validated and written, in an interpreter
    where importing shapely or pyproj fails (as in a QGIS without them)."""
    code = r"""
import sys, importlib, pkgutil
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('shapely', 'pyproj', 'rasterstats', 'exactextract', 'rasterio'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
import eeextract_plugin.core as core
for m in pkgutil.walk_packages(core.__path__, 'eeextract_plugin.core.'):
    importlib.import_module(m.name)
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.core.regions import read_region
from eeextract_plugin.core.plan import build_plan
from eeextract_plugin.core.source import BandInfo, SourceInfo
from eeextract_plugin.core.grid import PixelGrid
spec = JobSpec.from_dict({"version": 1, "name": "t", "kind": "mosaic",
    "source": {"type": "asset", "asset_id": "X"},
    "region": {"type": "geometry", "geometry": {"type": "Polygon", "coordinates": [[[7, 46], [8, 46], [7, 47], [7, 46]]]}},
    "grid": {"crs": "EPSG:32632", "scale": 100}})
native = PixelGrid("EPSG:4326", (1e-3, 0, -180, 0, -1e-3, 90), 360000, 180000)
plan = build_plan(spec, SourceInfo([BandInfo("b", "int16", native)], native), read_region(spec.region))
assert plan.outputs[0].grid.crs == "EPSG:32632" and plan.units, plan
bad = [m for m in sys.modules if m.split('.')[0] in ('shapely', 'pyproj')]
assert not bad, bad
print("ok", plan.outputs[0].grid.width, plan.outputs[0].grid.height)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("ok")
