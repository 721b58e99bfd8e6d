"""Storage like Cloud Storage and Drive: buckets created through the API (the real
``google-cloud-storage`` client) or by ``--bucket NAME[:public|:readonly]``, exports into them
through the real earthengine-api, a missing bucket refused, Drive folders created on demand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials

from eeextract_plugin.sandbox.config import ExportTiming, SandboxConfig
from eeextract_plugin.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
REGION = [-8.45, 38.25, -8.44, 38.26]


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bucket-state")


@pytest.fixture(scope="module")
def server(state_dir):
    config = SandboxConfig(port=0, state_dir=state_dir, export_timing=ExportTiming(startup_s=0.0))
    with SandboxServer(config) as running:
        yield running


@pytest.fixture()
def clients(server, monkeypatch):
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", server.url)
    return (storage.Client(project="my-project", credentials=Credentials(token="user-token")),
            storage.Client(project="my-project", credentials=AnonymousCredentials()))


def _export(ee, **destination):
    image = ee.Image("SANDBOX/DEM").clip(ee.Geometry.Rectangle(REGION))
    if "bucket" in destination:
        task = ee.batch.Export.image.toCloudStorage(image=image, description="dem", scale=30,
                                                    region=ee.Geometry.Rectangle(REGION), **destination)
    else:
        task = ee.batch.Export.image.toDrive(image=image, description="dem", scale=30,
                                             region=ee.Geometry.Rectangle(REGION), **destination)
    task.start()
    return task


def _wait(ee, task, timeout=60):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        operation = ee.data.getOperation(task.name)
        if operation.get("done"):
            return operation
        time.sleep(0.1)
    raise AssertionError("export did not finish")


def test_a_bucket_created_through_the_api_receives_an_export(server, clients):
    import ee

    user, anonymous = clients
    bucket = user.create_bucket("my-exports")
    assert bucket.name == "my-exports"
    assert "my-exports" in [b.name for b in user.list_buckets()]
    # Private: the anonymous caller cannot read it, as Cloud Storage answers.
    refused = requests.get(f"{server.url}/storage/v1/b/my-exports/o", timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["errors"][0]["reason"] == "required"

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    operation = _wait(ee, _export(ee, bucket="my-exports", fileNamePrefix="runs/dem"))
    assert operation["metadata"]["state"] == "SUCCEEDED", operation
    names = [blob.name for blob in user.list_blobs("my-exports")]
    assert names == ["runs/dem.tif"]
    data = user.bucket("my-exports").blob("runs/dem.tif").download_as_bytes()
    assert data[:4] in (b"II*\x00", b"II+\x00")


def test_bucket_errors_are_cloud_storage_s(server, clients):
    user, anonymous = clients
    user.create_bucket("taken-bucket")
    with pytest.raises(exceptions.Conflict, match="you already own it"):
        user.create_bucket("taken-bucket")
    with pytest.raises(exceptions.BadRequest, match="Invalid bucket name: 'Bad_Name'"):
        user.create_bucket("Bad_Name")
    refused = requests.post(f"{server.url}/storage/v1/b", params={"project": "p"}, json={"name": "anon-bucket"},
                            timeout=10)
    assert refused.status_code == 401
    user.bucket("taken-bucket").blob("x.txt").upload_from_string(b"x")
    with pytest.raises(exceptions.Conflict, match="not empty"):
        user.bucket("taken-bucket").delete()
    user.bucket("taken-bucket").blob("x.txt").delete()
    user.bucket("taken-bucket").delete()
    assert "taken-bucket" not in [b.name for b in user.list_buckets()]


def test_a_public_bucket_created_with_predefined_acl_is_readable_anonymously(clients):
    user, anonymous = clients
    user.create_bucket("open-data", predefined_acl="publicRead")
    user.bucket("open-data").blob("hello.txt").upload_from_string(b"hello")
    assert anonymous.bucket("open-data").blob("hello.txt").download_as_bytes() == b"hello"


def test_an_export_to_a_missing_bucket_is_refused_at_submit(server):
    import ee

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    with pytest.raises(ee.EEException, match="Cloud Storage bucket 'nobody-made-this' does not exist"):
        _export(ee, bucket="nobody-made-this", fileNamePrefix="dem")


def test_drive_folders_are_created_on_demand(server):
    import ee

    ee.Initialize(credentials=None, url=server.url, project="sandbox")
    operation = _wait(ee, _export(ee, folder="fresh-folder", fileNamePrefix="dem"))
    assert operation["metadata"]["state"] == "SUCCEEDED", operation
    folder = server.exports.drive.folder_path("fresh-folder")
    assert sorted(p.name for p in folder.iterdir()) == ["dem.tif"]
    assert operation["metadata"]["destinationUris"][0].startswith("https://drive.google.com/#folders/")


def test_created_buckets_outlive_a_restart(state_dir, clients, server):
    user, _ = clients
    user.create_bucket("kept-bucket")
    again = SandboxServer(SandboxConfig(port=0, state_dir=state_dir))
    try:
        assert again.exports.buckets.exists("kept-bucket")
        assert not again.exports.buckets.is_public("kept-bucket")
    finally:
        again.stop()


def test_bucket_option_of_the_command_line(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "eeextract_plugin.sandbox", "--port", "0", "--state-dir", str(tmp_path),
         "--bucket", "team-public:public", "--bucket", "team-private", "--bucket", "team-ro:readonly"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().strip()
        listed = requests.get(url + "/storage/v1/b", params={"project": "p"},
                              headers={"Authorization": "Bearer t"}, timeout=10).json()
        names = {item["name"] for item in listed["items"]}
        assert {"team-public", "team-private", "team-ro", "sandbox-public", "sandbox-private"} <= names
        anonymous = requests.get(url + "/storage/v1/b", params={"project": "p"}, timeout=10).json()
        assert {item["name"] for item in anonymous["items"]} == {"team-public", "sandbox-public"}
        refused = requests.post(url + "/upload/storage/v1/b/team-ro/o", params={"uploadType": "media", "name": "a"},
                                data=b"x", headers={"Authorization": "Bearer t"}, timeout=10)
        assert refused.status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=20)
    bad = subprocess.run([sys.executable, "-m", "eeextract_plugin.sandbox", "--bucket", "x:secret"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "bucket access must be public or readonly, not 'secret'" in bad.stderr
