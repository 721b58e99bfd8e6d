"""Helpers of the Dask engine's tests: sandboxes with a latency model, sessions, example jobs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[2]


def start_sandbox(tmp_path: Path, latency=None, **config: Any):
    from eeextract_plugin.sandbox.config import ExportTiming, LatencyModel, SandboxConfig
    from eeextract_plugin.sandbox.server import SandboxServer

    cfg = SandboxConfig(port=0, state_dir=tmp_path / "sandbox-state",
                        export_timing=ExportTiming(startup_s=0.05, megapixels_per_s=200.0), **config)
    if latency:
        cfg.latency = LatencyModel(*latency)
    return SandboxServer(cfg).start()


def session_for(url: str):
    from eeextract_plugin.core.session import SessionConfig, initialise

    return initialise(SessionConfig(url=url, credentials="none", project="sandbox"))


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def example(name: str, out: Path, **execution: Any):
    """An example job file of the repository, writing to ``out``."""
    from eeextract_plugin.core.spec import JobSpec

    d: Dict[str, Any] = json.loads((ROOT / "examples" / f"{name}.json").read_text())
    d["output"]["directory"] = str(out)
    d["execution"] = {**d.get("execution", {}), **execution}
    if d["region"].get("type") == "file":
        d["region"]["path"] = str(ROOT / "examples" / d["region"]["path"])
    return JobSpec.from_dict(d)


CONSTANT = {"result": "0", "values": {"0": {"functionInvocationValue": {
    "functionName": "Image.constant", "arguments": {"value": {"constantValue": 7}}}}}}


def many_tiles(out: Path, units_a_side: int, **execution: Any):
    """A constant image cut in ``units_a_side``² tiles of 32 px: cheap to compute, many requests."""
    from eeextract_plugin.core.spec import JobSpec

    side = 32 * units_a_side
    return JobSpec.from_dict({
        "version": 1, "name": "many", "kind": "mosaic",
        "source": {"type": "expression", "expression": CONSTANT},
        "region": {"type": "bbox", "bbox": [0, 0, side, side], "crs": "EPSG:32631"},
        "grid": {"crs": "EPSG:32631", "scale": 1},
        "output": {"directory": str(out), "format": "GEO_TIFF", "overwrite": True},
        "method": "direct",
        "execution": {"tile_size": 32, **execution}})


class HeaderProxy:
    """A local HTTP proxy in front of a sandbox that adds ``headers`` to the answers of the
    requests ``match(method, path)`` selects (e.g. Earth Engine's restricted-mode header on the
    URL fetches only, which only the workers make)."""

    def __init__(self, target_url: str, headers: Dict[str, str], match) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse

        target = urlparse(target_url)
        outer = self
        self.matched = 0

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                if match(self.command, self.path):
                    outer.matched += 1
                    for k, v in headers_to_add.items():
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        headers_to_add = dict(headers)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
