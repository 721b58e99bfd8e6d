"""The sandbox's raw computePixels throughput: MB/s at 1, 8 and 32 concurrent clients.

The ceiling later work is measured against: latency model off, rate and concurrency limits
lifted (``--max-rps 0 --max-concurrent 1000``), no faults. The server runs in its own process
(``python -m eeextract_plugin.sandbox --port 0``) so that the clients do not share its GIL.
Each client is a thread with its own keep-alive ``requests.Session`` posting the expression the
real client serializes, each request a different 512 x 512 tile at 1 arc-second, answered as NPY. MB = 10^6 bytes of response body.

Two images: ``SANDBOX/DEM`` (the synthetic DEM: the engine's real work) and a constant int16
image (almost no computing: the HTTP and encoding ceiling).

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
from typing import Dict, List, Tuple

import requests

ROOT = Path(__file__).resolve().parents[1]
ARC_SECOND = 1.0 / 3600.0


def start_sandbox(state_dir: str) -> Tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "eeextract_plugin.sandbox", "--port", "0", "--max-rps", "0",
         "--max-concurrent", "1000", "--state-dir", state_dir],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError(f"the sandbox did not start: {process.stderr.read()[-2000:]}")
    return process, url


def workloads(url: str) -> List[Tuple[str, Dict]]:
    """(label, serialized expression): the synthetic DEM (the engine's real work) and a constant
    int16 image (almost no computing: the HTTP + encoding ceiling)."""
    import ee

    ee.Initialize(credentials=None, url=url, project="sandbox")
    return [
        ("SANDBOX/DEM", ee.serializer.encode(ee.Image("SANDBOX/DEM"), for_cloud_api=True)),
        ("constant", ee.serializer.encode(ee.Image.constant(1).toInt16().rename("elevation"), for_cloud_api=True)),
    ]


def tile_grid(index: int, tile: int) -> Dict:
    # distinct tiles over the Alps, row by row
    col, row = index % 64, index // 64
    return {"crsCode": "EPSG:4326", "dimensions": {"width": tile, "height": tile},
            "affineTransform": {"scaleX": ARC_SECOND, "shearX": 0.0, "translateX": 6.0 + col * tile * ARC_SECOND,
                                "shearY": 0.0, "scaleY": -ARC_SECOND, "translateY": 47.0 - row * tile * ARC_SECOND}}


def run_level(url: str, expression: Dict, clients: int, seconds: float, tile: int, file_format: str) -> Dict:
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
            body = {"expression": expression, "fileFormat": file_format, "grid": tile_grid(index, tile)}
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


def main() -> int:
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    tile = int(os.environ.get("BENCH_TILE", "512"))
    levels = [int(x) for x in os.environ.get("BENCH_LEVELS", "1,8,32").split(",")]
    file_format = os.environ.get("BENCH_FORMAT", "NPY")
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as state_dir:
        process, url = start_sandbox(state_dir)
        try:
            print(f"sandbox computePixels throughput: int16 {tile}x{tile} tiles as {file_format}, latency model off, "
                  f"rate/concurrency limits lifted, {seconds:g} s per level, {os.cpu_count()} CPU(s), "
                  f"load average {os.getloadavg()[0]:.1f}")
            print(f"{'image':<12} {'clients':>7} {'requests':>9} {'MB/s':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}  errors")
            for label, expression in workloads(url):
                probe = requests.post(url + "/v1/projects/sandbox/image:computePixels",
                                      json={"expression": expression, "fileFormat": file_format,
                                            "grid": tile_grid(0, tile)}, timeout=120)
                if probe.status_code != 200:
                    print(f"{label:<12} cannot be computed: {probe.status_code} {probe.text[:200]}")
                    failed = True
                    continue
                for clients in levels:
                    row = run_level(url, expression, clients, seconds, tile, file_format)
                    errors = ", ".join(f"{k}: {v}" for k, v in row["errors"].items()) or "-"
                    failed = failed or bool(row["errors"])
                    print(f"{label:<12} {row['clients']:>7} {row['requests']:>9} {row['mb_s']:>8.1f} "
                          f"{row['req_s']:>8.1f} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}  {errors}", flush=True)
            print(f"(each tile {len(probe.content) / 1e6:.2f} MB; MB = 10^6 bytes of response body)")
            return 1 if failed else 0
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
