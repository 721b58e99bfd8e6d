"""The same job on threads and on a Dask cluster of worker processes gives the same bytes
(issue 13): a COG mosaic, PNG chips, a table of samples and a time series, an export whose
parts the workers download from a private bucket; and the spec / command line say how."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _dask_helpers import ROOT, example, session_for, sha, start_sandbox  # noqa: E402

from eeextract_plugin.core.errors import BadInput  # noqa: E402
from eeextract_plugin.core.runner import run_job  # noqa: E402
from eeextract_plugin.core.spec import JobSpec, SpecError  # noqa: E402
from eeextract_plugin.core.status import list_jobs  # noqa: E402


def _on_dask(spec: JobSpec, address: str) -> JobSpec:
    d = spec.to_dict()
    d["execution"] = {**d["execution"], "engine": "dask", "dask_scheduler": address}
    return JobSpec.from_dict(d)


def _both(spec: JobSpec, session, tmp_path: Path, address: str):
    """(thread result, Dask result) of the same spec in two output folders."""
    threads_spec = JobSpec.from_dict({**spec.to_dict(), "output": {**spec.output.to_dict(),
                                                                   "directory": str(tmp_path / "threads")}})
    dask_spec = _on_dask(JobSpec.from_dict({**spec.to_dict(), "output": {**spec.output.to_dict(),
                                                                         "directory": str(tmp_path / "dask")}}),
                         address)
    a = run_job(threads_spec, session, workdir=tmp_path / "threads" / ".w")
    b = run_job(dask_spec, session, workdir=tmp_path / "dask" / ".w")
    assert a.ok, a.message
    assert b.ok, b.message
    assert any("units ran as tasks on the Dask cluster" in n for n in b.notices), b.notices
    return a, b


def _shas(paths):
    return {Path(p).name: sha(p) for p in paths}


def test_a_cog_mosaic_is_byte_identical(sandbox_url, dask_cluster, tmp_path):
    session = session_for(sandbox_url)
    spec = example("dem-mosaic", tmp_path, tile_size=256)
    a, b = _both(spec, session, tmp_path, dask_cluster.scheduler_address)
    assert b.units_done == a.units_done > 4  # several tiles, written by several workers
    assert _shas(a.rasters) == _shas(b.rasters)
    assert b.stats.successes == b.units_done and b.stats.rate_limited == 0


def _index_rows(path: str):
    """The footprint index's rows, with each file's name (the folders differ)."""
    from osgeo import ogr

    ds = ogr.Open(path)
    rows = [(f.GetField("id"), Path(f.GetField("file")).name, f.GetGeometryRef().ExportToWkt())
            for f in ds.GetLayer(0)]
    ds = None  # noqa: F841
    return rows


def test_png_chips_are_byte_identical(sandbox_url, dask_cluster, tmp_path):
    session = session_for(sandbox_url)
    a, b = _both(example("s2-chips", tmp_path), session, tmp_path, dask_cluster.scheduler_address)
    assert len(b.rasters) == 4 and _shas(a.rasters) == _shas(b.rasters)
    assert b.index and _index_rows(a.index) == _index_rows(b.index)  # the footprint index too


def test_a_table_and_a_time_series_are_byte_identical(sandbox_url, dask_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("OGR_CURRENT_DATE", "2026-01-01T00:00:00Z")  # GeoPackages stamp their writing time
    session = session_for(sandbox_url)
    for name in ("dem-sample-table", "s2-ndvi-timeseries"):
        a, b = _both(example(name, tmp_path / name), session, tmp_path / name, dask_cluster.scheduler_address)
        assert b.units_done == a.units_done >= 2
        assert len(b.tables) == len(a.tables) >= 1 and _shas(a.tables) == _shas(b.tables), name


def test_an_export_is_downloaded_mosaicked_and_analysed_by_workers(dask_cluster, tmp_path):
    """Parts land in a private bucket; workers download them with credentials they load by name
    (here the sandbox's anonymous mode), mosaic them and run the zonal statistics."""
    server = start_sandbox(tmp_path)
    try:
        session = session_for(server.url)
        zones = tmp_path / "zones.geojson"
        zones.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"zid": f"z{i}"}, "geometry": {"type": "Polygon", "coordinates": [[
                [-8.5 + 0.05 * i, 38.3], [-8.45 + 0.05 * i, 38.3], [-8.45 + 0.05 * i, 38.35],
                [-8.5 + 0.05 * i, 38.35], [-8.5 + 0.05 * i, 38.3]]]}} for i in range(3)]}))
        spec = example("dem-mosaic", tmp_path)
        d = spec.to_dict()
        d["region"] = {"type": "bbox", "bbox": [-8.5, 38.3, -8.35, 38.38], "crs": "EPSG:4326"}
        d["method"] = {"type": "export_gcs", "bucket": "sandbox-private", "file_dimensions": 256,
                       "shard_size": 256}
        d["zonal"] = {"polygons": str(zones), "id_field": "zid", "statistics": ["mean", "count"]}
        spec = JobSpec.from_dict(d)
        a, b = _both(spec, session, tmp_path, dask_cluster.scheduler_address)
        assert b.export is not None and b.export.submitted == 1
        assert _shas(a.rasters) == _shas(b.rasters)
        assert sorted(Path(p).name for p in b.zonal_tables) == sorted(Path(p).name for p in a.zonal_tables)
        assert {Path(p).suffix for p in b.zonal_tables} >= {".csv"}
        csv = [p for p in b.zonal_tables if p.endswith(".csv")][0]
        assert Path(csv).read_text() == Path([p for p in a.zonal_tables if p.endswith(".csv")][0]).read_text()
        # The parts really were split, and the workers' downloads left nothing behind.
        assert not list((tmp_path / "dask" / ".w").glob("*/*.tif"))
    finally:
        server.stop()


