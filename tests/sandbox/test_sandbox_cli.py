"""``python -m eeextract_plugin.sandbox``: prints its URL first, serves, exits 0 on SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from eeextract_plugin.sandbox.cli import add_arguments, config_from_args

ROOT = Path(__file__).resolve().parents[2]


def _start(*args: str, tmp_path: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "eeextract_plugin.sandbox", "--port", "0", "--state-dir", str(tmp_path), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_prints_its_url_serves_and_exits_cleanly(tmp_path, signum):
    process = _start("--latency-fixed", "0", "--max-concurrent", "5", tmp_path=tmp_path)
    try:
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        r = requests.get(url + "/$discovery/rest", params={"version": "v1"}, timeout=10)
        assert r.status_code == 200 and r.json()["rootUrl"] == url + "/"
        session = requests.Session()  # an idle keep-alive connection must not delay the exit
        session.get(url + "/$discovery/rest", timeout=10)
        process.send_signal(signum)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_busy_port_is_a_clear_error(tmp_path):
    first = _start(tmp_path=tmp_path)
    try:
        url = first.stdout.readline().strip()
        port = url.rsplit(":", 1)[1]
        second = subprocess.run([sys.executable, "-m", "eeextract_plugin.sandbox", "--port", port,
                                 "--state-dir", str(tmp_path / "second")],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "cannot listen" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0


def test_options_map_onto_the_config():
    parser = add_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--port", "0", "--latency-fixed", "0.3", "--latency-per-mp", "0.1",
                              "--fault-seed", "9", "--fault-500", "0.01", "--fault-503", "0.02",
                              "--fault-reset", "0.03", "--fault-truncate", "0.04", "--fault-slow", "0.05",
                              "--slow-seconds", "2", "--fault-export-memory", "0.5", "--max-concurrent", "7",
                              "--max-rps", "0", "--data", "/tmp/d"])
    config = config_from_args(args)
    assert config.port == 0 and config.max_concurrent_requests == 7 and config.max_requests_per_second == 0
    assert (config.latency.fixed_s, config.latency.per_megapixel_s) == (0.3, 0.1)
    f = config.faults
    assert (f.seed, f.error_500, f.error_503, f.connection_reset, f.truncated_body, f.slow_response, f.slow_s,
            f.export_memory_failure) == (9, 0.01, 0.02, 0.03, 0.04, 0.05, 2.0, 0.5)
    assert str(config.data_dir) == "/tmp/d"
    defaults = config_from_args(parser.parse_args([]))
    assert defaults.port == 8765 and defaults.max_concurrent_requests == 40
    assert defaults.max_payload_bytes == 48 * 1024 * 1024


def test_serving_options_map_onto_the_config():
    parser = add_arguments(argparse.ArgumentParser())
    config = config_from_args(parser.parse_args([
        "--workers", "3", "--max-request-bytes", "1000", "--max-upload-bytes", "2000",
        "--max-connections", "12", "--idle-timeout", "4.5", "--request-timeout", "2.5"]))
    assert (config.compute_workers, config.max_request_bytes, config.max_upload_bytes, config.max_connections,
            config.idle_timeout_s, config.request_timeout_s) == (3, 1000, 2000, 12, 4.5, 2.5)
    defaults = config_from_args(parser.parse_args([]))
    assert defaults.compute_workers == max(1, min(4, os.cpu_count() or 1))
    assert defaults.max_request_bytes == 10 * 1024 * 1024 and defaults.max_connections == 256
    assert config_from_args(parser.parse_args(["--workers", "0"])).compute_workers == 0


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_the_command_line_server_computes_in_worker_processes(tmp_path):
    """By default ``python -m eeextract_plugin.sandbox`` computes in worker processes: the same
    bytes as a computation in this process, and no worker is left once it has exited."""
    from eeextract_plugin.sandbox import encoding
    from eeextract_plugin.sandbox.config import SandboxConfig
    from eeextract_plugin.sandbox.engine import Engine

    process = _start("--workers", "2", tmp_path=tmp_path)
    try:
        url = process.stdout.readline().strip()
        expression = {"result": "0", "values": {"0": {"functionInvocationValue": {
            "functionName": "Image.load", "arguments": {"id": {"constantValue": "SANDBOX/DEM"}}}}}}
        grid = {"crsCode": "EPSG:4326", "dimensions": {"width": 50, "height": 40},
                "affineTransform": {"scaleX": 1 / 3600, "shearX": 0, "translateX": 2.3, "shearY": 0,
                                    "scaleY": -1 / 3600, "translateY": 48.9}}
        r = requests.post(url + "/v1/projects/sandbox/image:computePixels",
                          json={"expression": expression, "fileFormat": "NPY", "grid": grid}, timeout=120)
        assert r.status_code == 200, r.text
        raster = Engine(SandboxConfig()).compute_pixels(expression, grid, None, None)
        assert r.content == encoding.encode(raster, "NPY").data
        workers = _children(process.pid)
        assert len(workers) >= 2  # the pool (and multiprocessing's resource tracker)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
