"""The sandbox's Drive v3 emulation, driven through the real ``google-api-python-client``."""

from __future__ import annotations

import hashlib
import io

import pytest
import requests
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.drive_api import apply_fields, parse_fields, parse_query
from eeextract_plugin.sandbox.exports import ExportService
from eeextract_plugin.sandbox.server import SandboxServer

FOLDER = "application/vnd.google-apps.folder"


class NoEngine:
    """Drive needs no evaluator."""


@pytest.fixture(scope="module")
def drive_server(tmp_path_factory):
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("drive-state"))
    engine = NoEngine()
    server = SandboxServer(config, engine=engine, exports=ExportService(config, engine)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def drive(drive_server):
    """(Drive service as the engine builds it, the drive store)."""
    service = build("drive", "v3", credentials=Credentials(token="user-token"), static_discovery=True,
                    client_options={"api_endpoint": drive_server.url + "/drive/v3/"}, cache_discovery=False)
    return service, drive_server.exports.drive


def folder_id(service, name):
    q = f"name = '{name}' and mimeType = '{FOLDER}' and trashed = false"
    files = service.files().list(q=q, fields="files(id, name)").execute()["files"]
    assert len(files) == 1, files
    return files[0]["id"]


def test_find_folder_list_parts_by_prefix_download_and_delete(drive):
    service, store = drive
    parts = {f"job1-unit7-{r:010d}-{c:010d}.tif": (b"%d-%d" % (r, c)) * 100
             for r in (0, 256) for c in (0, 256)}
    for name, data in parts.items():
        store.write("EEExtract", name, data)
    store.write("EEExtract", "job10-unit7.tif", b"other job")
    store.write("Elsewhere", "job1-unit7-0000000000-0000000000.tif", b"another folder")

    fid = folder_id(service, "EEExtract")
    q = f"'{fid}' in parents and name contains 'job1-unit7' and trashed = false"
    found = service.files().list(q=q, fields="nextPageToken, files(id, name, size, md5Checksum)",
                                 pageSize=3).execute()
    assert len(found["files"]) == 3 and "nextPageToken" in found
    assert set(found["files"][0]) == {"id", "name", "size", "md5Checksum"}
    rest = service.files().list(q=q, fields="nextPageToken, files(id, name, size, md5Checksum)",
                                pageSize=3, pageToken=found["nextPageToken"]).execute()
    assert "nextPageToken" not in rest
    listed = found["files"] + rest["files"]
    assert sorted(f["name"] for f in listed) == sorted(parts)

    for entry in listed:
        data = parts[entry["name"]]
        assert entry["size"] == str(len(data))
        assert entry["md5Checksum"] == hashlib.md5(data).hexdigest()
        assert service.files().get_media(fileId=entry["id"]).execute() == data
        buffer = io.BytesIO()
        downloader = MediaIoBaseDownload(buffer, service.files().get_media(fileId=entry["id"]), chunksize=64)
        done = False
        while not done:
            _, done = downloader.next_chunk()
        assert buffer.getvalue() == data

    meta = service.files().get(fileId=listed[0]["id"], fields="id,name,parents,mimeType,md5Checksum").execute()
    assert meta["parents"] == [fid] and meta["mimeType"] == "image/tiff"
    service.files().delete(fileId=listed[0]["id"]).execute()
    assert not (store.folder_path("EEExtract") / listed[0]["name"]).exists()
    with pytest.raises(HttpError) as missing:
        service.files().get(fileId=listed[0]["id"]).execute()
    assert missing.value.resp.status == 404


def test_exact_name_query_and_default_fields(drive):
    service, store = drive
    store.write("Exact", "a.tif", b"a")
    store.write("Exact", "a.tif.aux.xml", b"b")
    fid = folder_id(service, "Exact")
    answer = service.files().list(q=f"name = 'a.tif' and '{fid}' in parents").execute()
    assert [f["name"] for f in answer["files"]] == ["a.tif"]
    assert set(answer["files"][0]) == {"kind", "id", "name", "mimeType"}
    # "contains" matches the start of the name or of a word in it, not any substring.
    names = {f["name"] for f in service.files().list(q="name contains 'tif'").execute()["files"]}
    assert "a.tif" in names
    assert not {f["name"] for f in service.files().list(q="name contains 'if'").execute()["files"]}


def test_mounted_folder_is_the_store(drive):
    service, store = drive
    (store.folder_path("Mounted")).mkdir(parents=True, exist_ok=True)
    (store.folder_path("Mounted") / "synced.tif").write_bytes(b"synced by a desktop client")
    fid = folder_id(service, "Mounted")
    files = service.files().list(q=f"'{fid}' in parents", fields="files(name,size)").execute()["files"]
    assert files == [{"name": "synced.tif", "size": "26"}]


def test_errors(drive, drive_server):
    service, _ = drive
    with pytest.raises(HttpError) as bad:
        service.files().list(q="name ~ 'x'").execute()
    assert bad.value.resp.status == 400
    answer = requests.get(drive_server.url + "/drive/v3/files", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == 401


def test_query_and_field_mask_parsing():
    q = parse_query("(name contains 'x' or name = 'y') and not mimeType = 'a/b' and 'P' in parents "
                    "and trashed = false")
    base = {"mimeType": "image/tiff", "parents": ["P"], "trashed": False, "starred": False}
    assert q({**base, "name": "x-1.tif"}) and q({**base, "name": "y"})
    assert not q({**base, "name": "zx"}) and not q({**base, "name": "y", "parents": ["Q"]})
    assert parse_query(r"name = 'it\'s'")({**base, "name": "it's"})
    mask = parse_fields("nextPageToken, files(id, name), files/size")
    assert mask == {"nextPageToken": None, "files": {"id": None, "name": None, "size": None}}
    value = {"nextPageToken": "t", "kind": "k", "files": [{"id": 1, "name": "n", "md5Checksum": "m"}]}
    assert apply_fields(value, mask) == {"nextPageToken": "t", "files": [{"id": 1, "name": "n"}]}
    assert apply_fields(value, parse_fields("*")) == value
