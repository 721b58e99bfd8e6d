"""The sandbox's protocol surface, driven only through real clients (``ee``, ``requests``,
``http.client``).

Two servers: one with a small fake engine (``_sandbox_fakes.py``) that tests the HTTP surface on
its own, and the session's real sandbox (``sandbox_server`` / ``ee_sandbox`` fixtures) for end to
end tests once the real engine is there.
"""

from __future__ import annotations

import http.client
import importlib.util
import io
import json
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from _sandbox_fakes import FakeEngine, FakeExports  # noqa: E402

from eeextract_plugin.sandbox.config import SandboxConfig  # noqa: E402
from eeextract_plugin.sandbox.server import SandboxServer  # noqa: E402

HAS_ENGINE = importlib.util.find_spec("eeextract_plugin.sandbox.engine") is not None
needs_engine = pytest.mark.skipif(not HAS_ENGINE, reason="the sandbox engine is not there yet")

GRID = {"crsCode": "EPSG:4326", "dimensions": {"width": 10, "height": 5},
        "affineTransform": {"scaleX": 0.1, "shearX": 0, "translateX": 5.0,
                            "shearY": 0, "scaleY": -0.1, "translateY": 45.0}}


@pytest.fixture(scope="module")
def fake_server():
    with SandboxServer(SandboxConfig(port=0), engine=FakeEngine(), exports=FakeExports()) as server:
        yield server


@pytest.fixture()
def ee_fake(fake_server):
    import ee

    ee.Initialize(credentials=None, url=fake_server.url, project="sandbox")
    yield ee
    ee.data.setWorkloadTag("")


# ------------------------------------------------------------------------------- discovery

def test_discovery_document_is_v1_and_points_at_the_sandbox(fake_server):
    r = requests.get(fake_server.url + "/$discovery/rest", params={"version": "v1", "prettyPrint": "false"})
    assert r.status_code == 200
    doc = r.json()
    assert doc["version"] == "v1" and doc["id"] == "earthengine:v1"
    assert doc["rootUrl"] == fake_server.url + "/"
    methods = doc["resources"]["projects"]["resources"]
    assert methods["algorithms"]["methods"]["list"]["parameterOrder"] == ["parent"]
    assert methods["assets"]["methods"]["listFeatures"]["parameterOrder"] == ["asset"]
    for res in ("thumbnails", "videoThumbnails", "filmstripThumbnails", "maps"):
        assert "workloadTag" in methods[res]["methods"]["create"]["parameters"]


def test_every_call_the_client_makes_is_declared(ee_fake):
    """Build (not send) every request ``ee.data`` builds, with the keywords it passes: an
    undeclared keyword would raise TypeError here."""
    ee = ee_fake
    p = ee.data._get_cloud_projects()
    raw = ee.data._get_cloud_projects_raw()
    project = "projects/sandbox"
    asset = "projects/earthengine-public/assets/SANDBOX/DEM"
    op = "projects/sandbox/operations/ABC"
    calls = [
        p.algorithms().list(parent=project, prettyPrint=False),
        p.value().compute(body={}, project=project, prettyPrint=False),
        raw.image().computePixels(project=project, body={}),
        raw.assets().getPixels(name=asset, body={}),
        p.assets().get(name=asset, prettyPrint=False),
        p.assets().listAssets(parent=asset, pageSize=2, pageToken="x", filter="f", view="BASIC"),
        p.listAssets(parent=project, pageSize=2, pageToken="x", filter="f", view="BASIC"),
        p.assets().listFeatures(asset=asset, pageSize=2, pageToken="x", region="r", filter="f"),
        p.assets().listImages(parent=asset, pageSize=2, startTime="2019-01-01T00:00:00Z",
                              endTime="2020-01-01T00:00:00Z", region="r", filter="f", view="FULL"),
        p.thumbnails().create(parent=project, fields="name", body={}, workloadTag="t"),
        raw.thumbnails().getPixels(name="projects/sandbox/thumbnails/abc"),
        p.videoThumbnails().create(parent=project, fields="name", body={}, workloadTag="t"),
        p.filmstripThumbnails().create(parent=project, fields="name", body={}, workloadTag="t"),
        p.maps().create(parent=project, fields="name", body={}, workloadTag="t"),
        raw.maps().tiles().get(parent="projects/sandbox/maps/m", x=1, y=2, zoom=3),
        p.table().computeFeatures(project=project, body={}),
        p.tables().create(parent=project, fields="name", body={}, workloadTag="t"),
        p.featureView().create(parent=project, fields="name", body={}),
        p.imageCollection().computeImages(project=project, body={}),
        p.image().export(project=project, body={}),
        p.table().export(project=project, body={}),
        p.image().import_(project=project, body={}),
        p.operations().list(pageSize=500, name=project),
        p.operations().get(name=op),
        p.operations().cancel(name=op, body={}),
        p.operations().wait(name=op, body={}),
        p.operations().delete(name=op),
        p.assets().getIamPolicy(resource=asset, body={}, prettyPrint=False),
        p.assets().move(sourceName=asset, body={}),
        p.getConfig(name="projects/sandbox/config"),
    ]
    assert all(call.uri.startswith(ee.data._get_state().cloud_api_base_url + "/v1/") for call in calls)
    for resource, method in [(p.assets(), "listAssets_next"), (p, "listAssets_next"),
                             (p.operations(), "list_next"), (p.assets(), "listFeatures_next"),
                             (p.assets(), "listImages_next")]:
        assert hasattr(resource, method), method


