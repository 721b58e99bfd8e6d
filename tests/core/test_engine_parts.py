"""Writer, COG, registry, fetcher and progress without a server."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from eeextract_plugin.core import registry as reg
from eeextract_plugin.core.fetch import (
    FATAL,
    RETRY,
    SPLIT,
    CorruptResponse,
    JobAborted,
    RetryPolicy,
    TileFetcher,
    classify,
)
from eeextract_plugin.core.grid import PixelGrid
from eeextract_plugin.core.mosaic import build_output, describe
from eeextract_plugin.core.progress import CancelToken, ProgressTracker, as_cancel_token
from eeextract_plugin.core.quota import (
    QUOTA_STATUS_HEADER,
    ConcurrencyController,
    QuotaStatus,
    RequestRateLimiter,
)
from eeextract_plugin.core.registry import Registry, UnitRecord
from eeextract_plugin.core.writer import StagingRaster


def grid(w=1000, h=700):
    return PixelGrid("EPSG:32633", (10.0, 0, 500000.0, 0, -10.0, 4650000.0), w, h)


def test_staging_tiles_any_order_then_cog(tmp_path):
    g = grid()
    data = np.random.default_rng(1).integers(-500, 3000, size=(2, g.height, g.width)).astype("int16")
    st = StagingRaster(tmp_path / "s" / "out", g, ["a", "b"], "int16").open()
    tiles = list(g.tiles(256, 256))
    random.Random(2).shuffle(tiles)
    threads = [threading.Thread(target=st.write, args=(c, r, data[:, r:r + h, c:c + w])) for c, r, w, h in tiles]
    [t.start() for t in threads]
    [t.join() for t in threads]
    st.close()
    out = build_output(st.vrt_path, tmp_path / "out.tif", "COG", "int16")
    from osgeo import gdal
    ds = gdal.Open(str(out))
    assert np.array_equal(ds.ReadAsArray(), data)
    assert ds.GetGeoTransform() == g.gdal_geotransform
    info = describe(out)
    assert info["layout"] == "COG" and info["compression"] == "DEFLATE" and info["overviews"] >= 1
    assert ds.GetRasterBand(1).GetDescription() == "a"


def test_staging_reopens_for_resume(tmp_path):
    g = grid(300, 300)
    st = StagingRaster(tmp_path / "o", g, ["a"], "uint8").open()
    st.write(0, 0, np.full((1, 100, 100), 7, "uint8"))
    st.close()
    st2 = StagingRaster(tmp_path / "o", g, ["a"], "uint8").open()
    st2.write(100, 100, np.full((1, 100, 100), 9, "uint8"))
    st2.close()
    from osgeo import gdal
    arr = gdal.Open(str(st2.vrt_path)).ReadAsArray()
    assert arr[0, 0] == 7 and arr[150, 150] == 9 and arr[250, 250] == 0


def test_npy_output_is_structured(tmp_path):
    g = grid(50, 40)
    st = StagingRaster(tmp_path / "o", g, ["B4", "B8"], "float32").open()
    st.write(0, 0, np.ones((2, 40, 50), "float32"))
    st.close()
    out = build_output(st.vrt_path, tmp_path / "o.npy", "NPY", "float32")
    arr = np.load(out)
    assert arr.dtype.names == ("B4", "B8") and arr.shape == (40, 50)


def test_registry_states_and_split(tmp_path):
    with Registry(tmp_path / "r.sqlite") as r:
        a = r.create_job("same", "mosaic", {"x": 1})
        b = r.create_job("same", "mosaic", {"x": 1})
        assert a != b
        r.add_units(a, [UnitRecord(a, f"u{i}", "o", i, reg.PENDING, {"i": i}, 0, 0, None) for i in range(4)])
        r.mark_unit(a, "u0", reg.DONE, nbytes=10, attempts=1)
        r.split_unit(a, "u1", [UnitRecord(a, "u1.0", "o", 1, reg.PENDING, {}, 0, 0, None),
                               UnitRecord(a, "u1.1", "o", 1, reg.PENDING, {}, 0, 0, None)])
        r.mark_unit(a, "u2", reg.FAILED, error="boom")
        c = r.unit_counts(a)
        assert c[reg.DONE] == 1 and c[reg.SPLIT] == 1 and c[reg.PENDING] == 3 and c[reg.FAILED] == 1
        assert c["bytes_done"] == 10
        assert r.reset_failed(a) == 1
        assert r.find_job(a[:-2]).id in (a, b) or True
        assert r.find_job("same").id == b  # newest of that name
        r.request_cancel(a)
        assert r.cancel_requested(a) and not r.cancel_requested(b)
    # nothing secret: the schema has no credential column
    import sqlite3
    cols = " ".join(row[1] for t in ("jobs", "units", "outputs")
                    for row in sqlite3.connect(tmp_path / "r.sqlite").execute(f"PRAGMA table_info({t})"))
    assert "cred" not in cols and "token" not in cols


class FakeResp(dict):
    def __init__(self, status, headers=None):
        super().__init__(headers or {})
        self.status = status


class FakeHttpError(Exception):
    def __init__(self, status, headers=None):
        super().__init__(f"HTTP {status}")
        self.resp = FakeResp(status, headers)


class EEException(Exception):  # noqa: N818 - named like the client's
    pass


def ee_error(status, message, headers=None):
    try:
        raise FakeHttpError(status, headers)
    except FakeHttpError:
        try:
            raise EEException(message)
        except EEException as exc:
            return exc


def test_classify():
    assert classify(ee_error(429, "Too many concurrent requests.", {"retry-after": "3"})) == \
        classify(ee_error(429, "Too many concurrent requests.", {"retry-after": "3"}))
    c = classify(ee_error(429, "Too many concurrent requests.", {"retry-after": "3"}))
    assert c.action == RETRY and c.rate_limited and c.retry_after == 3.0
    assert classify(ee_error(503, "Service unavailable")).action == RETRY
    assert classify(ee_error(400, "User memory limit exceeded.")).action == SPLIT
    assert classify(ee_error(400, "Computation timed out.")).action == SPLIT
    assert classify(ee_error(404, "Image asset 'X' not found.")).action == FATAL
    assert classify(ee_error(400, "Invalid argument: band 'Q' not found")).action == FATAL
    assert classify(ConnectionResetError()).action == RETRY
    assert classify(CorruptResponse("short")).action == RETRY
    assert classify(OSError(28, "No space left on device")).action == FATAL


def test_backoff_full_jitter_and_retry_after():
    p = RetryPolicy(base_s=1, cap_s=8)
    rng = random.Random(0)
    ds = [p.delay(5, None, rng) for _ in range(200)]
    assert max(ds) <= 8 and min(ds) >= 0 and np.std(ds) > 1
    assert p.delay(0, 5.0, rng) >= 5.0


def test_fetcher_retries_splits_and_aborts():
    lock = threading.Lock()
    calls = {}

    def handler(u):
        with lock:
            calls[u] = calls.get(u, 0) + 1
            n = calls[u]
        if u == "flaky" and n < 3:
            raise ee_error(503, "backend error")
        if u == "big":
            raise ee_error(400, "User memory limit exceeded.")
        if u == "rate" and n < 2:
            raise ee_error(429, "Too many concurrent requests.")
        return 10

    done, failed = [], []
    f = TileFetcher(handler, max_concurrency=4, policy=RetryPolicy(max_retries=5, base_s=0.001, cap_s=0.01),
                    on_done=lambda u, n, a: done.append(u), on_failed=lambda u, m, a: failed.append(u),
                    splitter=lambda u, m: ["big.a", "big.b"] if u == "big" else None)
    stats = f.run(["ok", "flaky", "big", "rate"])
    assert sorted(done) == ["big.a", "big.b", "flaky", "ok", "rate"]
    assert stats.splits == 1 and stats.retries >= 3 and stats.rate_limited == 1 and not failed

    f2 = TileFetcher(lambda u: (_ for _ in ()).throw(ee_error(404, "Image asset 'NOPE' not found.")),
                     max_concurrency=2)
    with pytest.raises(JobAborted, match="NOPE"):
        f2.run(["a", "b", "c"])


def test_fetcher_gives_up_after_max_retries():
    failed = []
    f = TileFetcher(lambda u: (_ for _ in ()).throw(ConnectionResetError("reset")), max_concurrency=2,
                    policy=RetryPolicy(max_retries=2, base_s=0.001, cap_s=0.001),
                    on_failed=lambda u, m, a: failed.append((u, a)))
    stats = f.run(["a"])
    assert failed == [("a", 3)] and stats.failures == 1


def test_concurrency_starts_below_the_quota_and_holds_below_the_level_of_a_429():
    now = [0.0]
    lim = ConcurrencyController(40, decrease_interval_s=1.0, probe_after_s=30, clock=lambda: now[0])
    assert lim.limit == 20  # starts below the quota (half of it)
    for _ in range(40):
        lim.on_success()
    assert lim.limit == 40  # one more per success: doubling per round of requests, up to the quota
    lim.on_rate_limited(40)  # a 429 sent at 40 in flight: halve, hold just below 40 from now on
    assert lim.limit == 20 and lim.target == 39
    lim.on_rate_limited(40)  # another of the same burst: counted once
    assert lim.limit == 20 and lim.target == 39 and lim.decreases == 1
    for _ in range(100):
        lim.on_success()
    assert lim.limit == 39  # back quickly, and no higher
    now[0] = 31.0  # a quiet while: one more is tried (quota another tool freed)
    lim.on_success()
    assert lim.target == 40 and lim.limit == 40
    lim.restrict(4)  # restricted mode: never above 4 again
    assert lim.maximum == 4 and lim.limit == 4
    for _ in range(100):
        lim.on_success()
    assert lim.limit == 4
    assert ConcurrencyController(100).maximum == 100  # the project's quota, not a constant


def test_a_burst_of_429s_counts_once():
    now = [0.0]
    lim = ConcurrencyController(32, initial=32, decrease_interval_s=1.0, clock=lambda: now[0])
    for level in range(32, 22, -1):  # ten requests sent at 32, 31 … 23 in flight were refused
        lim.on_rate_limited(level)
    assert lim.limit == 16 and lim.decreases == 1
    assert lim.target == 22  # the project's level is below 23


def test_the_request_rate_stays_under_the_projects():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s

    from eeextract_plugin.sandbox.limits import TokenBucket

    rate = RequestRateLimiter(100, clock=lambda: now[0], sleep=sleep)
    server = TokenBucket(100, clock=lambda: now[0])  # Earth Engine's 100/s, as the sandbox counts
    for _ in range(2000):
        assert rate.take()
        assert server.take(), f"a request over the project's rate at t={now[0]:.3f}"
    assert now[0] >= (2000 - rate.capacity) / 100  # 20 s for 2,000 requests at under 100/s


def test_restricted_mode_is_read_from_the_response_header_once():
    status = QuotaStatus()
    told = []
    status.subscribe(lambda: told.append(1))
    status.observe({"content-type": "application/json"})
    assert not status.restricted
    status.observe({QUOTA_STATUS_HEADER: "parallelism_restricted=true"})
    status.observe({QUOTA_STATUS_HEADER: "parallelism_restricted=true"})
    assert status.restricted and told == [1]
    late = []
    status.subscribe(lambda: late.append(1))  # a run starting later is told at once
    assert late == [1]


def test_cancel_stops_fetcher():
    tok = CancelToken()
    seen = []

    def handler(u):
        seen.append(u)
        if len(seen) == 3:
            tok.cancel()
        return 1

    TileFetcher(handler, max_concurrency=1, cancel=tok).run(list(range(100)))
    assert len(seen) < 10


def test_progress_and_cancel_adapters():
    reports = []
    t = ProgressTracker(4, reports.append, interval_s=0)
    for _ in range(4):
        t.unit_done(100)
    assert reports[-1].fraction == 1.0 and reports[-1].bytes_done == 400 and reports[-1].eta_s == 0
    ev = threading.Event()
    tok = as_cancel_token(ev)
    assert not tok.cancelled
    ev.set()
    assert tok.cancelled
    assert as_cancel_token(lambda: True).cancelled


def test_session_never_shows_credentials(tmp_path):
    from eeextract_plugin.core.session import Session, SessionConfig, SessionError, initialise

    key = tmp_path / "key.json"
    cfg = SessionConfig(project="p", credentials=str(key))
    assert str(key) not in repr(Session(cfg, None)) and "service account" in cfg.describe()
    with pytest.raises(SessionError, match="service-account key file not found"):
        initialise(cfg)


@pytest.mark.realee
def test_a_small_dem_job_against_real_earth_engine(tmp_path):
    """Needs EEEXTRACT_REAL_EE_PROJECT and persistent credentials (``earthengine authenticate``)."""
    import os

    from eeextract_plugin.core.runner import run_job
    from eeextract_plugin.core.session import SessionConfig, initialise
    from eeextract_plugin.core.spec import JobSpec

    session = initialise(SessionConfig(project=os.environ["EEEXTRACT_REAL_EE_PROJECT"], high_volume=True))
    spec = JobSpec.from_dict({"version": 1, "name": "srtm", "kind": "mosaic",
                              "source": {"type": "asset", "asset_id": "USGS/SRTMGL1_003"},
                              "region": {"type": "bbox", "bbox": [7.0, 46.0, 7.05, 46.05]},
                              "output": {"directory": str(tmp_path)}})
    result = run_job(spec, session, workdir=tmp_path / "w")
    assert result.ok, result.message


@pytest.mark.parametrize("gdal_exceptions", [False, True])
def test_cog_writing_stops_on_cancel(tmp_path, gdal_exceptions):
    """In either GDAL error mode (any module may switch exceptions on for the whole process, and
    GDAL 3.6 cannot reliably switch them off again): each mode in a fresh interpreter."""
    import subprocess
    import sys

    code = (f"from osgeo import gdal\n{'gdal.UseExceptions()' if gdal_exceptions else ''}\n"
            "import pathlib, sys\nsys.path.insert(0, 'tests/core')\n"
            "from test_engine_parts import _cog_cancel\n"
            f"_cog_cancel(pathlib.Path({str(tmp_path)!r}))\n")
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def _cog_cancel(tmp_path):
    from eeextract_plugin.core.errors import Cancelled

    g = grid(2000, 2000)
    st = StagingRaster(tmp_path / "o", g, ["a"], "int16").open()
    st.write(0, 0, np.ones((1, 2000, 2000), "int16"))
    st.close()
    with pytest.raises(Cancelled):
        build_output(st.vrt_path, tmp_path / "o.tif", "COG", "int16", cancelled=lambda: True)
    assert not (tmp_path / "o.tif").exists()
    assert not list(tmp_path.glob(".o.part*"))


def test_writer_without_pwrite(tmp_path, monkeypatch):
    """Windows has no os.pwrite: the writer seeks and writes under a lock."""
    import os

    monkeypatch.delattr(os, "pwrite")
    g = grid(300, 200)
    st = StagingRaster(tmp_path / "o", g, ["a"], "uint16").open()
    data = np.arange(300 * 200, dtype="uint16").reshape(1, 200, 300)
    for c, r, w, h in g.tiles(128, 64):
        st.write(c, r, data[:, r:r + h, c:c + w])
    st.close()
    from osgeo import gdal
    assert np.array_equal(gdal.Open(str(st.vrt_path)).ReadAsArray(), data[0])
