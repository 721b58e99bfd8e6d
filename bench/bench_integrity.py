"""Benchmark of the integrity rules (issue 16): what planning lazily costs, and what durability
costs (``python -m bench integrity``; figures printed, no assertion).

1. Planning a polygon mosaic of about 400,000 tiles (no server): counting the tiles that touch
   the polygon (one vectorised test per row of tiles) and the plan's figures, then making every
   unit (what recording the job does); and how fast a job past the 500,000-unit cap is refused.
2. The cost of durability against the sandbox with its latency model: the same jobs with every
   ``fsync`` of the engine off and the registry at ``synchronous=NORMAL``, then as shipped
   (``fsync`` of staging files before units are recorded, of chips and final files before they
   are published, registry ``synchronous=FULL``). Run twice, alternating, on a shared machine.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_engine import _chips_spec, _const_spec, _run, _session, _start_sandbox  # noqa: E402


def bench_planning(rows: List[Tuple[str, str]]) -> None:
    from shapely.geometry import Polygon

    from eeextract_plugin.core.grid import PixelGrid
    from eeextract_plugin.core.plan import PlanError, build_plan
    from eeextract_plugin.core.regions import RegionFeature
    from eeextract_plugin.core.source import BandInfo, SourceInfo
    from eeextract_plugin.core.spec import JobSpec

    arcsec = 1 / 3600
    native = PixelGrid("EPSG:4326", (arcsec, 0, -180.0, 0, -arcsec, 90.0), 1296000, 648000)
    info = SourceInfo([BandInfo("elevation", "int16", native)], native)
    ring = [(-10.0, 35.0), (10.0, 36.0), (12.0, 55.0), (0.0, 60.0), (-12.0, 50.0), (-10.0, 35.0)]
    feats = [RegionFeature("0", Polygon(ring), "EPSG:4326")]
    spec = JobSpec.from_dict({"version": 1, "name": "p", "kind": "mosaic",
                              "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
                              "region": {"type": "geometry", "geometry": {"type": "Polygon", "coordinates": [ring]}},
                              "grid": {"crs": "EPSG:4326", "scale": 0.0005}, "execution": {"tile_size": 64}})
    t0 = time.perf_counter()
    plan = build_plan(spec, info, feats)
    summary = plan.summary()
    t1 = time.perf_counter()
    n = sum(1 for _ in plan.units)
    t2 = time.perf_counter()
    rows.append(("plan of a polygon, figures only", f"{summary.units:,} tiles touching it (of "
                 f"{plan.outputs[0].grid.width // 64 * (plan.outputs[0].grid.height // 64):,} in its box) "
                 f"counted in {t1 - t0:.2f} s, no unit made"))
    rows.append(("  making every unit", f"{n:,} units in {t2 - t1:.2f} s ({(t2 - t1) / n * 1e6:.1f} us each)"))
    small = [(-8.5, 38.3), (-8.3, 38.3), (-8.3, 38.4), (-8.5, 38.4), (-8.5, 38.3)]
    spec.region.geometry = {"type": "Polygon", "coordinates": [small]}
    spec.grid.scale = 2.1e-7
    spec.execution.tile_size = 16
    t0 = time.perf_counter()
    try:
        build_plan(spec, info, [RegionFeature("0", Polygon(small), "EPSG:4326")])
        refused = "NOT refused"
    except PlanError as exc:
        refused = str(exc)[:60] + "…"
    rows.append(("plan past the unit cap (scale 2.1e-7, 16 px tiles)", f"{time.perf_counter() - t0:.3f} s: {refused}"))


def bench_registry(tmp: Path, rows: List[Tuple[str, str]]) -> None:
    """Why finished units are recorded in batches: a commit at synchronous=FULL waits for the disk."""
    from eeextract_plugin.core import registry as reg

    n = 500
    figures = []
    for sync in ("NORMAL", "FULL"):
        reg.SYNCHRONOUS = sync
        with reg.Registry(tmp / f"r-{sync}.sqlite") as r:
            job = r.create_job("b", "mosaic", {})
            r.add_units(job, [reg.UnitRecord(job, f"u{i}", "o", i, reg.PENDING, {}, 0, 0, None) for i in range(2 * n)])
            t0 = time.perf_counter()
            for i in range(n):
                r.mark_unit(job, f"u{i}", reg.DONE, nbytes=1, attempts=1)
            one = (time.perf_counter() - t0) / n
            t0 = time.perf_counter()
            r.mark_units_done(job, [(f"u{i}", 1, 1) for i in range(n, 2 * n)])
            batch = time.perf_counter() - t0
        figures.append(f"{sync}: {one * 1e3:.2f} ms per unit one by one, {batch * 1e3:.1f} ms for {n} in one batch")
    reg.SYNCHRONOUS = "FULL"
    rows.append(("registry: recording units done", "; ".join(figures)))
    t0 = time.perf_counter()
    for i in range(50):
        with open(tmp / f"f{i}", "wb") as f:
            f.write(b"x" * 20000)
            f.flush()
            _REAL_FSYNC(f.fileno())
    rows.append(("one fsync of a 20 kB file on this disk", f"{(time.perf_counter() - t0) / 50 * 1e3:.1f} ms"))


def _durability(on: bool) -> None:
    from eeextract_plugin.core import registry

    registry.SYNCHRONOUS = "FULL" if on else "NORMAL"
    os.fsync = _REAL_FSYNC if on else (lambda fd: None)  # type: ignore[assignment]


_REAL_FSYNC = os.fsync


def bench_durability(tmp: Path, url: str, rows: List[Tuple[str, str]]) -> None:
    import random

    session = _session(url)
    ee = session.ee
    n = int(os.environ.get("EEEXTRACT_BENCH_CHIPS", "2000"))
    rng = random.Random(1)
    pts = [[round(-8.9 + rng.random() * 0.9, 5), round(38.0 + rng.random() * 0.8, 5)] for _ in range(n)]
    img = ee.Image.constant([1200, 900, 600]).toUint16().rename(["B4", "B3", "B2"])
    expr = ee.serializer.encode(img, for_cloud_api=True)
    times: dict = {}
    try:
        for round_ in range(2):
            for on in (False, True):
                _durability(on)
                key = "on" if on else "off"
                spec = _chips_spec({"type": "expression", "expression": expr}, pts, tmp / f"c{round_}{key}", "c")
                res, fetch_s, finish_s = _run(spec, session, tmp / f"wc{round_}{key}")
                assert res.ok, res.message
                times.setdefault(("chips", key), []).append(fetch_s + finish_s)
                spec = _const_spec(session, tmp / f"t{round_}{key}", 512 * 16, 512 * 24, 512, 32, "t")
                res, fetch_s, finish_s = _run(spec, session, tmp / f"wt{round_}{key}")
                assert res.ok, res.message
                times.setdefault(("tiles", key), []).append(fetch_s + finish_s)
    finally:
        _durability(True)
    for what, label in (("chips", f"{n} PNG chips 256x256"), ("tiles", "384 tiles 512x512 int16 -> one COG")):
        off, on = min(times[(what, "off")]), min(times[(what, "on")])
        rows.append((f"{label}: no fsync / as shipped",
                     f"{off:.1f} s / {on:.1f} s (best of 2) -> {100 * (on - off) / off:+.1f}%"))


def main() -> int:
    rows: List[Tuple[str, str]] = []
    bench_planning(rows)
    tmp = Path(tempfile.mkdtemp(prefix="eeextract-bench-integrity-"))
    bench_registry(tmp, rows)
    server = _start_sandbox(tmp / "sandbox")
    try:
        bench_durability(tmp, server.url, rows)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