def test_workload_tag_reaches_the_server(ee_fake):
    ee = ee_fake
    ee.data.setWorkloadTag("bulk-tiles")
    url = ee.Image("SANDBOX/DEM").getThumbURL({"min": 0, "max": 100})
    assert requests.get(url).status_code == 200


# ----------------------------------------------------------------------- the client's methods

def test_get_info(ee_fake):
    assert ee_fake.Number(5).getInfo() == 5
    assert ee_fake.String("hello").getInfo() == "hello"


def test_compute_pixels_npy(ee_fake):
    ee = ee_fake
    array = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                                   "grid": GRID})
    assert array.shape == (5, 10) and array.dtype.names == ("elevation",)
    assert array["elevation"][2, 3] == 2003


def test_compute_pixels_geotiff_on_the_grid(ee_fake):
    from osgeo import gdal

    ee = ee_fake
    data = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "GEO_TIFF", "grid": GRID})
    gdal.FileFromMemBuffer("/vsimem/proto.tif", data)
    ds = gdal.Open("/vsimem/proto.tif")
    assert ds.GetGeoTransform() == (5.0, 0.1, 0.0, 45.0, 0.0, -0.1)
    assert (ds.RasterXSize, ds.RasterYSize) == (10, 5)
    ds = None
    gdal.Unlink("/vsimem/proto.tif")


def test_get_pixels_of_an_asset(ee_fake):
    array = ee_fake.data.getPixels({"assetId": "SANDBOX/DEM", "fileFormat": "NUMPY_NDARRAY", "grid": GRID,
                                    "bandIds": ["elevation"]})
    assert array["elevation"][4, 9] == 4009


def test_thumb_url_is_fetched_without_auth(ee_fake):
    url = ee_fake.Image("SANDBOX/DEM").getThumbURL({"min": 0, "max": 3000, "format": "png"})
    assert url.startswith(ee_fake.data._get_state().tile_base_url + "/v1/projects/sandbox/thumbnails/")
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")


def test_download_url_zip_per_band(ee_fake):
    url = ee_fake.Image("SANDBOX/DEM").getDownloadURL({"name": "dem"})
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == ["dem.elevation.tif"]


def test_map_id_tiles_through_the_client_and_by_url(ee_fake):
    from osgeo import gdal

    ee = ee_fake
    map_id = ee.Image("SANDBOX/DEM").getMapId({"min": 0, "max": 3000})
    assert map_id["mapid"].startswith("projects/sandbox/maps/")
    tile = map_id["tile_fetcher"].fetch_tile(1, 2, 3)
    r = requests.get(map_id["tile_fetcher"].format_tile_url(1, 2, 3))
    assert r.status_code == 200 and r.content == tile
    gdal.FileFromMemBuffer("/vsimem/tile.img", tile)
    ds = gdal.Open("/vsimem/tile.img")
    assert (ds.RasterXSize, ds.RasterYSize) == (256, 256)
    ds = None
    gdal.Unlink("/vsimem/tile.img")
    r = requests.get(map_id["tile_fetcher"].format_tile_url(0, 9, 3))  # y outside 0..7
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_thumbnail_is_not_found(fake_server):
    r = requests.get(fake_server.url + "/v1/projects/sandbox/thumbnails/nope:getPixels")
    assert r.status_code == 404 and r.json()["error"]["status"] == "NOT_FOUND"


