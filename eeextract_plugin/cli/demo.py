"""``eeextract demo`` (``make demo``): the example jobs, end to end, against an embedded sandbox.

Starts the sandbox in this process, initialises the real ``ee`` client against it, runs
``examples/dem-mosaic.json`` (a DEM mosaic → COG), ``examples/s2-ndvi-composite.json`` (Sentinel-2
NDVI composites per 30-day window → COGs), ``examples/s2-chips.json`` (RGB PNG chips) and
``examples/dem-expression-export.json`` (a computed image by batch export to Cloud Storage, parts
downloaded and mosaicked), writes
real files under ``--output`` and prints where they are and their figures.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, List

from eeextract_plugin.cli.progress_bar import ProgressBar
from eeextract_plugin.core.mosaic import describe
from eeextract_plugin.core.runner import run_job
from eeextract_plugin.core.session import SessionConfig, initialise
from eeextract_plugin.core.spec import JobSpec
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.server import SandboxServer

log = logging.getLogger(__name__)

EXAMPLES = ("dem-mosaic.json", "s2-ndvi-composite.json", "s2-chips.json", "dem-expression-export.json")


def examples_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "examples"


def run_demo(output: Path, progress: bool = True) -> int:
    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="eeextract-demo-sandbox-"))
    server = SandboxServer(SandboxConfig(port=0, state_dir=state)).start()
    failures = 0
    try:
        print(f"sandbox (local Earth Engine emulator) at {server.url}")
        session = initialise(SessionConfig(project="sandbox", credentials="none", url=server.url))
        for name in EXAMPLES:
            spec = JobSpec.from_file(examples_dir() / name)
            spec.output.directory = str(output / spec.name)
            spec.output.overwrite = True
            print(f"\n== {spec.name}: {spec.description}")
            bar = ProgressBar(progress, spec.name)
            t0 = time.monotonic()
            try:
                result = run_job(spec, session, workdir=output / ".eeextract", progress=bar)
            finally:
                bar.close()
            print(f"   {result.state} in {time.monotonic() - t0:.1f} s: {result.units_done} "
                  f"{'export task(s)' if result.export is not None else 'requests'}, "
                  f"{result.bytes / 1e6:.1f} MB (job {result.job_id})")
            if not result.ok:
                failures += 1
                print(f"   {result.message}")
            for path in result.rasters:
                _print_file(path, describe)
            for label, paths in (("table", result.tables), ("zonal statistics", result.zonal_tables),
                                 ("footprint index", [result.index] if result.index else []),
                                 ("VRT", [result.vrt] if result.vrt else [])):
                for path in paths:
                    print(f"   {path}: {label}{_features(path)}")
    finally:
        server.stop()
        shutil.rmtree(state, ignore_errors=True)
    print(f"\nall files under {output}")
    return 0 if failures == 0 else 1


def _features(path: str) -> str:
    """``, N feature(s)`` of a vector file (tables, the index); empty when it is not one."""
    from osgeo import gdal

    ds = gdal.OpenEx(path, gdal.OF_VECTOR)
    if ds is None:
        return ""
    count = sum(ds.GetLayer(i).GetFeatureCount() for i in range(ds.GetLayerCount()))
    ds = None  # noqa: F841
    return f", {count} feature(s)"


def _print_file(path: str, describe: Any) -> None:
    try:
        info = describe(path)
    except Exception:  # noqa: BLE001 - a PNG without georeferencing still describes
        print(f"   {path}")
        return
    extra: List[str] = []
    if path.endswith(".tif"):
        from osgeo import gdal

        ds = gdal.Open(path)
        b = ds.GetRasterBand(1)
        lo, hi, mean, _ = b.ComputeStatistics(False)
        extra.append(f"min {lo:.3g} max {hi:.3g} mean {mean:.3g}")
        ds = None
        aux = Path(path + ".aux.xml")
        if aux.exists():
            aux.unlink()
    print(f"   {path}: {info['width']} x {info['height']} px, {info['bands']} band(s) {info['type']}, "
          f"{info['driver']}{' COG' if info.get('layout') == 'COG' else ''}, "
          f"{info['overviews']} overviews, {info['bytes'] / 1e6:.2f} MB" + (f"; {extra[0]}" if extra else ""))
