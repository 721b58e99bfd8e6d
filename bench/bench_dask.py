"""Benchmark of the Dask engine (issue 13): the same job on threads and on a local Dask cluster
of worker processes, against the sandbox with its latency model on.

Printed for each run (``make bench`` / ``python -m bench dask``; no assertion):

- throughput as a fraction of the **quota bound**: the project's concurrency (the sandbox's 40,
  Earth Engine's default) x bytes per request / latency per request;
- the highest number of requests the sandbox saw in flight (``server.limiter.peak_in_flight``),
  which must never exceed the quota, and the 429s it answered (concurrency / rate);
- the controller's highest level and the wall time (the COG included).

The latency is 1 s per request so the concurrency is the bound for both kinds of request: a
unit on Dask is two requests (create the URL, GET it), and at 100 requests/s that allows 48
units/s, above the 40/s the concurrency allows. The cluster (2 worker processes of 30 threads:
more threads than the quota, so the engine, not the thread count, holds the requests in
flight) is started before the timed run; its start-up is printed apart. The sandbox runs in
this process, on the same shared cores.

Environment: ``EEEXTRACT_BENCH_DASK_TILES`` (tiles a side, default 20: 400 tiles of 256 x 256
int16).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LATENCY = (1.0, 0.1)  # seconds fixed, seconds per megapixel
TILE = 256
ARCSEC = 1.0 / 3600.0


def _sandbox(state: Path) -> Any:
    from eeextract_plugin.sandbox.config import LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    cfg = SandboxConfig(port=0, state_dir=state)
    cfg.latency = LatencyModel(*LATENCY)
    return SandboxServer(cfg).start()


def _spec(session: Any, out: Path, tiles: int, **execution: Any) -> Any:
    """A computed image that costs the sandbox almost nothing, so the figure is the engine's."""
    from eeextract_plugin.core.spec import JobSpec

    ee = session.ee
    expr = ee.serializer.encode(ee.Image.constant(7).toInt16().rename("v"), for_cloud_api=True)
    side = TILE * tiles
    x0, y1 = -8.0, 39.0
    return JobSpec.from_dict({
        "version": 1, "name": "bench-dask", "kind": "mosaic",
        "source": {"type": "expression", "expression": expr},
        "region": {"type": "bbox", "bbox": [x0, y1 - side * ARCSEC, x0 + side * ARCSEC, y1]},
        "grid": {"crs": "EPSG:4326", "crs_transform": [ARCSEC, 0, -180.0, 0, -ARCSEC, 90.0]},
        "output": {"directory": str(out), "format": "COG", "overwrite": True},
        "method": "direct",
        "execution": {"tile_size": TILE, **execution}})


class _LastUnit:
    """Progress callback: when the last unit landed."""

    def __init__(self) -> None:
        self.at: Optional[float] = None
        self.lock = threading.Lock()

    def __call__(self, rep: Any) -> None:
        if rep.units_total and rep.units_done + rep.units_failed >= rep.units_total:
            with self.lock:
                if self.at is None:
                    self.at = time.monotonic()


def _run(label: str, tmp: Path, tiles: int, rows: List[Tuple[str, str]], **execution: Any) -> None:
    from eeextract_plugin.core.runner import JobRunner
    from eeextract_plugin.core.session import SessionConfig, initialise

    work = tmp / label.replace(" ", "-")
    server = _sandbox(work / "sandbox")
    try:
        session = initialise(SessionConfig(url=server.url, credentials="none", project="sandbox"))
        quota = server.config.max_concurrent_requests
        spec = _spec(session, work / "out", tiles, max_concurrent_requests=quota, **execution)
        clock = _LastUnit()
        runner = JobRunner(session, work / "w", progress=clock)
        try:
            job_id = runner.create(spec)
            t0 = time.monotonic()
            result = runner.run(job_id)
            t1 = time.monotonic()
        finally:
            runner.close()
        if not result.ok:
            rows.append((label, f"FAILED: {result.message}"))
            return
        fetch_s = (clock.at or t1) - t0
        per_request = TILE * TILE * 2
        latency = LATENCY[0] + LATENCY[1] * TILE * TILE / 1e6
        bound = quota * per_request / latency
        measured = result.units_done * per_request / fetch_s
        lim = server.limiter
        rows.append((label, f"{measured / 1e6:.2f} MB/s over {result.units_done} tiles in {fetch_s:.1f} s -> "
                            f"{measured / bound:.2f} of the quota bound ({bound / 1e6:.2f} MB/s = {quota} x "
                            f"{per_request / 1e3:.0f} kB / {latency:.3f} s)"))
        rows.append(("  in flight at the sandbox",
                     f"peak {lim.peak_in_flight} (quota {quota}: "
                     f"{'within' if lim.peak_in_flight <= quota else 'ABOVE'}); 429s: "
                     f"{lim.rejected_concurrency} concurrency, {lim.rejected_rate} rate; controller up to "
                     f"{result.stats.highest_limit:.0f}; wall {t1 - t0:.1f} s with the COG"))
    finally:
        server.stop()


def main() -> int:
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("dask/distributed are not installed: nothing to measure")
        return 0
    from distributed import LocalCluster

    tiles = int(os.environ.get("EEEXTRACT_BENCH_DASK_TILES", "20"))
    load = os.getloadavg()
    rows: List[Tuple[str, str]] = [
        ("load average before (1, 5, 15 min)", f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} on {os.cpu_count()} cores"),
        ("job", f"{tiles * tiles} tiles of {TILE} x {TILE} int16 (a computed constant), latency "
                f"{LATENCY[0]:.1f} s + {LATENCY[1]:.1f} s/MP per request, quota 40 in flight, 100 requests/s"),
    ]
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    with tempfile.TemporaryDirectory(prefix="eeextract-bench-dask-") as tmpdir:
        tmp = Path(tmpdir)
        _run("threads, computePixels", tmp, tiles, rows)
        _run("threads, URLs", tmp, tiles, rows, request_kind="url")
        t = time.monotonic()
        cluster = LocalCluster(n_workers=2, threads_per_worker=30, processes=True, dashboard_address=None)
        rows.append(("local Dask cluster start-up", f"{time.monotonic() - t:.1f} s (2 worker processes of 30 threads)"))
        try:
            _run("Dask, 2 worker processes", tmp, tiles, rows, engine="dask",
                 dask_scheduler=cluster.scheduler_address)
        finally:
            cluster.close()
    load = os.getloadavg()
    rows.append(("load average after (1, 5, 15 min)", f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
