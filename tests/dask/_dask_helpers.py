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