def test_get_asset_and_a_missing_one(ee_fake):
    ee = ee_fake
    assert ee.data.getAsset("SANDBOX/DEM")["bands"][0]["id"] == "elevation"
    with pytest.raises(ee.EEException, match="not found"):
        ee.data.getAsset("SANDBOX/NOPE")


def test_list_assets_pages(ee_fake):
    ee = ee_fake
    everything = ee.data.listAssets({"parent": "projects/earthengine-public/assets/SANDBOX/S2_SR"})
    assert len(everything["assets"]) == 25  # followed nextPageToken through listAssets_next
    page = ee.data.listAssets({"parent": "SANDBOX/S2_SR", "pageSize": 10, "filter": "x", "view": "BASIC"})
    assert len(page["assets"]) == 10 and page["nextPageToken"] == "10"
    assert page["assets"][0]["filterSeen"] == "x" and page["assets"][0]["viewSeen"] == "BASIC"


def test_list_images_turns_time_and_region_into_a_filter(ee_fake):
    images = ee_fake.data.listImages({"parent": "SANDBOX/S2_SR", "pageSize": 3, "startTime": "2019-01-01T00:00:00Z",
                                      "endTime": "2019-02-01T00:00:00Z"})
    assert len(images["images"]) == 3
    assert images["images"][0]["filterSeen"] == ('startTime >= "2019-01-01T00:00:00Z" AND '
                                                 'endTime < "2019-02-01T00:00:00Z"')


def test_list_images_rest_method_answers_images(fake_server):
    r = requests.get(fake_server.url + "/v1/projects/earthengine-public/assets/SANDBOX/S2_SR:listImages",
                     params={"pageSize": 2, "startTime": "2019-01-01T00:00:00Z"})
    body = r.json()
    assert r.status_code == 200 and len(body["images"]) == 2 and "nextPageToken" in body
    assert body["images"][0]["filterSeen"] == 'startTime >= "2019-01-01T00:00:00Z"'


def test_list_features_reaches_the_engine_with_the_asset_name(ee_fake):
    result = ee_fake.data.listFeatures({"assetId": "SANDBOX/REGIONS", "pageSize": 4, "filter": "x"})
    assert result["features"][0]["properties"] == {
        "asset": "projects/earthengine-public/assets/SANDBOX/REGIONS", "page_size": 4, "filter": "x"}


def test_compute_features(ee_fake):
    result = ee_fake.data.computeFeatures({"expression": ee_fake.FeatureCollection("SANDBOX/REGIONS"), "pageSize": 7})
    assert result["features"][0]["properties"]["page_size"] == 7


def test_feature_collection_download_url_csv_and_geojson(ee_fake):
    ee = ee_fake
    fc = ee.FeatureCollection([ee.Feature(ee.Geometry.Point([0, 1]), {"name": "f0"})])
    r = requests.get(fc.getDownloadURL("csv"))
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv"
    assert r.text.splitlines() == [
        "system:index,name,value,.geo",
        '0,f0,0.0,"{""type"":""Point"",""coordinates"":[0,1]}"',
        '1,f1,1.5,"{""type"":""Point"",""coordinates"":[1,1]}"',
        '2,f2,3.0,"{""type"":""Point"",""coordinates"":[2,1]}"',
    ]
    r = requests.get(fc.getDownloadURL("csv", ["value", "name"], "zones"))
    assert r.text.splitlines()[:2] == ["value,name", "0.0,f0"]
    assert 'filename="zones.csv"' in r.headers["Content-Disposition"]
    r = requests.get(fc.getDownloadURL("geojson"))
    assert [f["properties"]["name"] for f in r.json()["features"]] == ["f0", "f1", "f2"]


def test_operations_get_list_cancel(ee_fake):
    ee = ee_fake
    task = ee.batch.Export.image.toDrive(ee.Image("SANDBOX/DEM"), description="protocol")
    task.start()
    assert task.status()["state"] == "READY"
    names = [op["name"] for op in ee.data.listOperations()]
    assert task.name in names
    task.cancel()
    assert ee.data.getOperation(task.name)["metadata"]["state"] == "CANCELLED"
    with pytest.raises(ee.EEException, match="not found"):
        ee.data.getOperation("projects/sandbox/operations/UNKNOWN")


