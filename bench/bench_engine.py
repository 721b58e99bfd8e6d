"""Benchmark of the extraction engine (issue 3) against the sandbox with its latency model on.

Figures printed (no assertion; ``make bench`` / ``python -m bench engine``):

1. direct-path throughput as a fraction of the **quota** bound (the sandbox's concurrency limit,
   Earth Engine's 40, x bytes per request / latency per request), with the 429s drawn: the
   engine ramps up from below the quota and settles at it;
2. speed-up over fetching the same tiles one request at a time (the one-at-a-time rate is
   measured on a subset of the tiles and extrapolated: printed as scaled);
3. RGB PNG chips of 256 x 256 against the bound (4,000 by default; ``EEEXTRACT_BENCH_CHIPS``);
4. peak RSS of a 20,000 x 20,000 single-band extraction, measured in a subprocess that runs only
   the engine (the sandbox stays in this process);
5. time from the last tile to the finished COG, against ``gdal_translate -of COG`` of the same
   data with the same options.

Environment: ``EEEXTRACT_BENCH_SIZE`` (side of the big extraction, default 20000),
``EEEXTRACT_BENCH_CHIPS`` (default 4000). The sandbox computes pixels on the same (shared)
cores as the engine, so its compute time adds to the modelled latency.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LATENCY = (0.3, 0.1)  # seconds fixed, seconds per megapixel
ARCSEC = 1.0 / 3600.0


def _start_sandbox(state: Path, latency: Tuple[float, float] = LATENCY) -> Any:
    """The sandbox in this process, computing in worker processes as ``python -m
    eeextract_plugin.sandbox`` does by default (else its pixel generation would share this
    process's interpreter with the engine being measured)."""
    from eeextract_plugin.sandbox.cli import default_workers
    from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    cfg = SandboxConfig(port=0, state_dir=state, compute_workers=default_workers())
    cfg.latency = LatencyModel(*latency)
    return SandboxServer(cfg).start()


def _session(url: str) -> Any:
    from eeextract_plugin.core.session import SessionConfig, initialise

    return initialise(SessionConfig(url=url, credentials="none", project="sandbox"))


def _dem_spec(out: Path, width_px: int, height_px: int, tile: int, conc: int, name: str = "dem",
              x0: float = -8.0, y1: float = 39.0) -> Any:
    from eeextract_plugin.core.spec import JobSpec

    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": "mosaic",
        "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": {"type": "bbox", "bbox": [x0, y1 - height_px * ARCSEC, x0 + width_px * ARCSEC, y1]},
        "output": {"directory": str(out), "format": "COG", "name": name, "overwrite": True},
        "execution": {"tile_size": tile, "max_concurrent_requests": conc},
    })


def peak_rss() -> int:
    """This process image's peak RSS (``VmHWM``). Not ``ru_maxrss``: after fork/exec that one
    starts from the parent's RSS, so a child of a big parent would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Clock:
    """Progress callback recording when the last unit landed."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.last_unit: Optional[float] = None
        self.lock = threading.Lock()

    rss_at_last_unit: int = 0

    def __call__(self, rep: Any) -> None:
        if rep.units_total and rep.units_done + rep.units_failed >= rep.units_total:
            with self.lock:
                if self.last_unit is None:
                    self.last_unit = time.monotonic()
                    self.rss_at_last_unit = peak_rss()


def _run(spec: Any, session: Any, work: Path) -> Tuple[Any, float, float]:
    """(result, seconds to the last tile, seconds from the last tile to the finished file)."""
    from eeextract_plugin.core.runner import JobRunner

    runner = JobRunner(session, work)
    clock = _Clock()
    runner.progress = clock
    job_id = runner.create(spec)
    t0 = time.monotonic()
    clock.t0 = t0
    result = runner.run(job_id)
    t1 = time.monotonic()
    runner.close()
    last = clock.last_unit or t1
    result.peak_rss_fetching = clock.rss_at_last_unit  # type: ignore[attr-defined]
    return result, last - t0, t1 - last


