"""One rule each, in the core, and the command line's answers from it: the filter grammar, the
huge-job rule, the wording of times, the status row, the footprint index of chips."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eeextract_plugin.core import filters, plan, wording
from eeextract_plugin.core.errors import (
    BadInput,
    Cancelled,
    EEExtractError,
    JobNotFound,
    SessionError,
)
from eeextract_plugin.core.spec import JobSpec, SpecError
from eeextract_plugin.core.spec_edit import keep_unshown_fields
from eeextract_plugin.core.status import job_status, list_jobs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("text", [
    "CLOUDY_PIXEL_PERCENTAGE lt 20; SPACECRAFT_NAME eq Sentinel-2A",
    "CLOUDY_PIXEL_PERCENTAGE < 20; SPACECRAFT_NAME == Sentinel-2A",
    "CLOUDY_PIXEL_PERCENTAGE<20;SPACECRAFT_NAME=Sentinel-2A",
])
def test_both_filter_spellings_mean_the_same(text):
    assert filters.parse_filters(text) == [
        {"property": "CLOUDY_PIXEL_PERCENTAGE", "op": "lt", "value": 20},
        {"property": "SPACECRAFT_NAME", "op": "eq", "value": "Sentinel-2A"}]


def test_filters_read_back_what_they_write_and_name_the_field_when_wrong():
    parsed = filters.parse_filters("A <> B; X >= 2.5; Y == true; Z = '20'; W gte -3")
    assert [f["op"] for f in parsed] == ["neq", "gte", "eq", "eq", "gte"]
    assert parsed[3]["value"] == "20" and parsed[2]["value"] is True and parsed[4]["value"] == -3
    assert filters.parse_filters(filters.format_filters(parsed)) == parsed
    with pytest.raises(BadInput) as raised:
        filters.parse_filters("CLOUDY lt")
    assert raised.value.field == "source.filters" and "'CLOUDY lt'" in raised.value.reason


def test_every_engine_error_shares_one_base_and_bad_input_names_its_field():
    for cls in (BadInput, SpecError, Cancelled, JobNotFound, SessionError):
        assert issubclass(cls, EEExtractError)
    with pytest.raises(BadInput) as raised:
        JobSpec.from_dict({"version": 1, "name": "x", "kind": "mosaic",
                           "source": {"asset_id": "A"}, "region": {"bbox": [0, 0, 1, 1]},
                           "grid": {"scale": -1}})
    assert raised.value.field == "grid.scale" and raised.value.reason.startswith("must be > 0")


@pytest.mark.parametrize("seconds,words", [
    (None, "unknown"), (0.3, "under 1 s"), (4.25, "4.2 s"), (42, "42 s"), (59.6, "1 min"),
    (75, "1 min 15 s"), (600, "10 min"), (3720, "1 h 02 min"), (200000, "2.3 days")])
def test_durations_are_worded_once(seconds, words):
    assert wording.format_duration(seconds) == words


def test_one_huge_job_rule_for_bytes_requests_and_time():
    assert not plan.is_huge(10**9, 1000, 60)
    assert plan.is_huge(plan.HUGE_BYTES, 1, 1)
    assert plan.is_huge(1, plan.HUGE_REQUESTS, 1)
    assert plan.is_huge(1, 1, plan.HUGE_SECONDS)


def test_a_form_keeps_what_a_loaded_file_says_about_fields_it_does_not_show():
    loaded = {"version": 1, "name": "a", "description": "why",
              "execution": {"max_retries": 3},
              "source": {"type": "collection", "asset_id": "S2", "index": {"name": "NDVI", "normalized_difference": ["B8", "B4"]}},
              "grid": {"crs": "EPSG:32629", "crs_transform": [10, 0, 0, 0, -10, 0]},
              "method": {"type": "export_gcs", "bucket": "b", "shard_size": 128}}
    form = {"version": 1, "name": "a", "source": {"type": "collection", "asset_id": "S2"},
            "grid": {"crs": "EPSG:32629"}, "method": {"type": "export_drive", "folder": "f"}}
    merged = keep_unshown_fields(form, loaded)
    assert merged["description"] == "why" and merged["execution"] == {"max_retries": 3}
    assert merged["source"]["index"]["name"] == "NDVI"
    assert merged["grid"]["crs_transform"] == [10, 0, 0, 0, -10, 0]
    assert "shard_size" not in merged["method"]  # another method: its tuning does not apply
    assert "crs_transform" not in keep_unshown_fields({**form, "grid": {"crs": "EPSG:4326"}}, loaded)["grid"]
    assert "crs_transform" not in keep_unshown_fields(
        {**form, "grid": {"crs": "EPSG:32629", "scale": 20}}, loaded)["grid"]
    assert form == {"version": 1, "name": "a", "source": {"type": "collection", "asset_id": "S2"},
                    "grid": {"crs": "EPSG:32629"}, "method": {"type": "export_drive", "folder": "f"}}


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "eeextract_plugin.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_png_chips_get_a_footprint_index_and_the_cli_status_row_is_the_cores(tmp_path):
    """A chips job (PNG chips have no georeferencing of their own) writes `<name>-index.gpkg`
    with one footprint per chip, from the command line as from the dock and Processing; and
    `eeextract status` prints the core's status row."""
    from osgeo import ogr

    points = tmp_path / "points.geojson"
    points.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"pid": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [-8.45 + 0.02 * i, 38.35]}} for i in range(3)]}))
    job = tmp_path / "chips.json"
    job.write_text(json.dumps({
        "version": 1, "name": "chips", "kind": "chips",
        "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
        "region": {"type": "file", "path": str(points), "id_field": "pid"},
        "output": {"directory": str(tmp_path / "out"), "format": "PNG", "chip_size": 8,
                   "visualization": {"min": 0, "max": 3000}}}))
    workdir = tmp_path / "home"
    run = _cli("run", str(job), "--sandbox", "--workdir", str(workdir), "--no-progress")
    assert run.returncode == 0, run.stderr
    index = tmp_path / "out" / "chips-index.gpkg"
    assert f"index (1):\n    {index}" in run.stdout
    ds = ogr.Open(str(index))
    layer = ds.GetLayer(0)
    files = sorted(f.GetField("file") for f in layer)
    assert files == sorted(str(p) for p in (tmp_path / "out").glob("*.png")) and len(files) == 3
    ds = None
    (row,) = list_jobs(workdir)
    status = _cli("status", "--workdir", str(workdir))
    assert status.stdout.strip() == row.line() == job_status(row.id, workdir).line()
    assert row.state == "completed" and row.outputs_done == 3