# ----------------------------------------------------------------------------------- errors

def test_unknown_route_is_404_json(fake_server):
    for path in ("/nope", "/v1/projects/sandbox/nope", "/v1/nothing"):
        r = requests.get(fake_server.url + path)
        assert r.status_code == 404
        assert r.json()["error"] == {"code": 404, "status": "NOT_FOUND", "message": r.json()["error"]["message"]}


def test_wrong_method_is_an_ee_error(fake_server):
    r = requests.get(fake_server.url + "/v1/projects/sandbox/value:compute")
    assert r.status_code == 405 and r.json()["error"]["status"] == "METHOD_NOT_ALLOWED"
    r = requests.delete(fake_server.url + "/v1/projects/sandbox/algorithms")
    assert r.status_code == 405


def test_malformed_json_and_expression(fake_server):
    url = fake_server.url + "/v1/projects/sandbox/value:compute"
    r = requests.post(url, data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"
    r = requests.post(url, json=[1, 2])
    assert r.status_code == 400
    r = requests.post(url, json={"expression": {"values": 3}})
    assert r.status_code == 400 and "expression" in r.json()["error"]["message"]


def test_bad_file_format_is_invalid_argument(fake_server):
    r = requests.post(fake_server.url + "/v1/projects/sandbox/image:computePixels",
                      json={"expression": {"result": "0", "values": {"0": {"constantValue": 1}}},
                            "fileFormat": "BMP"})
    assert r.status_code == 400 and r.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_engine_crash_is_500_and_the_server_keeps_serving(ee_fake, fake_server):
    crash = {"expression": {"result": "0", "values": {"0": {"functionInvocationValue": {
        "functionName": "Test.crash", "arguments": {}}}}}}
    for route in ("value:compute", "image:computePixels"):
        r = requests.post(f"{fake_server.url}/v1/projects/sandbox/{route}", json={**crash, "fileFormat": "NPY"})
        assert r.status_code == 500
        assert r.json()["error"]["status"] == "INTERNAL" and "boom" in r.json()["error"]["message"]
    assert ee_fake.Number(1).getInfo() == 1


def test_unsupported_methods_are_unimplemented(fake_server):
    r = requests.post(fake_server.url + "/v1/projects/sandbox/table:export", json={})
    assert r.status_code == 501 and r.json()["error"]["status"] == "UNIMPLEMENTED"
    r = requests.post(fake_server.url + "/v1/projects/sandbox/videoThumbnails", json={})
    assert r.status_code == 501


def test_download_size_limit(ee_fake):
    ee = ee_fake
    with SandboxServer(SandboxConfig(port=0, max_download_bytes=100), engine=FakeEngine(),
                       exports=FakeExports()) as server:
        ee.Initialize(credentials=None, url=server.url, project="sandbox")
        r = requests.get(ee.Image("SANDBOX/DEM").getDownloadURL({"name": "dem"}))
        assert r.status_code == 400
        # 64 x 48 int16 pixels + one mask byte each
        assert r.json()["error"]["message"] == (
            "Total request size (9216 bytes) must be less than or equal to 100 bytes.")


def test_storage_and_drive_paths_reach_their_emulators(sandbox_server, monkeypatch):
    from google.cloud import storage
    from google.oauth2.credentials import Credentials

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", sandbox_server.url)
    client = storage.Client(project="sandbox", credentials=Credentials(token="user-token"))
    payload = bytes(range(256)) * 8000  # 2 MB: a streamed download
    client.bucket("sandbox-private").blob("protocol/part.bin").upload_from_string(payload)
    assert [b.name for b in client.list_blobs("sandbox-private", prefix="protocol/")] == ["protocol/part.bin"]
    assert client.bucket("sandbox-private").blob("protocol/part.bin").download_as_bytes() == payload
    r = requests.get(sandbox_server.url + "/storage/v1/b/sandbox-private/o")
    assert r.status_code == 401  # private bucket, no token
    r = requests.get(sandbox_server.url + "/drive/v3/files")
    assert r.status_code == 401


def test_storage_paths_without_a_store_are_ee_errors(fake_server):
    r = requests.get(fake_server.url + "/storage/v1/b/sandbox-public/o")
    assert r.headers["Content-Type"].startswith("application/json")
    assert "error" in r.json()


# --------------------------------------------------------------------------- the connection

def test_keep_alive_reuses_one_connection(fake_server):
    host, port = fake_server.url[len("http://"):].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps({"expression": {"result": "0", "values": {"0": {"constantValue": 7}}}})
    conn.request("GET", "/$discovery/rest?version=v1")
    first = conn.getresponse()
    first.read()
    sock = conn.sock
    for _ in range(5):
        conn.request("POST", "/v1/projects/sandbox/value:compute", body=body,
                     headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read()) == {"result": 7}
        assert conn.sock is sock  # the same TCP connection each time
    conn.close()


def test_many_concurrent_connections(fake_server):
    def fetch(i):
        grid = {**GRID, "dimensions": {"width": 16 + i, "height": 8}}
        r = requests.post(fake_server.url + "/v1/projects/sandbox/image:computePixels",
                          json={"expression": {"result": "0", "values": {"0": {"constantValue": 0}}},
                                "fileFormat": "NPY", "grid": grid})
        return r.status_code, np.load(io.BytesIO(r.content)).shape

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(fetch, range(32)))
    assert results == [(200, (8, 16 + i)) for i in range(32)]