def _const_spec(session: Any, out: Path, width_px: int, height_px: int, tile: int, conc: int, name: str) -> Any:
    """A computed image that costs the sandbox almost nothing to compute, so the figure is the
    engine's (can it keep ``conc`` requests in flight?) and not the shared CPUs'."""
    from eeextract_plugin.core.spec import JobSpec

    ee = session.ee
    expr = ee.serializer.encode(ee.Image.constant(7).toInt16().rename("v"), for_cloud_api=True)
    x0, y1 = -8.0, 39.0
    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": "mosaic",
        "source": {"type": "expression", "expression": expr},
        "region": {"type": "bbox", "bbox": [x0, y1 - height_px * ARCSEC, x0 + width_px * ARCSEC, y1]},
        "grid": {"crs": "EPSG:4326", "crs_transform": [ARCSEC, 0, -180.0, 0, -ARCSEC, 90.0]},
        "output": {"directory": str(out), "format": "COG", "name": name, "overwrite": True},
        "execution": {"tile_size": tile, "max_concurrent_requests": conc},
    })


def bench_throughput(tmp: Path, url: str, rows: List[Tuple[str, str]]) -> None:
    session = _session(url)
    from eeextract_plugin.core.plan import RequestLimits, direct_bound_s
    from eeextract_plugin.sandbox.config import SandboxConfig

    sandbox = SandboxConfig()
    quota, rate = sandbox.max_concurrent_requests, sandbox.max_requests_per_second  # Earth Engine's 40, 100/s
    tile, conc = 512, quota
    bytes_per_unit = tile * tile * 2
    # 1. Concurrency binds: requests slow enough (0.6 s + 0.1 s/MP) that 40 in flight make fewer
    #    than 100 a second. The quota bound is the sandbox's concurrency x bytes / latency.
    slow = (0.6, 0.1)
    slow_server = _start_sandbox(tmp / "sandbox-slow", latency=slow)
    try:
        slow_session = _session(slow_server.url)
        n_x, n_y = 32, 30  # 960 tiles: 24 rounds of 40
        lat = slow[0] + slow[1] * tile * tile / 1e6
        bound = quota * bytes_per_unit / lat
        spec = _const_spec(slow_session, tmp / "tps", tile * n_x, tile * n_y, tile, conc, "const-slow")
        res, fetch_s, _ = _run(spec, slow_session, tmp / "w0")
        assert res.ok, res.message
        measured = res.units_done * bytes_per_unit / fetch_s
        rows.append((f"throughput vs the quota bound ({quota} in flight, {slow[0]} s + {slow[1]} s/MP)",
                     f"{measured / 1e6:.1f} MB/s over {res.units_done} tiles in {fetch_s:.2f} s; quota bound "
                     f"{quota} x {bytes_per_unit / 1e6:.2f} MB / {lat:.3f} s = {bound / 1e6:.1f} MB/s -> "
                     f"{measured / bound:.2f} of the quota bound; 429s: {res.stats.rate_limited}; "
                     f"in flight up to {res.stats.highest_limit:.0f} (the sandbox saw "
                     f"{slow_server.limiter.peak_in_flight})"))
    finally:
        slow_server.stop()
        session = _session(url)
    # 2. The default latency model (0.3 s + 0.1 s/MP): 40 in flight would make 123 requests a
    #    second, so the project's rate (100/s) binds: the quota bound is the lower of the two.
    tiles_x, tiles_y = 16, 30  # 480 tiles of 512 x 512 (0.26 MP, 0.5 MB each as int16)
    lat = LATENCY[0] + LATENCY[1] * tile * tile / 1e6
    limits = RequestLimits(max_concurrent=quota, max_requests_per_s=rate, latency_fixed_s=LATENCY[0],
                           latency_per_megapixel_s=LATENCY[1])
    n_units = tiles_x * tiles_y
    bound_s = direct_bound_s(n_units, n_units * tile * tile, tile * tile, limits)
    bound = n_units * bytes_per_unit / bound_s
    from eeextract_plugin.core import direct as runner_mod

    durations: List[float] = []
    real_handle = runner_mod.DirectExecution.handle

    def timed(self: Any, unit: Any) -> int:
        t = time.monotonic()
        try:
            return real_handle(self, unit)
        finally:
            durations.append(time.monotonic() - t)

    runner_mod.DirectExecution.handle = timed  # type: ignore[method-assign]
    try:
        spec = _const_spec(session, tmp / "tp", tile * tiles_x, tile * tiles_y, tile, conc, "const")
        res, fetch_s, _ = _run(spec, session, tmp / "w1")
    finally:
        runner_mod.DirectExecution.handle = real_handle  # type: ignore[method-assign]
    assert res.ok, res.message
    n = res.units_done
    measured = n * bytes_per_unit / fetch_s
    binds = "rate" if n_units / rate >= n_units * lat / quota else "concurrency"
    rows.append((f"throughput vs the quota bound ({LATENCY[0]} s + {LATENCY[1]} s/MP, the {binds} binds)",
                 f"{measured / 1e6:.1f} MB/s over {n} tiles of {tile}x{tile} int16 in {fetch_s:.2f} s; "
                 f"quota bound (lower of {quota} in flight and {rate:g} requests/s) {bound / 1e6:.1f} MB/s -> "
                 f"{measured / bound:.2f} of the quota bound; 429s: {res.stats.rate_limited}"))
    mean = sum(durations) / len(durations)
    rows.append(("  where the time goes",
                 f"slots busy {sum(durations) / (conc * fetch_s):.2f} of the time; a request takes "
                 f"{mean:.3f} s on average against {lat:.3f} s modelled (HTTP, encoding and decoding "
                 f"on {os.cpu_count()} shared cores)"))
    # one request at a time, on a subset
    sub = 6
    spec1 = _const_spec(session, tmp / "tp1", tile * sub, tile, tile, 1, "const1")
    res1, serial_s, _ = _run(spec1, session, tmp / "w2")
    assert res1.ok, res1.message
    per_tile = serial_s / res1.units_done
    serial_all = per_tile * n
    rows.append(("speed-up over one at a time", f"{serial_all / fetch_s:.1f}x (one at a time: {per_tile:.3f} s/tile "
                 f"measured on {res1.units_done} tiles, scaled to {n}: {serial_all:.1f} s; {quota} in flight: {fetch_s:.2f} s)"))
    # 2. the DEM asset (getPixels): the sandbox's compute shares the machine's cores
    spec = _dem_spec(tmp / "tpd", tile * tiles_x, tile * tiles_y, tile, conc)
    res, fetch_s, _ = _run(spec, session, tmp / "w1d")
    assert res.ok, res.message
    measured = res.units_done * bytes_per_unit / fetch_s
    rows.append((f"throughput, {quota} in flight (DEM getPixels)",
                 f"{measured / 1e6:.1f} MB/s in {fetch_s:.2f} s -> {measured / bound:.2f} of bound; the sandbox "
                 f"computes each tile on the same {os.cpu_count()} shared cores, so this is CPU-bound here"))


