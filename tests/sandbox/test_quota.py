"""The 2026 quota model: per-project EECU accounting in proportion to the pixels computed,
tiers and monthly budgets, restricted mode (its header, the real client's warning, reduced
parallelism), download-URL limits with Earth Engine's texts, workloadTag validation."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
import requests

from eeextract_plugin.sandbox.config import ExportTiming, LatencyModel, SandboxConfig
from eeextract_plugin.sandbox.quota import (
    QUOTA_STATUS_HEADER,
    TIER_EECU_HOURS,
    QuotaLedger,
    QuotaModel,
    validate_workload_tag,
)
from eeextract_plugin.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
ARCSEC = 1 / 3600
RESTRICTED_WARNING = "exceeded its noncommercial compute quota and is now in restricted mode"


def dem_grid(width, height, scale=ARCSEC):
    return {"crsCode": "EPSG:4326", "dimensions": {"width": width, "height": height},
            "affineTransform": {"scaleX": scale, "shearX": 0.0, "translateX": -8.5, "shearY": 0.0,
                                "scaleY": -scale, "translateY": 38.4}}


def usage(server, project="sandbox"):
    return requests.get(f"{server.url}/sandbox/quota/{project}", timeout=10).json()


@pytest.fixture()
def server(tmp_path):
    config = SandboxConfig(port=0, state_dir=tmp_path, export_timing=ExportTiming(startup_s=0.0))
    with SandboxServer(config) as running:
        yield running


def _init(server, project="sandbox"):
    import ee

    ee.Initialize(credentials=None, url=server.url, project=project)
    ee.data.resetWorkloadTag(True)
    return ee


def test_interactive_requests_cost_eecu_in_proportion_to_pixels(server):
    ee = _init(server)
    model = server.config.quota
    before = usage(server)["eecuSeconds"]
    assert before == 0 and usage(server)["tier"] == "community"
    assert usage(server)["budgetEecuSeconds"] == 150 * 3600
    ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                           "grid": dem_grid(100, 100)})
    one = usage(server)["eecuSeconds"]
    # 10,000 stored pixels read and 10,000 band-pixels answered.
    assert one == pytest.approx(model.eecu_seconds_per_request + 20_000 / 1e6 * model.eecu_seconds_per_megapixel)
    ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                           "grid": dem_grid(200, 200)})
    four = usage(server)["eecuSeconds"] - one
    assert four - model.eecu_seconds_per_request == pytest.approx(4 * (one - model.eecu_seconds_per_request))
    # A composite reads every image: a median of N scenes costs about N times one scene.
    region = ee.Geometry.Point([-8.4, 38.3])
    scenes = ee.ImageCollection("SANDBOX/S2_SR").filterDate("2024-06-01", "2024-07-01").filterBounds(region)
    n = scenes.size().getInfo()
    assert n >= 3
    grid = {"crsCode": "EPSG:32629", "dimensions": {"width": 50, "height": 50},
            "affineTransform": {"scaleX": 10.0, "shearX": 0.0, "translateX": 560000.0, "shearY": 0.0,
                                "scaleY": -10.0, "translateY": 4240000.0}}
    start = usage(server)["eecuSeconds"]
    ee.data.computePixels({"expression": scenes.first().select("B4"), "fileFormat": "NUMPY_NDARRAY", "grid": grid})
    single = usage(server)["eecuSeconds"] - start
    start = usage(server)["eecuSeconds"]
    ee.data.computePixels({"expression": scenes.select("B4").median(), "fileFormat": "NUMPY_NDARRAY", "grid": grid})
    median = usage(server)["eecuSeconds"] - start
    per_read = 2500 / 1e6 * model.eecu_seconds_per_megapixel
    assert median - single == pytest.approx((n - 1) * per_read, rel=0.01)


def test_workload_tags_are_accounted_and_validated(server):
    ee = _init(server)
    with ee.data.workloadTagContext("field-survey-2026"):
        ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                               "grid": dem_grid(10, 10)})
    ee.Number(1).getInfo()
    tags = usage(server)["eecuSecondsByWorkloadTag"]
    assert set(tags) == {"", "field-survey-2026"} and tags["field-survey-2026"] > tags[""] > 0
    assert validate_workload_tag("A.b_c-9") == "A.b_c-9" and validate_workload_tag("") is None
    for bad in ("-leading", "trailing.", "x" * 64, "sp ace"):
        r = requests.post(f"{server.url}/v1/projects/sandbox/image:computePixels",
                          json={"expression": {"result": "0", "values": {"0": {"constantValue": 1}}},
                                "fileFormat": "NPY", "workloadTag": bad}, timeout=10)
        assert r.status_code == 400
        assert r.json()["error"]["message"].startswith(f'Invalid workload tag "{bad}". Workload tags must be 1-63')
    r = requests.post(f"{server.url}/v1/projects/sandbox/image:export",
                      json={"expression": {"result": "0", "values": {"0": {"constantValue": 1}}},
                            "workloadTag": "bad tag"}, timeout=10)
    assert r.status_code == 400


def test_exports_report_and_charge_their_eecu(server):
    ee = _init(server)
    region = ee.Geometry.Rectangle([-8.45, 38.25, -8.44, 38.26])
    with ee.data.workloadTagContext("batch-run"):
        task = ee.batch.Export.image.toDrive(image=ee.Image("SANDBOX/DEM"), description="dem", region=region,
                                             scale=30, folder="quota", fileNamePrefix="dem")
        task.start()
    deadline = time.monotonic() + 60
    operation = ee.data.getOperation(task.name)
    while not operation.get("done") and time.monotonic() < deadline:
        time.sleep(0.1)
        operation = ee.data.getOperation(task.name)
    assert operation["metadata"]["state"] == "SUCCEEDED"
    eecu = operation["metadata"]["batchEecuUsageSeconds"]
    assert eecu > 0
    assert usage(server)["eecuSecondsByWorkloadTag"]["batch-run"] == pytest.approx(eecu, abs=1e-3)


def test_restricted_mode_header_warning_and_reduced_parallelism(tmp_path):
    budget_hours = 0.03 / 3600  # 0.03 EECU-seconds: a 64 x 64 request costs 0.01 + 0.0082
    config = SandboxConfig(port=0, state_dir=tmp_path, latency=LatencyModel(fixed_s=0.4),
                           quota=QuotaModel(monthly_eecu_hours=budget_hours, restricted_max_concurrent=2))
    with SandboxServer(config) as server:
        ee = _init(server, "my-project")
        request = {"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY", "grid": dem_grid(64, 64)}
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no warning while within the budget
            ee.data.computePixels(request)
        assert not usage(server, "my-project")["restricted"]
        # The request that passes the budget is answered in restricted mode already...
        with pytest.warns(UserWarning, match=RESTRICTED_WARNING):
            ee.data.computePixels(request)
        # ...and so is every later one: the real client warns each time.
        with pytest.warns(UserWarning, match=RESTRICTED_WARNING):
            ee.Number(1).getInfo()
        report = usage(server, "my-project")
        assert report["restricted"] and report["eecuSeconds"] > report["budgetEecuSeconds"]
        # The header is on every answer to the project, errors and metadata calls included...
        r = requests.get(f"{server.url}/v1/projects/my-project/assets/SANDBOX/NOPE", timeout=10)
        assert r.status_code == 404 and r.headers[QUOTA_STATUS_HEADER] == "parallelism_restricted=true"
        # ...and only to it.
        r = requests.get(f"{server.url}/v1/projects/other-project/assets/SANDBOX/NOPE", timeout=10)
        assert QUOTA_STATUS_HEADER not in r.headers
        # Two concurrent interactive requests now, not 40: the third and fourth get 429 at once.
        body = {"expression": {"result": "0", "values": {"0": {"constantValue": 1}}}}
        codes = []

        def call():
            codes.append(requests.post(f"{server.url}/v1/projects/my-project/value:compute", json=body,
                                       timeout=30).status_code)

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 200, 429, 429]


def test_restricted_mode_ends_with_the_month():
    now = [1775001600.0]  # 2026-04-01T00:00Z
    ledger = QuotaLedger(QuotaModel(tier="community"), clock=lambda: now[0])
    ledger.charge("projects/p", 150 * 3600 + 1)
    assert ledger.restricted("projects/p") and not ledger.restricted("projects/q")
    assert ledger.max_concurrent("projects/p", 40) == 4 and ledger.max_concurrent("projects/q", 40) == 40
    now[0] += 30 * 86400  # 2026-05-01
    assert not ledger.restricted("projects/p") and ledger.usage("projects/p")["eecuSeconds"] == 0
    contributor = QuotaLedger(QuotaModel(tier="contributor"))
    contributor.charge("p", 150 * 3600 + 1)
    assert not contributor.restricted("p")
    assert QuotaModel(tier="partner").budget_eecu_seconds == TIER_EECU_HOURS["partner"] * 3600 == 360_000_000
    with pytest.raises(ValueError, match="tier must be one of"):
        QuotaModel(tier="gold")


def test_tier_and_budget_from_the_command_line(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "eeextract_plugin.sandbox", "--port", "0", "--state-dir", str(tmp_path),
         "--tier", "contributor", "--restricted-max-concurrent", "3"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        report = requests.get(url + "/sandbox/quota/sandbox", timeout=10).json()
        assert report["tier"] == "contributor" and report["budgetEecuSeconds"] == 1000 * 3600
        assert report["restrictedMaxConcurrent"] == 3
    finally:
        process.terminate()
        process.wait(timeout=20)
    bad = subprocess.run([sys.executable, "-m", "eeextract_plugin.sandbox", "--tier", "gold"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice: 'gold'" in bad.stderr


def test_download_urls_have_earth_engines_limits_and_texts(server):
    ee = _init(server)
    image = ee.Image("SANDBOX/DEM")
    url = image.getDownloadURL({"crs": "EPSG:4326", "crs_transform": [ARCSEC, 0, -8.5, 0, -ARCSEC, 38.4],
                                "dimensions": [10001, 10], "format": "GEO_TIFF"})
    r = requests.get(url, timeout=30)
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "Pixel grid dimensions (10001x10) must be less than or equal to 10000."
    # 4,096 x 4,096 int16: 4096*4096*(2+1) = 50,331,648 bytes > 32 MiB, refused before computing.
    url = image.getDownloadURL({"crs": "EPSG:4326", "crs_transform": [ARCSEC, 0, -8.5, 0, -ARCSEC, 38.4],
                                "dimensions": [4096, 4096], "format": "GEO_TIFF"})
    started = time.monotonic()
    r = requests.get(url, timeout=30)
    assert r.status_code == 400 and time.monotonic() - started < 5
    assert r.json()["error"]["message"] == (
        "Total request size (50331648 bytes) must be less than or equal to 33554432 bytes.")
    # computePixels keeps its own, larger limits.
    assert ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY",
                                  "grid": dem_grid(10001, 10)}).shape == (10, 10001)
