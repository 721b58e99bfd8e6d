"""The sandbox's Cloud Storage emulation, driven through the real ``google-cloud-storage`` client."""

from __future__ import annotations

import base64
import hashlib

import google.auth.exceptions
import google_crc32c
import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.exports import ExportService
from eeextract_plugin.sandbox.server import SandboxServer


class NoEngine:
    """Storage needs no evaluator."""


@pytest.fixture(scope="module")
def storage_server(tmp_path_factory):
    config = SandboxConfig(port=0, state_dir=tmp_path_factory.mktemp("gcs-state"))
    engine = NoEngine()
    server = SandboxServer(config, engine=engine, exports=ExportService(config, engine)).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def gcs(storage_server, monkeypatch):
    """(anonymous client, client with the user's token, the bucket store)."""
    from google.cloud import storage

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", storage_server.url)
    anonymous = storage.Client(project="sandbox", credentials=AnonymousCredentials())
    user = storage.Client(project="sandbox", credentials=Credentials(token="user-token"))
    return anonymous, user, storage_server.exports.buckets


def test_upload_download_and_checksums(gcs):
    _, user, buckets = gcs
    data = bytes(range(256)) * 1000
    blob = user.bucket("sandbox-private").blob("dir/a b+c.bin")
    blob.upload_from_string(data)
    fetched = user.bucket("sandbox-private").get_blob("dir/a b+c.bin")
    assert fetched.size == len(data)
    assert fetched.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert fetched.crc32c == base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    assert fetched.generation and fetched.updated is not None
    # Full downloads are verified by the client against x-goog-hash (crc32c and md5).
    assert fetched.download_as_bytes(checksum="crc32c") == data
    assert fetched.download_as_bytes(checksum="md5") == data
    # Range requests, as the client issues them.
    assert fetched.download_as_bytes(start=10, end=19) == data[10:20]
    assert fetched.download_as_bytes(start=len(data) - 5) == data[-5:]
    assert (buckets.root / "sandbox-private" / "dir" / "a b+c.bin").read_bytes() == data


# On a 401 the client's authorized session tries to refresh anonymous credentials, which raises
# InvalidOperation (as against the real service); the JSON API calls raise Unauthorized.
REFUSED = (exceptions.Unauthorized, google.auth.exceptions.InvalidOperation)


def test_private_bucket_needs_a_token(gcs, storage_server):
    anonymous, user, buckets = gcs
    buckets.write("sandbox-private", "secret.txt", b"s")
    with pytest.raises(REFUSED):
        anonymous.bucket("sandbox-private").blob("secret.txt").download_as_bytes()
    with pytest.raises(REFUSED):
        list(anonymous.list_blobs("sandbox-private"))
    with pytest.raises(REFUSED):
        anonymous.bucket("sandbox-private").blob("x").upload_from_string(b"x")
    for url in ("/storage/v1/b/sandbox-private/o", "/storage/v1/b/sandbox-private/o/secret.txt",
                "/download/storage/v1/b/sandbox-private/o/secret.txt?alt=media"):
        answer = requests.get(storage_server.url + url, timeout=10)
        assert answer.status_code == 401
        assert "Anonymous caller does not have" in answer.json()["error"]["message"]
    assert user.bucket("sandbox-private").blob("secret.txt").download_as_bytes() == b"s"


def test_public_bucket_reads_anonymously_but_writes_need_a_token(gcs):
    anonymous, user, buckets = gcs
    buckets.write("sandbox-public", "open.txt", b"hello")
    assert anonymous.bucket("sandbox-public").blob("open.txt").download_as_bytes() == b"hello"
    assert [b.name for b in anonymous.list_blobs("sandbox-public", prefix="open")] == ["open.txt"]
    with pytest.raises(REFUSED):
        anonymous.bucket("sandbox-public").blob("open.txt").delete()
    assert anonymous.bucket("sandbox-public").exists()
    assert not user.bucket("no-such-bucket").exists()
    assert {"sandbox-public", "sandbox-private"} <= {b.name for b in user.list_buckets()}


def test_listing_more_than_1000_objects_pages(gcs):
    _, user, buckets = gcs
    for i in range(1234):
        buckets.write("sandbox-private", f"many/part-{i:05d}.tif", b"%d" % i)
    buckets.write("sandbox-private", "many-other.tif", b"x")
    iterator = user.list_blobs("sandbox-private", prefix="many/")
    sizes = [len(list(page)) for page in iterator.pages]
    assert sizes == [1000, 234]
    names = [b.name for b in user.list_blobs("sandbox-private", prefix="many/")]
    assert names == [f"many/part-{i:05d}.tif" for i in range(1234)]
    small = user.list_blobs("sandbox-private", prefix="many/", page_size=100)
    assert len([b.name for b in small]) == 1234
    assert len(list(user.list_blobs("sandbox-private", prefix="many/", max_results=50))) == 50


def test_delimiter_lists_prefixes(gcs):
    _, user, buckets = gcs
    for name in ("tree/a/1.tif", "tree/a/2.tif", "tree/b/1.tif", "tree/top.tif"):
        buckets.write("sandbox-private", name, b"x")
    iterator = user.list_blobs("sandbox-private", prefix="tree/", delimiter="/")
    assert [b.name for b in iterator] == ["tree/top.tif"]
    assert iterator.prefixes == {"tree/a/", "tree/b/"}


def test_delete_and_missing_objects(gcs):
    _, user, buckets = gcs
    buckets.write("sandbox-private", "gone/x.tif", b"x")
    blob = user.bucket("sandbox-private").blob("gone/x.tif")
    blob.delete()
    assert user.bucket("sandbox-private").get_blob("gone/x.tif") is None
    with pytest.raises(exceptions.NotFound):
        blob.download_as_bytes()
    with pytest.raises(exceptions.NotFound):
        blob.delete()
    assert not (buckets.root / "sandbox-private" / "gone").exists()


def test_large_upload_is_resumable(gcs):
    _, user, _ = gcs
    data = (b"0123456789abcdef" * 65536) * 9  # 9 MiB: above the client's multipart limit
    blob = user.bucket("sandbox-private").blob("big.bin")
    blob.chunk_size = 4 * 1024 * 1024
    blob.upload_from_string(data)
    assert user.bucket("sandbox-private").blob("big.bin").download_as_bytes() == data


def test_client_detects_a_corrupted_download(gcs):
    """x-goog-hash really is checked: an object corrupted behind its recorded checksums fails."""
    from google.cloud.storage.exceptions import DataCorruption

    _, user, buckets = gcs
    buckets.write("sandbox-private", "corrupt.bin", b"A" * 1000)
    before = user.bucket("sandbox-private").get_blob("corrupt.bin")
    buckets.corrupt("sandbox-private", "corrupt.bin")
    after = user.bucket("sandbox-private").get_blob("corrupt.bin")
    assert (after.md5_hash, after.crc32c) == (before.md5_hash, before.crc32c)
    with pytest.raises(DataCorruption):
        after.download_as_bytes(checksum="crc32c")