def _quota_bound_s(units: int, pixels_per_unit: int) -> float:
    """The direct path's bound for ``units`` requests at Earth Engine's quota (40 in flight,
    100/s) and the bench's latency model (the planner's own formula)."""
    from eeextract_plugin.core.plan import RequestLimits, direct_bound_s

    limits = RequestLimits(latency_fixed_s=LATENCY[0], latency_per_megapixel_s=LATENCY[1])
    return direct_bound_s(units, units * pixels_per_unit, pixels_per_unit, limits)


def _chips_spec(source: Dict[str, Any], pts: List[List[float]], out: Path, name: str) -> Any:
    from eeextract_plugin.core.spec import JobSpec

    return JobSpec.from_dict({
        "version": 1, "name": name, "kind": "chips", "source": source,
        "region": {"type": "geometry", "geometry": {"type": "MultiPoint", "coordinates": pts}},
        "grid": {"crs": "EPSG:32629", "scale": 10},
        "output": {"directory": str(out), "format": "PNG", "name": "chip", "chip_size": 256, "overwrite": True,
                   "visualization": {"bands": ["B4", "B3", "B2"], "min": [0], "max": [3000]}},
    })


def bench_chips(tmp: Path, url: str, rows: List[Tuple[str, str]]) -> None:
    import random

    n = int(os.environ.get("EEEXTRACT_BENCH_CHIPS", "4000"))
    n_s2 = min(n, int(os.environ.get("EEEXTRACT_BENCH_S2_CHIPS", "200")))
    session = _session(url)
    ee = session.ee
    rng = random.Random(1)
    pts = [[round(-8.9 + rng.random() * 0.9, 5), round(38.0 + rng.random() * 0.8, 5)] for _ in range(n)]
    # 1. a cheap computed RGB image: the engine's own rate
    img = ee.Image.constant([1200, 900, 600]).toUint16().rename(["B4", "B3", "B2"])
    expr = ee.serializer.encode(img, for_cloud_api=True)
    spec = _chips_spec({"type": "expression", "expression": expr}, pts, tmp / "chips", "chips")
    res, fetch_s, _ = _run(spec, session, tmp / "w3")
    assert res.ok, res.message
    bound = _quota_bound_s(n, 256 * 256)
    rows.append((f"{n} chips 256x256 RGB PNG (computed image)",
                 f"{fetch_s:.1f} s; quota bound {bound:.1f} s (40 in flight, 100 requests/s) -> "
                 f"{bound / fetch_s:.2f} of bound"))
    # 2. chips of a Sentinel-2 scene: the sandbox synthesises every pixel on the shared cores
    scene = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2019-06-01", "2019-06-06") \
        .filterBounds(ee.Geometry.Point(-8.4, 38.45)).first().getInfo()["id"]
    spec = _chips_spec({"type": "asset", "asset_id": scene, "bands": ["B4", "B3", "B2"]}, pts[:n_s2],
                       tmp / "chips2", "chips2")
    res, fetch_s, _ = _run(spec, session, tmp / "w4")
    assert res.ok, res.message
    bound = _quota_bound_s(n_s2, 256 * 256)
    rows.append((f"{n_s2} chips of an S2 scene (scaled down)",
                 f"{fetch_s:.1f} s; bound {bound:.1f} s -> {bound / fetch_s:.2f} of bound (the sandbox synthesises "
                 f"every pixel, on the same {os.cpu_count()} cores as the engine)"))


