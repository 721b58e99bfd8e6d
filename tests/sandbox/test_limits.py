"""The sandbox under load: 429s for concurrency and rate, the latency model, seeded faults.

Server-level tests use real clients (``requests``, ``ee``); the token bucket, latency and fault
plan are also tested on their own with an injected clock and sleep, so nothing here depends on
timing.
"""

from __future__ import annotations

import io
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox_fakes import FakeEngine, FakeExports  # noqa: E402

from eeextract_plugin.sandbox.config import FaultInjection, LatencyModel, SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.limits import Fault, FaultPlan, LoadLimiter, TokenBucket  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402

EXPRESSION = {"result": "0", "values": {"0": {"constantValue": 0}}}
GRID = {"crsCode": "EPSG:4326", "dimensions": {"width": 8, "height": 4},
        "affineTransform": {"scaleX": 0.1, "translateX": 0.0, "scaleY": -0.1, "translateY": 0.0}}


def pixels(url, session=None, timeout=10):
    return (session or requests).post(url + "/v1/projects/sandbox/image:computePixels",
                                      json={"expression": EXPRESSION, "fileFormat": "NPY", "grid": GRID},
                                      timeout=timeout)


class GatedEngine(FakeEngine):
    """compute_pixels blocks until the test opens the gate."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Semaphore(0)

    def compute_pixels(self, expression, grid, band_ids, visualization):
        self.entered.release()
        assert self.gate.wait(20)
        return super().compute_pixels(expression, grid, band_ids, visualization)


# ---------------------------------------------------------------------------- concurrency

def test_requests_beyond_the_concurrency_limit_get_429():
    engine = GatedEngine()
    config = SandboxConfig(port=0, max_concurrent_requests=2, max_requests_per_second=0)
    with SandboxServer(config, engine=engine, exports=FakeExports()) as server, ThreadPoolExecutor(2) as pool:
        running = [pool.submit(pixels, server.url) for _ in range(2)]
        for _ in range(2):
            assert engine.entered.acquire(timeout=10)
        rejected = pixels(server.url)
        assert rejected.status_code == 429
        assert rejected.json()["error"] == {"code": 429, "status": "RESOURCE_EXHAUSTED",
                                            "message": "Too many concurrent aggregations."}
        # metadata calls are not interactive computations: still served
        assert requests.get(server.url + "/v1/projects/sandbox/algorithms").status_code == 200
        engine.gate.set()
        assert [f.result().status_code for f in running] == [200, 200]
        assert pixels(server.url).status_code == 200  # slots are given back
        assert server.limiter.peak_in_flight == 2


def test_default_limit_admits_forty_at_once():
    engine = GatedEngine()
    with SandboxServer(SandboxConfig(port=0, max_requests_per_second=0), engine=engine,
                       exports=FakeExports()) as server, ThreadPoolExecutor(40) as pool:
        running = [pool.submit(pixels, server.url) for _ in range(40)]
        for _ in range(40):
            assert engine.entered.acquire(timeout=20)
        assert pixels(server.url).status_code == 429
        engine.gate.set()
        assert {f.result().status_code for f in running} == {200}


# ----------------------------------------------------------------------------------- rate

def test_token_bucket_refills_at_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=5, clock=lambda: now[0])
    assert [bucket.take() for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.2
    assert bucket.take() and not bucket.take()
    now[0] += 10
    assert sum(bucket.take() for _ in range(10)) == 5  # holds at most one second's worth


def test_zero_rate_is_unlimited():
    bucket = TokenBucket(rate=0)
    assert all(bucket.take() for _ in range(1000))


def test_request_rate_beyond_the_limit_gets_429():
    config = SandboxConfig(port=0, max_requests_per_second=3)
    with SandboxServer(config, engine=FakeEngine(), exports=FakeExports()) as server:
        session = requests.Session()
        statuses = [session.get(server.url + "/v1/projects/sandbox/algorithms").status_code for _ in range(12)]
        assert 429 in statuses and statuses[0] == 200
        r = session.get(server.url + "/v1/projects/sandbox/algorithms")
        while r.status_code != 429:
            r = session.get(server.url + "/v1/projects/sandbox/algorithms")
        error = r.json()["error"]
        assert error["status"] == "RESOURCE_EXHAUSTED" and "Quota exceeded" in error["message"]
        # the discovery document is not rate limited
        assert session.get(server.url + "/$discovery/rest").status_code == 200


# -------------------------------------------------------------------------------- latency

def test_latency_is_fixed_plus_per_megapixel_minus_time_already_spent():
    slept = []
    now = [100.0]
    config = SandboxConfig(latency=LatencyModel(fixed_s=0.3, per_megapixel_s=0.1))
    limiter = LoadLimiter(config, sleep=slept.append, clock=lambda: now[0])
    assert limiter.latency_for(2_000_000) == pytest.approx(0.5)
    with limiter.interactive() as slot:
        now[0] += 0.2  # computing took 0.2 s
        slot.wait_latency(2_000_000)
    assert slept == [pytest.approx(0.3)]
    with limiter.interactive() as slot:
        now[0] += 1.0  # slower than the model: no extra wait
        slot.wait_latency(0)
    assert len(slept) == 1


def test_latency_model_is_applied_by_the_server():
    slept = []
    config = SandboxConfig(port=0, latency=LatencyModel(fixed_s=30.0, per_megapixel_s=1e6))
    server = SandboxServer(config, engine=FakeEngine(), exports=FakeExports())
    server.limiter._sleep = slept.append  # record instead of sleeping
    with server:
        assert pixels(server.url).status_code == 200
    assert len(slept) == 1
    assert slept[0] == pytest.approx(30.0 + 1e6 * 32 / 1e6, abs=1.0)  # 8 x 4 pixels


# --------------------------------------------------------------------------------- faults

def test_fault_plan_is_deterministic_with_the_seed():
    config = SandboxConfig(faults=FaultInjection(seed=42, error_500=0.1, error_503=0.1, connection_reset=0.1,
                                                 truncated_body=0.1, slow_response=0.1))
    first = [FaultPlan(config).next() for _ in range(1)]
    plan_a, plan_b = FaultPlan(config), FaultPlan(config)
    seq_a = [plan_a.next() for _ in range(500)]
    seq_b = [plan_b.next() for _ in range(500)]
    assert seq_a == seq_b and seq_a[0] == first[0]
    counts = {fault: seq_a.count(fault) for fault in Fault}
    assert all(20 <= n <= 80 for n in counts.values()), counts
    assert 200 <= seq_a.count(None) <= 300
    other = FaultPlan(SandboxConfig(faults=FaultInjection(seed=43, error_500=0.5)))
    assert [other.next() for _ in range(50)] != [FaultPlan(SandboxConfig(
        faults=FaultInjection(seed=42, error_500=0.5))).next() for _ in range(50)]


def test_no_faults_by_default():
    plan = FaultPlan(SandboxConfig())
    assert not plan.enabled and all(plan.next() is None for _ in range(100))


def _fault_server(**faults):
    config = SandboxConfig(port=0, max_requests_per_second=0, faults=FaultInjection(**faults))
    return SandboxServer(config, engine=FakeEngine(), exports=FakeExports())


def test_injected_500_and_503():
    with _fault_server(error_500=1.0) as server:
        r = pixels(server.url)
        assert r.status_code == 500 and r.json()["error"]["status"] == "INTERNAL"
    with _fault_server(error_503=1.0) as server:
        r = pixels(server.url)
        assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
        assert requests.get(server.url + "/v1/projects/sandbox/algorithms").status_code == 200  # not interactive


def test_injected_connection_reset_sends_no_response():
    with _fault_server(connection_reset=1.0) as server:
        with pytest.raises(requests.ConnectionError):
            pixels(server.url)
        assert requests.get(server.url + "/$discovery/rest").status_code == 200  # still serving


def test_injected_truncated_body_is_shorter_than_its_content_length():
    with _fault_server(truncated_body=1.0) as server:
        try:
            r = pixels(server.url)
        except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError):
            pass  # urllib3 >= 2 enforces Content-Length itself
        else:
            # urllib3 1.x hands the short body over: only Content-Length tells
            assert r.status_code == 200
            assert 0 < len(r.content) < int(r.headers["Content-Length"])
        assert requests.get(server.url + "/$discovery/rest").status_code == 200


def test_injected_slow_response_waits_slow_s():
    slept = []
    server = _fault_server(slow_response=1.0, slow_s=12.5)
    server.limiter._sleep = slept.append
    with server:
        assert pixels(server.url).status_code == 200
    assert slept == [12.5]


def test_same_seed_same_faults_through_the_server():
    def statuses():
        with _fault_server(seed=7, error_500=0.3, error_503=0.3) as server:
            session = requests.Session()
            return [pixels(server.url, session).status_code for _ in range(20)]

    first, second = statuses(), statuses()
    assert first == second
    assert {200, 500, 503} <= set(first)


def test_the_real_client_retries_an_injected_fault_and_gets_the_pixels():
    import ee

    # a seed whose first draw is a fault and second is not (the client retries once)
    seed = next(s for s in range(1000)
                if (lambda r: r.random() < 0.5 and r.random() >= 0.5)(random.Random(s)))
    with _fault_server(seed=seed, error_503=0.5) as server:
        ee.Initialize(credentials=None, url=server.url, project="sandbox")
        # The client is process-wide: the engine's sessions set its retries to 0 (one retry
        # layer); here the client's own default of 5 is what is under test.
        previous = ee.data._get_state().max_retries
        ee.data.setMaxRetries(5)
        try:
            array = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"),
                                           "fileFormat": "NUMPY_NDARRAY", "grid": GRID})
        finally:
            ee.data.setMaxRetries(previous)
        assert array["elevation"][1, 2] == 1002
        assert server.limiter.faults.drawn == 2


def test_faults_under_concurrency_never_hang_the_server():
    with _fault_server(seed=3, error_500=0.2, connection_reset=0.2, truncated_body=0.2) as server:
        def one(_):
            try:
                r = pixels(server.url, timeout=10)
                if len(r.content) < int(r.headers["Content-Length"]):
                    return "truncated"
                return r.status_code if r.status_code != 200 else np.load(io.BytesIO(r.content)).shape
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                return "dropped"

        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(one, range(64)))
        assert (4, 8) in outcomes and 500 in outcomes and "dropped" in outcomes
        assert "truncated" in outcomes or outcomes.count("dropped") > 10
        assert server.limiter.in_flight == 0
        t0 = time.monotonic()
        assert requests.get(server.url + "/$discovery/rest", timeout=5).status_code == 200
        assert time.monotonic() - t0 < 5


def test_limits_are_per_project():
    engine = GatedEngine()
    config = SandboxConfig(port=0, max_concurrent_requests=1, max_requests_per_second=0)
    with SandboxServer(config, engine=engine, exports=FakeExports()) as server, ThreadPoolExecutor(1) as pool:
        running = pool.submit(pixels, server.url)
        assert engine.entered.acquire(timeout=10)
        assert pixels(server.url).status_code == 429
        other = requests.post(server.url + "/v1/projects/other-project/value:compute",
                              json={"expression": EXPRESSION}, timeout=10)
        assert other.status_code == 200  # another project's slots
        engine.gate.set()
        assert running.result().status_code == 200
