"""Zonal statistics: exactextract vs rasterstats on an 8,000 x 8,000 raster, and local vs
Earth Engine (reduceRegions through the sandbox) for the same zones.

Cases: (a) 1,000 mid-size polygons (radius 0.6-1.8 km, ~3,000-11,000 pixels each) and
(b) 20,000 small ones (radius 60-180 m, ~10-110 pixels each), irregular 12-gons scattered
over the raster. The raster: Int16, 30 m pixels in UTM 31N, tiled 512 x 512, DEFLATE (what a
mosaic looks like), a smooth field plus noise, 1 % nodata. Statistics: count, mean, min, max,
stddev, median; output: CSV. Each (engine, case) runs in its own process, so the time includes
opening the files and writing the CSV, and the peak memory (VmHWM) is that run's alone.

Environment: ``BENCH_ZONAL_SIZE`` (raster side, default 8000), ``BENCH_ZONAL_MID`` (default
1000), ``BENCH_ZONAL_SMALL`` (default 20000), ``BENCH_ZONAL_EE_ZONES`` (zones sent to the
sandbox, default 200), ``BENCH_ZONAL_REPEAT`` (runs per engine and case, the fastest is
shown; default 2), ``BENCH_ZONAL_POINTS`` (points sampled, default 100000; 0 skips),
``BENCH_ZONAL_DIR`` (keep the files there instead of a temp folder).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EPSG = 32631
X0, Y0, PX = 400000.0, 5000000.0, 30.0
STATS = ["count", "mean", "min", "max", "stddev", "median"]
NODATA = -32768


def make_raster(path: Path, size: int, seed: int = 1) -> Path:
    from osgeo import gdal, osr

    rng = np.random.default_rng(seed)
    opts = [
        "TILED=YES",
        "BLOCKXSIZE=512",
        "BLOCKYSIZE=512",
        "COMPRESS=DEFLATE",
        "PREDICTOR=2",
        "BIGTIFF=IF_SAFER",
    ]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), size, size, 1, gdal.GDT_Int16, opts)
    ds.SetGeoTransform((X0, PX, 0.0, Y0, 0.0, -PX))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    ds.SetProjection(srs.ExportToWkt())
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(NODATA)
    band.SetDescription("elev")
    cols = np.arange(size)
    for r0 in range(0, size, 512):
        rows = np.arange(r0, min(size, r0 + 512))
        field = (
            1000
            + 400 * np.sin(rows[:, None] / 300.0) * np.cos(cols[None, :] / 450.0)
            + 0.05 * cols[None, :]
        )
        block = (field + rng.normal(0, 25, field.shape)).astype(np.int16)
        block[rng.random(block.shape) < 0.01] = NODATA
        band.WriteArray(block, 0, int(r0))
    band = None
    ds = None
    return path


def make_zones(n: int, rmin: float, rmax: float, size: int, seed: int) -> List[Tuple[int, bytes]]:
    """Irregular 12-gons inside the raster, as (id, WKB) in the raster's CRS."""
    import shapely

    rng = np.random.default_rng(seed)
    extent = size * PX
    out = []
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    for i in range(n):
        r = rng.uniform(rmin, rmax)
        cx = X0 + rng.uniform(rmax, extent - rmax)
        cy = Y0 - rng.uniform(rmax, extent - rmax)
        radii = r * rng.uniform(0.7, 1.0, 12)
        ring = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        out.append((i + 1, shapely.to_wkb(shapely.Polygon(ring))))
    return out


def write_zones(path: Path, zones: List[Tuple[int, bytes]]) -> Path:
    from osgeo import ogr, osr

    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(EPSG)
    lyr = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    lyr.CreateField(ogr.FieldDefn("zone", ogr.OFTInteger))
    lyr.StartTransaction()
    for zid, wkb in zones:
        f = ogr.Feature(lyr.GetLayerDefn())
        f.SetField("zone", zid)
        f.SetGeometry(ogr.CreateGeometryFromWkb(wkb))
        lyr.CreateFeature(f)
    lyr.CommitTransaction()
    f = lyr = None
    ds = None
    return path


def sample_points(raster: Path, size: int, n: int, work: Path) -> float:
    from shapely.geometry import Point

    from eeextract_plugin.core.zonal import SampleRequest, run_sampling

    rng = np.random.default_rng(4)
    xs = X0 + rng.uniform(0, size * PX, n)
    ys = Y0 - rng.uniform(0, size * PX, n)
    points = [(i, Point(x, y)) for i, (x, y) in enumerate(zip(xs, ys))]
    t0 = time.perf_counter()
    run_sampling(SampleRequest(raster, points, csv_path=work / "points.csv"))
    return time.perf_counter() - t0