def test_stop_closes_idle_keep_alive_connections():
    server = SandboxServer(SandboxConfig(port=0), engine=FakeEngine(), exports=FakeExports()).start()
    session = requests.Session()
    assert session.get(server.url + "/$discovery/rest").status_code == 200
    server.stop()  # returns although the session's connection is still open
    with pytest.raises(requests.ConnectionError):
        session.get(server.url + "/$discovery/rest", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/$discovery/rest", timeout=2)


# ------------------------------------------------------------------ end to end, real engine

@needs_engine
def test_real_sandbox_initializes_and_computes(ee_sandbox):
    ee = ee_sandbox
    assert ee.Number(2).add(3).getInfo() == 5


@needs_engine
def test_real_dem_compute_pixels_npy_and_geotiff(ee_sandbox):
    from osgeo import gdal

    ee = ee_sandbox
    grid = {"crsCode": "EPSG:4326", "dimensions": {"width": 32, "height": 16},
            "affineTransform": {"scaleX": 1 / 3600, "shearX": 0, "translateX": 7.0,
                                "shearY": 0, "scaleY": -1 / 3600, "translateY": 46.0}}
    image = ee.Image("SANDBOX/DEM")
    array = ee.data.computePixels({"expression": image, "fileFormat": "NUMPY_NDARRAY", "grid": grid})
    assert array.shape == (16, 32) and array.dtype.names == ("elevation",)
    assert array.dtype["elevation"] == np.int16
    tiff = ee.data.computePixels({"expression": image, "fileFormat": "GEO_TIFF", "grid": grid})
    gdal.FileFromMemBuffer("/vsimem/real-dem.tif", tiff)
    ds = gdal.Open("/vsimem/real-dem.tif")
    assert ds.GetGeoTransform() == pytest.approx((7.0, 1 / 3600, 0.0, 46.0, 0.0, -1 / 3600))
    np.testing.assert_array_equal(ds.GetRasterBand(1).ReadAsArray(), array["elevation"])
    ds = None
    gdal.Unlink("/vsimem/real-dem.tif")


@needs_engine
def test_real_thumb_and_download_urls(ee_sandbox):
    ee = ee_sandbox
    region = ee.Geometry.Rectangle([7.0, 46.0, 7.1, 46.1])
    image = ee.Image("SANDBOX/DEM")
    r = requests.get(image.getThumbURL({"min": 0, "max": 3000, "region": region, "dimensions": 64,
                                        "format": "png"}))
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    r = requests.get(image.getDownloadURL({"name": "dem", "region": region, "scale": 300,
                                           "format": "ZIPPED_GEO_TIFF"}))
    assert r.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(r.content)).namelist() == ["dem.tif"]


