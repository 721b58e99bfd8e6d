"""Names from ids a user or a server chose (issue 16, fault 1 and 3): one function maps every id to
a safe, unique file name. Property tests: random ids never share a name, never leave the output
folder, whatever they hold (dots, unicode, ``..``, separators, device names, duplicates after
sanitising)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from eeextract_plugin.core.grid import PixelGrid
from eeextract_plugin.core.naming import (
    MAX_NAME_BYTES,
    distinct_ids,
    file_stem_problem,
    safe_name,
    unique_names,
)
from eeextract_plugin.core.plan import build_plan
from eeextract_plugin.core.regions import RegionFeature
from eeextract_plugin.core.source import BandInfo, ImageRef, SourceInfo
from eeextract_plugin.core.spec import JobSpec

# Ids as hostile as they come: pieces that sanitise to the same thing, separators, dots, device
# names, unicode in both normal forms, control characters, very long runs.
PIECES = st.sampled_from(["plot", ".", "..", "/", "\\", "1", "2", "_", "-", " ", "~", "CON", "nul",
                          "lpt1", "é", unicodedata.normalize("NFD", "é"), "Plot", "PLOT", "ß", "ss",
                          "\n", "\x00", ":", "*", "?", "x" * 120, "日本", "\u202e", "~2"])
IDS = st.lists(st.one_of(st.lists(PIECES, min_size=0, max_size=6).map("".join), st.text(max_size=40)),
               min_size=1, max_size=40)


def fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def assert_safe_component(name: str, max_bytes: int = MAX_NAME_BYTES) -> None:
    assert name and name not in (".", "..")
    assert "/" not in name and "\\" not in name and ".." not in name
    assert all(c.isprintable() for c in name)
    assert not name.startswith(".") and not name.endswith(".")
    assert len(name.encode("utf-8")) <= max_bytes
    assert name.split(".", 1)[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


@given(IDS)
@settings(max_examples=300, deadline=None)
def test_random_ids_never_share_a_name_nor_leave_the_folder(ids):
    names = unique_names(ids)
    assert set(names) == {str(i) for i in ids}
    for name in names.values():
        assert_safe_component(name)
    folded = [fold(n) for n in names.values()]
    assert len(set(folded)) == len(folded), names  # distinct even on Windows and macOS
    # The result is the set's, not the order's: a resumed job finds the same names.
    assert unique_names(list(reversed(ids))) == names


@given(IDS)
@settings(max_examples=100, deadline=None)
def test_repeated_ids_become_distinct_outputs(ids):
    out = distinct_ids(ids)
    assert len(out) == len(ids) and len(set(out)) == len(out)
    assert [o for o, i in zip(out, ids) if o == i] == [i for i, o in zip(ids, out) if o == i]


def _collection_spec(directory: Path, fmt: str = "COG") -> JobSpec:
    return JobSpec.from_dict({
        "version": 1, "name": "s2", "kind": "collection",
        "source": {"type": "collection", "asset_id": "SANDBOX/S2_SR"},
        "region": {"type": "bbox", "bbox": [12.45, 41.88, 12.46, 41.89]},
        "grid": {"crs": "EPSG:4326", "scale": 0.001}, "output": {"directory": str(directory), "format": fmt}})


@given(IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_planned_files_of_hostile_image_ids_are_distinct_and_inside_the_folder(tmp_path, ids):
    """system:index is the server's (a user's expression can set it): ``../../X`` included."""
    out_dir = (tmp_path / "out").resolve()
    spec = _collection_spec(out_dir)
    info = SourceInfo([BandInfo("B4", "uint16", None)], None, [ImageRef(key=k) for k in ids])
    plan = build_plan(spec, info, [RegionFeature("0", box(12.45, 41.88, 12.46, 41.89), "EPSG:4326")])
    paths = [Path(o.path) for o in plan.outputs]
    assert len(plan.outputs) == len(ids)
    assert len({o.output_id for o in plan.outputs}) == len(ids)
    assert len({fold(p.name) for p in paths}) == len(paths)
    for p in paths:
        assert Path(os.path.normpath(p)).parent == out_dir and p.parent == out_dir
        assert_safe_component(p.name, max_bytes=255)


@given(st.lists(st.sampled_from(["a/b", "a_b", "A_B", "plot.1", "plot.2", "../..", "..", "CON", "x" * 200]),
                min_size=2, max_size=8, unique=True))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_planned_chips_of_hostile_feature_ids_are_distinct_and_inside_the_folder(tmp_path, ids):
    spec = JobSpec.from_dict({
        "version": 1, "name": "c", "kind": "chips", "source": {"type": "asset", "asset_id": "X/Y"},
        "region": {"type": "geometry", "geometry": {"type": "Point", "coordinates": [500000, 4640000]},
                   "crs": "EPSG:32633"},
        "grid": {"crs": "EPSG:32633", "scale": 10},
        "output": {"chip_size": 8, "format": "GEO_TIFF", "directory": str(tmp_path)}})
    feats = [RegionFeature(i, Point(500000 + 100 * n, 4640000), "EPSG:32633") for n, i in enumerate(ids)]
    plan = build_plan(spec, SourceInfo([BandInfo("B4", "uint16", None)], None), feats)
    names = [Path(o.path).name for o in plan.outputs]
    assert len({fold(n) for n in names}) == len(ids)
    assert all(Path(o.path).parent == tmp_path for o in plan.outputs)


def test_dotted_ids_keep_their_dots_and_get_their_own_staging_file(tmp_path):
    from eeextract_plugin.core.writer import StagingRaster

    names = unique_names(["plot.1", "plot.2", "plot.3"])
    assert names == {"plot.1": "plot.1", "plot.2": "plot.2", "plot.3": "plot.3"}
    grid = PixelGrid("EPSG:4326", (1, 0, 0, 0, -1, 0), 4, 4)
    raws = {StagingRaster(tmp_path / n, grid, ["b"], "uint8").raw_path for n in names.values()}
    assert len(raws) == 3


@pytest.mark.parametrize("name", ["..", "a/b", " ", "", "a\nb", "CON", "nul.x", ".hidden", "x" * 101, "a.."])
def test_a_users_own_name_is_refused_not_rewritten(name):
    assert file_stem_problem(name)


@pytest.mark.parametrize("name", ["dem", "S2 NDVI", "plot.1", "Évora", "a-b_c"])
def test_ordinary_names_are_fine(name):
    assert file_stem_problem(name) is None
    assert safe_name(name.replace(" ", "_")) == name.replace(" ", "_")