_CHILD = r"""
import json, resource, sys, time
from eeextract_plugin.core.zonal import ZonalRequest, run_zonal
raster, zones, engine, out = sys.argv[1:5]
stats = json.loads(sys.argv[5])
t0 = time.perf_counter()
result = run_zonal(ZonalRequest(raster, zones, id_field="zone", statistics=stats, engine=engine,
                                csv_path=out))
seconds = time.perf_counter() - t0
# VmHWM is this program's own peak (ru_maxrss would include the parent's, copied at fork).
try:
    with open("/proc/self/status") as fh:
        peak_kb = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "zones": result.zones, "maxrss_mb": peak_kb / 1024}))
"""


def run_engine(raster: Path, zones: Path, engine: str, out: Path) -> Dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(raster),
            str(zones),
            engine,
            str(out),
            json.dumps(STATS),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def read_stat(path: Path, stat: str = "mean") -> Dict[int, Optional[float]]:
    import csv

    with open(path, newline="") as fh:
        return {
            int(r["zone"]): (float(r[f"elev_{stat}"]) if r[f"elev_{stat}"] else None)
            for r in csv.DictReader(fh)
        }


def compare(a: Dict[int, Optional[float]], b: Dict[int, Optional[float]]) -> str:
    diffs = [
        abs(a[k] - b[k]) / max(abs(b[k]), 1e-9)
        for k in a
        if k in b and a[k] is not None and b[k] is not None
    ]
    if not diffs:
        return "no common zones"
    d = np.array(diffs)
    return (
        f"{len(d)} zones, relative difference median {np.median(d):.1e}, "
        f"p99 {np.percentile(d, 99):.1e}, max {d.max():.1e}"
    )


EE_STATS = ("mean", "count", "min", "max")


def earth_engine_stats(
    raster: Path, zones: List[Tuple[int, bytes]], limit: int
) -> Tuple[Optional[Dict[str, Dict[int, Optional[float]]]], str]:
    """reduceRegions (mean, count, min, max) of the same zones through the sandbox, as
    {stat: {zone: value}}, or (None, why not)."""
    try:
        from eeextract_plugin.sandbox.config import SandboxConfig
        from eeextract_plugin.sandbox.server import SandboxServer
    except Exception as exc:  # noqa: BLE001 - reported as pending
        return None, f"sandbox not importable ({type(exc).__name__}: {exc})"
    import shapely

    server = None
    try:
        server = SandboxServer(
            SandboxConfig(port=0, data_dir=raster.parent, state_dir=raster.parent / "sandbox-state")
        ).start()
        import ee

        ee.Initialize(credentials=None, url=server.url, project="sandbox")
        image = ee.Image(f"projects/sandbox/assets/{raster.stem}")
        feats = []
        for zid, wkb in zones[:limit]:
            g = shapely.from_wkb(wkb)
            coords = [list(map(list, g.exterior.coords))]
            geom = ee.Geometry.Polygon(coords, f"EPSG:{EPSG}", False)
            feats.append(ee.Feature(geom, {"zone": zid}))
        reducer = (
            ee.Reducer.mean()
            .combine(ee.Reducer.count(), sharedInputs=True)
            .combine(ee.Reducer.min(), sharedInputs=True)
            .combine(ee.Reducer.max(), sharedInputs=True)
        )
        fc = image.reduceRegions(
            collection=ee.FeatureCollection(feats), reducer=reducer, scale=PX, crs=f"EPSG:{EPSG}"
        )
        t0 = time.perf_counter()
        info = fc.getInfo()
        seconds = time.perf_counter() - t0
        out: Dict[str, Dict[int, Optional[float]]] = {s: {} for s in EE_STATS}
        for f in info["features"]:
            props = f["properties"]
            for s in EE_STATS:
                v = props.get(s, props.get(f"elev_{s}"))
                out[s][int(props["zone"])] = float(v) if v is not None else None
        n = len(info["features"])
        return out, f"{n} zones reduced in Earth Engine (sandbox) in {seconds:.1f} s"
    except Exception as exc:  # noqa: BLE001 - the sandbox is young: report, do not fail the bench
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            None,
            f"pending: reduceRegions through the sandbox failed ({type(exc).__name__}: {text[:300]})",
        )
    finally:
        if server is not None:
            server.stop()


