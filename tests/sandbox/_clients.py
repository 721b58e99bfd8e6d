"""Running the clients nobody here wrote (Xee, geedim, GDAL's EEDAI driver) against a sandbox.

Xee and geedim need numpy 2 and their own rasterio: they live in ``.venv-clients`` (made by
``scripts/clients-venv.sh`` from ``requirements-clients.txt``, idempotent, a few seconds when
warm) and run in a subprocess of it, unmodified, on the probe scripts in ``clients/``. What they
read is compared here, in the project's own environment, with what the sandbox's
``computePixels`` returns for the same grid through the project's own earthengine-api.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Optional

ROOT = Path(__file__).resolve().parents[2]
PROBES = Path(__file__).resolve().parent / "clients"
AFFINE_KEYS = ("scaleX", "shearX", "translateX", "shearY", "scaleY", "translateY")


@functools.lru_cache(maxsize=1)
def clients_python() -> str:
    """The python of .venv-clients, created or updated first when needed."""
    done = subprocess.run(["bash", str(ROOT / "scripts" / "clients-venv.sh")], capture_output=True, text=True,
                          timeout=900, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"scripts/clients-venv.sh failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1]


def client_env() -> Dict[str, str]:
    """The subprocess environment: nothing of .venv leaks in (no PYTHONPATH, no venv)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("PYTEST")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["TQDM_DISABLE"] = "1"
    return env


def run_probe(script: str, url: str, outdir: Path, case: str, args: Optional[Dict[str, Any]] = None,
              timeout: float = 300) -> Dict[str, Any]:
    """Run ``clients/<script> URL OUTDIR CASE ARGS`` in .venv-clients; its last stdout line is JSON."""
    outdir.mkdir(parents=True, exist_ok=True)
    command = [clients_python(), str(PROBES / script), url, str(outdir), case, json.dumps(args or {})]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=client_env(),
                          cwd=str(outdir))
    if done.returncode != 0:
        raise AssertionError(f"{script} {case} failed ({done.returncode}):\n{done.stderr[-6000:]}")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def pixel_grid(crs: str, transform, width: int, height: int) -> Dict[str, Any]:
    return {"crsCode": crs, "affineTransform": dict(zip(AFFINE_KEYS, (float(v) for v in transform))),
            "dimensions": {"width": int(width), "height": int(height)}}


def reference_pixels(ee: Any, image: Any, grid: Dict[str, Any]):
    """What the sandbox's computePixels answers for ``image`` on ``grid`` (structured array)."""
    return ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid})