_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from bench.bench_engine import _dem_spec, _run, _session, peak_rss
from pathlib import Path
url, out, side = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
session = _session(url)
spec = _dem_spec(out, side, side, 1024, 32, name="big")
spec.execution.tile_size = None  # the planner's choice
res, fetch_s, finish_s = _run(spec, session, out / "work")
rss = peak_rss()
print(json.dumps({"ok": res.ok, "message": res.message, "units": res.units_done, "fetch_s": fetch_s,
                  "finish_s": finish_s, "peak_rss": rss, "peak_rss_fetching": getattr(res, "peak_rss_fetching", 0), "path": res.outputs[0] if res.outputs else None}))
"""


def bench_big(tmp: Path, url: str, rows: List[Tuple[str, str]]) -> None:
    side = int(os.environ.get("EEEXTRACT_BENCH_SIZE", "20000"))
    out = tmp / "big"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), url, str(out), str(side)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if not info["ok"]:
        raise RuntimeError(info["message"])
    rows.append((f"peak RSS, {side}x{side} int16", f"{info['peak_rss'] / 1e6:.0f} MB (engine process only; "
                 f"{info['peak_rss_fetching'] / 1e6:.0f} MB until the last tile; "
                 f"{info['units']} requests, fetch {info['fetch_s']:.1f} s)"))
    # gdal_translate of the same data with the same options, from an uncompressed copy
    from eeextract_plugin.core.mosaic import GDAL_CACHE_BYTES, cog_options

    raw = out / "same-data.tif"
    subprocess.run(["gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "BIGTIFF=YES",
                    info["path"], str(raw)], check=True)
    t0 = time.monotonic()
    cmd = ["gdal_translate", "-q", "-of", "COG", "--config", "GDAL_CACHEMAX", str(GDAL_CACHE_BYTES // 2**20)]
    for o in cog_options("int16"):
        cmd += ["-co", o]
    subprocess.run(cmd + [str(raw), str(out / "gdal_translate.tif")], check=True)
    gt = time.monotonic() - t0
    rows.append(("last tile -> finished COG", f"{info['finish_s']:.1f} s; gdal_translate -of COG of the same "
                 f"data, same options: {gt:.1f} s -> ratio {info['finish_s'] / gt:.2f}"))


def main() -> int:
    rows: List[Tuple[str, str]] = []
    tmp = Path(tempfile.mkdtemp(prefix="eeextract-bench-engine-"))
    server = _start_sandbox(tmp / "sandbox")
    print(f"sandbox latency model: {LATENCY[0]} s + {LATENCY[1]} s/MP; engine default concurrency 40 (the quota); "
          f"sandbox compute workers {server.config.compute_workers}; load average {os.getloadavg()[0]:.1f}",
          flush=True)
    try:
        for step in (bench_throughput, bench_chips, bench_big):
            t0 = time.monotonic()
            try:
                step(tmp, server.url, rows)
            except Exception as exc:  # report and go on
                rows.append((step.__name__, f"FAILED: {type(exc).__name__}: {exc}"))
            print(f"  ({step.__name__}: {time.monotonic() - t0:.0f} s)", flush=True)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if not any("FAILED" in v for _, v in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
