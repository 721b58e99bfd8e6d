"""Job spec: round trips, every example valid, messages that name the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from eeextract_plugin.core.spec import JobSpec, SpecError

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.json"))

BASE = {
    "version": 1,
    "name": "t",
    "kind": "mosaic",
    "source": {"type": "asset", "asset_id": "SANDBOX/DEM"},
    "region": {"type": "bbox", "bbox": [7.0, 46.0, 7.5, 46.25]},
}


def with_(path: str, value):
    d = copy.deepcopy(BASE)
    keys = path.split(".")
    cur = d
    for k in keys[:-1]:
        cur = cur.setdefault(k, {})
    cur[keys[-1]] = value
    return d


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_valid_and_round_trips(path):
    spec = JobSpec.from_file(path)
    again = JobSpec.from_dict(json.loads(spec.to_json()))
    assert again.to_dict() == spec.to_dict()
    assert spec.to_dict()["version"] == 1


def test_examples_exist():
    assert len(EXAMPLES) >= 6


def test_file_round_trip(tmp_path):
    spec = JobSpec.from_dict(BASE)
    spec.to_file(tmp_path / "j.json")
    again = JobSpec.from_file(tmp_path / "j.json")
    assert again.output.directory == str(tmp_path)
    again.output.directory = "."
    assert again.to_dict() == JobSpec.from_dict(BASE).to_dict()


@pytest.mark.parametrize(
    "path,value,message",
    [
        ("region.bbox", [8, 46, 7, 47], "region.bbox: xmin must be < xmax"),
        ("region.bbox", [7, 47, 8, 46], "region.bbox: ymin must be < ymax"),
        ("region.bbox", [7, 46, 8], "region.bbox: must be [xmin, ymin, xmax, ymax]"),
        ("grid.scale", 0, "grid.scale: must be > 0"),
        ("grid.scale", -30, "grid.scale: must be > 0"),
        ("grid.crs", "EPSG:999999", "grid.crs: unknown CRS"),
        ("version", 2, "version: 2 is not supported"),
        ("kind", "everything", "kind: must be one of"),
        ("source.asset_id", "not an id!", "source.asset_id: is not an Earth Engine asset ID"),
        ("output.format", "BMP", "output.format: must be one of"),
        ("execution.max_concurrent_requests", 5000, "execution.max_concurrent_requests: must be <= 1000"),
        ("method", {"type": "export_gcs"}, "method.bucket: is required"),
        ("source.expression", "ee.Image(1)", "source.expression: is not used"),
        ("colour", "red", "colour: unknown field"),
        ("region.geometry", {"type": "Polygon", "coordinates": []}, "region.geometry: is empty"),
    ],
)
def test_bad_fields_are_named(path, value, message):
    d = with_(path, value)
    if path == "region.geometry":
        d["region"] = {"type": "geometry", "geometry": value}
    with pytest.raises(SpecError) as info:
        JobSpec.from_dict(d)
    assert str(info.value).startswith(message), str(info.value)


def test_expression_must_be_serialized_json_not_python():
    d = copy.deepcopy(BASE)
    d["source"] = {"type": "expression", "expression": "ee.Image('SANDBOX/DEM')"}
    d["grid"] = {"scale": 30}
    with pytest.raises(SpecError, match=r"^source\.expression: .*not Python source"):
        JobSpec.from_dict(d)


def test_expression_needs_a_scale():
    d = copy.deepcopy(BASE)
    d["source"] = {"type": "expression", "expression": {"result": "0", "values": {"0": {"constantValue": 1}}}}
    with pytest.raises(SpecError, match=r"^grid\.scale: is required"):
        JobSpec.from_dict(d)


def test_malformed_json_names_the_file_and_line(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"version": 1,\n "name": }')
    with pytest.raises(SpecError, match=r"bad\.json: malformed JSON at line 2"):
        JobSpec.from_file(p)


def test_missing_job_file(tmp_path):
    with pytest.raises(SpecError, match="no such job file"):
        JobSpec.from_file(tmp_path / "nope.json")


def test_defaults_and_relative_paths(tmp_path):
    p = tmp_path / "j.json"
    p.write_text(json.dumps(with_("output", {"directory": "out"})))
    spec = JobSpec.from_file(p)
    assert spec.output.directory == str(tmp_path / "out")
    assert spec.output.format == "COG"
    assert spec.execution.max_concurrent_requests == 40  # Earth Engine's default quota
    assert spec.execution.requests_per_second == 100 and spec.method.type == "auto"
    assert spec.grid.snap is True


def test_chips_get_a_default_size_and_need_points():
    d = copy.deepcopy(BASE)
    d["kind"] = "chips"
    with pytest.raises(SpecError, match=r"^region\.type: kind 'chips' needs points"):
        JobSpec.from_dict(d)
    d["region"] = {"type": "geometry", "geometry": {"type": "MultiPoint", "coordinates": [[7, 46]]}}
    assert JobSpec.from_dict(d).output.chip_size == [256, 256]