# ------------------------------------------------------------------------------ the settings
def _mosaic(**execution) -> dict:
    return {"version": 1, "name": "m", "kind": "mosaic", "source": {"asset_id": "SANDBOX/DEM"},
            "region": {"bbox": [0, 0, 1, 1]}, "execution": execution}


def test_the_spec_says_where_units_run():
    assert JobSpec.from_dict(_mosaic()).execution.engine == "threads"
    assert "engine" not in JobSpec.from_dict(_mosaic()).to_dict()["execution"]  # job files as before
    spec = JobSpec.from_dict(_mosaic(engine="dask", dask_scheduler="tcp://10.0.0.5:8786"))
    assert spec.execution.uses_urls and spec.to_dict()["execution"]["dask_scheduler"] == "tcp://10.0.0.5:8786"
    assert JobSpec.from_dict(_mosaic(engine="dask", dask_scheduler="local:3")).execution.dask_scheduler == "local:3"
    for bad, field in (({"engine": "spark"}, "execution.engine"),
                       ({"engine": "dask", "request_kind": "pixels"}, "execution.request_kind"),
                       ({"engine": "dask", "dask_scheduler": "local:0"}, "execution.dask_scheduler"),
                       ({"engine": "dask", "dask_scheduler": "my-laptop"}, "execution.dask_scheduler"),
                       ({"dask_scheduler": "tcp://h:8786"}, "execution.dask_scheduler")):
        with pytest.raises(SpecError) as err:
            JobSpec.from_dict(_mosaic(**bad))
        assert err.value.field == field, bad
    with pytest.raises(SpecError, match="workers do not hold"):
        JobSpec.from_dict(_mosaic(engine="dask", request_kind="pixels"))


def test_the_command_line_flag_sets_the_engine(tmp_path):
    from eeextract_plugin.cli.main import _apply_quota_args, build_parser

    job = tmp_path / "job.json"
    job.write_text(json.dumps(_mosaic()))
    args = build_parser().parse_args(["run", str(job), "--dask", "local:2"])
    spec = _apply_quota_args(JobSpec.from_file(job), args)
    assert spec.execution.engine == "dask" and spec.execution.dask_scheduler == "local:2"
    args = build_parser().parse_args(["run", str(job), "--dask", "nowhere"])
    with pytest.raises(SpecError, match="scheduler address"):
        _apply_quota_args(JobSpec.from_file(job), args)


def test_without_dask_installed_the_error_says_what_to_install(sandbox_url, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("dask", "distributed") else real(name, *a))
    spec = example("dem-mosaic", tmp_path, engine="dask")
    with pytest.raises(BadInput) as err:
        run_job(spec, session_for(sandbox_url), workdir=tmp_path / "w")
    assert err.value.field == "execution.engine" and "pip install" in err.value.reason
    assert list_jobs(tmp_path / "w") == []  # nothing was recorded


def test_the_plugin_and_the_thread_engine_never_import_dask():
    """Dask is optional: importing the core, running its CLI parser and the thread engine's
    modules must not import ``distributed`` (checked in a fresh interpreter)."""
    import subprocess

    code = ("import sys; import eeextract_plugin.core.runner, eeextract_plugin.cli.main, "
            "eeextract_plugin.core.cluster.engine; "
            "print('distributed' in sys.modules or 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ the command line
def test_eeextract_run_dask_local_starts_its_own_cluster(sandbox_url, tmp_path):
    """`eeextract run job.json --dask local:2`: a cluster of two worker processes started for the
    run and closed after it; the same file as on threads."""
    import subprocess

    spec = example("dem-mosaic", tmp_path / "dask", tile_size=256)
    job = tmp_path / "job.json"
    job.write_text(json.dumps(spec.to_dict()))
    out = subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", "run", str(job), "--dask", "local:2",
                          "--url", sandbox_url, "--project", "sandbox", "--workdir", str(tmp_path / "w"),
                          "--no-progress", "--yes"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "units ran as tasks on a local Dask cluster (2 workers" in out.stdout
    assert "distributed." not in out.stderr  # Dask's own INFO lines stay quiet without -v
    threads = run_job(example("dem-mosaic", tmp_path / "threads", tile_size=256), session_for(sandbox_url),
                      workdir=tmp_path / "wt")
    assert sha(threads.rasters[0]) == sha(tmp_path / "dask" / Path(threads.rasters[0]).name)


def test_an_unreachable_scheduler_is_bad_input_and_the_job_stays_resumable(sandbox_url, tmp_path, monkeypatch):
    import socket

    from eeextract_plugin.core.cluster import connection

    monkeypatch.setattr(connection, "CONNECT_TIMEOUT_S", 2)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = example("dem-mosaic", tmp_path, engine="dask", dask_scheduler=f"tcp://127.0.0.1:{port}")
    with pytest.raises(BadInput) as err:
        run_job(spec, session_for(sandbox_url), workdir=tmp_path / "w")
    assert err.value.field == "execution.dask_scheduler" and "cannot reach the Dask scheduler" in err.value.reason
    [row] = list_jobs(tmp_path / "w")
    assert row.state == "planned" and row.units_done == 0  # nothing started: resume runs it
