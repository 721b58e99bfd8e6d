"""The sandbox's raw computePixels throughput: MB/s at 1, 8 and 32 concurrent clients.

The ceiling later work is measured against: latency model off, rate and concurrency limits
lifted (``--max-rps 0 --max-concurrent 1000``), no faults. The server runs in its own process
(``python -m eeextract_plugin.sandbox --port 0``, computing in its default worker processes) so
that the clients do not share its GIL. Each client is a thread with its own keep-alive
``requests.Session`` posting the expression the real client serializes, each request a
different 512 x 512 tile, answered as NPY. MB = 10^6 bytes of response body.

Three images: ``SANDBOX/DEM`` at 1 arc-second (the synthetic DEM), a constant int16 image (almost
no computing: the HTTP and encoding ceiling), and a Sentinel-2 median composite (B4, B8 of the
June 2019 scenes over southern Portugal, float64) on 10 m UTM tiles: what a composite job asks.
The composite is measured a second time with ``--workers 0`` (computing in the server's threads).

Environment: ``BENCH_SECONDS`` (per level, default 3), ``BENCH_TILE`` (default 512),
``BENCH_LEVELS`` (default "1,8,32"), ``BENCH_FORMAT`` (default NPY).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import requests

ROOT = Path(__file__).resolve().parents[1]
ARC_SECOND = 1.0 / 3600.0


def start_sandbox(state_dir: str, *extra: str) -> Tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "eeextract_plugin.sandbox", "--port", "0", "--max-rps", "0",
         "--max-concurrent", "1000", "--state-dir", state_dir, *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"the sandbox did not start: {process.stderr.read()[-2000:]}")
    return process, url


def workloads(url: str) -> List[Tuple[str, Dict, Callable[[int, int], Dict]]]:
    """(label, serialized expression, grid of the n-th request)."""
    import ee

    ee.Initialize(credentials=None, url=url, project="sandbox")
    composite = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2019-06-01", "2019-07-01") \
        .filterBounds(ee.Geometry.Rectangle([-8.9, 37.6, -7.6, 38.9])).select(["B4", "B8"]).median()
    return [
        ("SANDBOX/DEM", ee.serializer.encode(ee.Image("SANDBOX/DEM"), for_cloud_api=True), tile_grid),
        ("constant", ee.serializer.encode(ee.Image.constant(1).toInt16().rename("elevation"), for_cloud_api=True),
         tile_grid),
        (S2_LABEL, ee.serializer.encode(composite, for_cloud_api=True), s2_grid),
    ]


S2_LABEL = "S2 composite"


def tile_grid(index: int, tile: int) -> Dict:
    # distinct tiles over the Alps, row by row
    col, row = index % 64, index // 64
    return {"crsCode": "EPSG:4326", "dimensions": {"width": tile, "height": tile},
            "affineTransform": {"scaleX": ARC_SECOND, "shearX": 0.0, "translateX": 6.0 + col * tile * ARC_SECOND,
                                "shearY": 0.0, "scaleY": -ARC_SECOND, "translateY": 47.0 - row * tile * ARC_SECOND}}


def s2_grid(index: int, tile: int) -> Dict:
    # distinct 10 m tiles in UTM zone 29 over southern Portugal, row by row (16 a row)
    col, row = index % 16, index // 16
    return {"crsCode": "EPSG:32629", "dimensions": {"width": tile, "height": tile},
            "affineTransform": {"scaleX": 10.0, "shearX": 0.0, "translateX": 520000.0 + col * tile * 10.0,
                                "shearY": 0.0, "scaleY": -10.0, "translateY": 4300000.0 - row * tile * 10.0}}


def run_level(url: str, expression: Dict, clients: int, seconds: float, tile: int, file_format: str,
              grid_of: Callable[[int, int], Dict] = tile_grid) -> Dict:
    endpoint = url + "/v1/projects/sandbox/image:computePixels"
    counter = iter(range(10**9))
    lock = threading.Lock()
    latencies: List[float] = []
    total_bytes = [0]
    errors: Dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    def client(_: int) -> None:
        session = requests.Session()
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter)
            body = {"expression": expression, "fileFormat": file_format, "grid": grid_of(index, tile)}
            t0 = time.perf_counter()
            try:
                r = session.post(endpoint, json=body, timeout=120)
                size = len(r.content)
                ok = r.status_code == 200
                key = str(r.status_code) if not ok else ""
                if not ok:
                    key += " " + r.json().get("error", {}).get("message", "")[:80]
            except requests.RequestException as exc:
                ok, size, key = False, 0, type(exc).__name__
            elapsed = time.perf_counter() - t0
            with lock:
                if ok:
                    latencies.append(elapsed)
                    total_bytes[0] += size
                else:
                    errors[key] = errors.get(key, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "clients": clients,
        "requests": len(latencies),
        "mb_s": total_bytes[0] / 1e6 / wall,
        "req_s": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
        "errors": errors,
    }


def measure(url: str, label: str, expression: Dict, grid_of, levels, seconds: float, tile: int,
            file_format: str, workers: str) -> Tuple[bool, int]:
    """Print one row per level; (failed, bytes of one answer)."""
    probe = requests.post(url + "/v1/projects/sandbox/image:computePixels",
                          json={"expression": expression, "fileFormat": file_format,
                                "grid": grid_of(0, tile)}, timeout=300)
    if probe.status_code != 200:
        print(f"{label:<13} cannot be computed: {probe.status_code} {probe.text[:200]}")
        return True, 0
    failed = False
    for clients in levels:
        row = run_level(url, expression, clients, seconds, tile, file_format, grid_of)
        errors = ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "-"
        failed = failed or bool(row["errors"])
        print(f"{label:<13} {workers:>7} {row['clients']:>7} {row['requests']:>9} {row['mb_s']:>8.1f} "
              f"{row['req_s']:>8.1f} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  {errors}", flush=True)
    return failed, len(probe.content)


def main() -> int:
    from eeextract_plugin.sandbox.cli import default_workers

    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    tile = int(os.environ.get("BENCH_TILE", "512"))
    levels = [int(x) for x in os.environ.get("BENCH_LEVELS", "1,8,32").split(",")]
    file_format = os.environ.get("BENCH_FORMAT", "NPY")
    failed = False
    sizes: Dict[str, int] = {}
    print(f"sandbox computePixels throughput: {tile}x{tile} tiles as {file_format}, latency model off, "
          f"rate/concurrency limits lifted, {seconds:g} s per level, {os.cpu_count()} CPU(s), "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'image':<13} {'workers':>7} {'clients':>7} {'requests':>9} {'MB/s':>8} {'req/s':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8}  errors")
    for workers in (str(default_workers()), "0"):
        with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as state_dir:
            process, url = start_sandbox(state_dir, "--workers", workers)
            try:
                for label, expression, grid_of in workloads(url):
                    if workers == "0" and label != S2_LABEL:
                        continue
                    bad, size = measure(url, label, expression, grid_of, levels, seconds, tile, file_format, workers)
                    failed = failed or bad
                    sizes[label] = size
            finally:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
    print("(each answer: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in sizes.items())
          + "; MB = 10^6 bytes of response body)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