@needs_engine
def test_real_errors(ee_sandbox):
    ee = ee_sandbox
    with pytest.raises(ee.EEException, match="Image asset 'SANDBOX/DOES_NOT_EXIST' not found"):
        ee.data.computePixels({"expression": ee.Image("SANDBOX/DOES_NOT_EXIST"), "fileFormat": "NPY",
                               "grid": GRID})
    with pytest.raises(ee.EEException, match="does not exist or doesn't allow this operation"):
        ee.data.getAsset("SANDBOX/DOES_NOT_EXIST")
    with pytest.raises(ee.EEException, match="Total request size"):
        grid = {**GRID, "dimensions": {"width": 8000, "height": 8000}}  # 8000^2 * 3 bytes > 48 MiB
        ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NPY", "grid": grid})
    assert ee.Number(1).getInfo() == 1  # still serving


def test_garbage_on_the_wire_gets_an_ee_error_and_the_server_keeps_serving(fake_server):
    import socket

    host, port = fake_server.url[len("http://"):].split(":")
    # (each fully read by the server, so that its close sends no RST)
    for garbage in (b"NONSENSE\r\n", b"BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(garbage)
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        if garbage.startswith(b"NONSENSE"):  # HTTP/0.9 style: a body without status line or headers
            assert json.loads(data)["error"]["code"] == 400
            continue
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.split()[1] == b"501"
        assert json.loads(body)["error"]["status"] in ("INVALID_ARGUMENT", "UNIMPLEMENTED")
    assert requests.get(fake_server.url + "/$discovery/rest").status_code == 200


DEM_GRID = {"crsCode": "EPSG:4326", "dimensions": {"width": 40, "height": 30},
            "affineTransform": {"scaleX": 1 / 3600, "shearX": 0, "translateX": 7.25,
                                "shearY": 0, "scaleY": -1 / 3600, "translateY": 46.5}}


@needs_engine
def test_real_get_pixels_equals_compute_pixels_and_is_repeatable(ee_sandbox):
    ee = ee_sandbox
    computed = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "GEO_TIFF",
                                      "grid": DEM_GRID})
    again = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "GEO_TIFF",
                                   "grid": DEM_GRID})
    assert computed == again  # same request, same bytes
    fetched = ee.data.getPixels({"assetId": "SANDBOX/DEM", "fileFormat": "NUMPY_NDARRAY", "grid": DEM_GRID})
    array = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "NUMPY_NDARRAY",
                                   "grid": DEM_GRID})
    np.testing.assert_array_equal(fetched["elevation"], array["elevation"])


@needs_engine
def test_real_visualized_png(ee_sandbox):
    from osgeo import gdal

    ee = ee_sandbox
    png = ee.data.computePixels({"expression": ee.Image("SANDBOX/DEM"), "fileFormat": "PNG", "grid": DEM_GRID,
                                 "visualizationOptions": {"ranges": [{"min": 0, "max": 4000}]}})
    assert png.startswith(b"\x89PNG")
    gdal.FileFromMemBuffer("/vsimem/real-vis.png", png)
    ds = gdal.Open("/vsimem/real-vis.png")
    assert (ds.RasterXSize, ds.RasterYSize) == (40, 30) and ds.RasterCount in (1, 2, 3, 4)
    ds = None
    gdal.Unlink("/vsimem/real-vis.png")


@needs_engine
def test_real_listing_pages_through_the_client(ee_sandbox):
    ee = ee_sandbox
    page = ee.data.listImages({"parent": "SANDBOX/S2_SR", "pageSize": 3,
                               "startTime": "2019-01-10T00:00:00Z", "endTime": "2019-03-01T00:00:00Z"})
    assert len(page["images"]) == 3 and page.get("nextPageToken")
    for image in page["images"]:
        assert "2019-01-10" <= image["startTime"] < "2019-03-01"
    assets = ee.data.listAssets({"parent": "projects/earthengine-public/assets/SANDBOX"})
    ids = {a["id"] for a in assets["assets"]}
    assert {"SANDBOX/DEM", "SANDBOX/S2_SR"} <= ids


@needs_engine
def test_real_table_download_url(ee_sandbox):
    ee = ee_sandbox
    r = requests.get(ee.FeatureCollection("SANDBOX/REGIONS").limit(3).getDownloadURL("csv"))
    lines = r.text.splitlines()
    assert r.status_code == 200 and lines[0].startswith("system:index,") and lines[0].endswith(",.geo")
    assert len(lines) == 4