def main() -> int:
    from eeextract_plugin.core.zonal import ENGINES, engine_problem, rasterstats_problem

    ENGINES = tuple(e for e in ENGINES if e != "qgis" or engine_problem(e) is None)  # noqa: N806 - QGIS's runs inside QGIS only

    size = int(os.environ.get("BENCH_ZONAL_SIZE", "8000"))
    n_mid = int(os.environ.get("BENCH_ZONAL_MID", "1000"))
    n_small = int(os.environ.get("BENCH_ZONAL_SMALL", "20000"))
    n_ee = int(os.environ.get("BENCH_ZONAL_EE_ZONES", "200"))
    repeat = max(1, int(os.environ.get("BENCH_ZONAL_REPEAT", "2")))
    keep = os.environ.get("BENCH_ZONAL_DIR")
    tmp = None
    if keep:
        work = Path(keep)
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-zonal-")
        work = Path(tmp.name)
    try:
        raster = work / "bench_zonal_raster.tif"
        t0 = time.perf_counter()
        if not raster.exists():
            make_raster(raster, size)
        print(
            f"raster: {size} x {size} Int16, 30 m, tiled DEFLATE "
            f"({raster.stat().st_size / 1e6:.0f} MB on disk), made in {time.perf_counter() - t0:.1f} s"
        )
        px_area = PX * PX
        cases = {
            "a_mid": (make_zones(n_mid, 600, 1800, size, seed=2), f"{n_mid} mid-size polygons"),
            "b_small": (make_zones(n_small, 60, 180, size, seed=3), f"{n_small} small polygons"),
        }
        import shapely

        problem = rasterstats_problem()
        results: Dict[Tuple[str, str], Dict] = {}
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"statistics: {', '.join(STATS)}; CSV output; one process per run; best of "
            f"{repeat}; {os.cpu_count()} CPU(s), load average {load:.1f} at start"
        )
        print(f"{'case':<26}{'engine':<14}{'seconds':>9}{'zones/s':>10}{'peak RSS MB':>12}")
        for case, (zones, label) in cases.items():
            areas = shapely.area(shapely.from_wkb([w for _, w in zones])) / px_area
            path = write_zones(work / f"{case}.gpkg", zones)
            for engine in ENGINES:
                if engine == "rasterstats" and problem:
                    results[(case, engine)] = {"error": problem}
                    print(f"{label:<26}{engine:<14}  unavailable: {problem}")
                    continue
                runs = [
                    run_engine(raster, path, engine, work / f"{case}_{engine}.csv")
                    for _ in range(repeat)
                ]
                ok = [x for x in runs if "error" not in x]
                r = min(ok, key=lambda x: x["seconds"]) if ok else runs[0]
                results[(case, engine)] = r
                if "error" in r:
                    print(f"{label:<26}{engine:<14}  FAILED: {r['error']}")
                else:
                    print(
                        f"{label:<26}{engine:<14}{r['seconds']:>9.2f}{len(zones) / r['seconds']:>10.0f}"
                        f"{r['maxrss_mb']:>12.0f}"
                    )
            print(
                f"{'':<26}(pixels per zone: median {np.median(areas):.0f}, "
                f"total {areas.sum() / 1e6:.1f} M)"
            )
        print()
        for case, (_zones, label) in cases.items():
            ex, rs = results[(case, "exactextract")], results.get((case, "rasterstats"), {})
            if "seconds" in ex and "seconds" in rs:
                print(
                    f"{label}: rasterstats / exactextract time = {rs['seconds'] / ex['seconds']:.1f}x"
                )
                print(
                    f"  agreement of the mean (exactextract vs rasterstats): "
                    f"{compare(read_stat(work / f'{case}_exactextract.csv'), read_stat(work / f'{case}_rasterstats.csv'))}"
                )
        print()
        n_points = int(os.environ.get("BENCH_ZONAL_POINTS", "100000"))
        if n_points:
            seconds = sample_points(raster, size, n_points, work)
            print(
                f"point sampling: {n_points} random points in {seconds:.2f} s "
                f"({n_points / seconds:.0f} points/s, CSV written)"
            )
            print()
        zones = cases["a_mid"][0]
        ee_stats, note = earth_engine_stats(raster, zones, n_ee)
        print(f"Earth Engine comparison (first {min(n_ee, len(zones))} mid-size zones): {note}")
        if ee_stats is not None:
            for engine in ENGINES:
                out = work / f"a_mid_{engine}.csv"
                if not out.exists():
                    continue
                for stat in EE_STATS:
                    print(
                        f"  {stat:<6} {engine} vs Earth Engine: "
                        f"{compare(read_stat(out, stat), ee_stats[stat])}"
                    )
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
