"""Where export parts land, and how they come home: Cloud Storage, Drive (API), or a Drive folder
synced to this machine.

Each store lists an export's parts by its internal prefix (paged: more than 1,000 parts are
never truncated), downloads them verified against the checksums the service reports (Cloud
Storage: crc32c/md5 checked by ``google-cloud-storage``; Drive: md5), and may delete them after a
verified download. Private buckets are read with the user's credentials, public ones anonymously.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional

from eeextract_plugin.core.errors import EEExtractError
from eeextract_plugin.core.export.naming import part_offsets

log = logging.getLogger(__name__)


class PartStoreError(EEExtractError, RuntimeError):
    """A destination that cannot be read (missing bucket or folder, no access): one line."""


class ChecksumError(PartStoreError):
    """A downloaded part does not match the checksum the service reported."""


@dataclass(frozen=True)
class RemotePart:
    name: str
    row: int
    col: int
    size: Optional[int] = None
    md5: Optional[str] = None  # hex
    file_id: Optional[str] = None  # Drive


class PartStore:
    """Interface of a destination."""

    description = "destination"

    def check(self) -> None:
        """Raises :class:`PartStoreError` if the destination cannot be read."""

    def list_parts(self, prefix: str) -> List[RemotePart]:
        raise NotImplementedError

    def download(self, part: RemotePart, dest: Path) -> int:
        raise NotImplementedError

    def delete(self, part: RemotePart) -> None:
        raise NotImplementedError

    def local_path(self, part: RemotePart) -> Optional[Path]:
        """A part readable in place (mounted folder), or None."""
        return None


def _sorted_parts(prefix: str, items) -> List[RemotePart]:
    parts = []
    for name, size, md5, file_id in items:
        offsets = part_offsets(prefix, name)
        if offsets is not None:
            parts.append(RemotePart(name, offsets[0], offsets[1], size, md5, file_id))
    return sorted(parts, key=lambda p: (p.row, p.col))


# ------------------------------------------------------------------------------ Cloud Storage
class CloudStoragePartStore(PartStore):
    def __init__(self, bucket: str, project: Optional[str], credentials: Any = None,
                 endpoint: Optional[str] = None) -> None:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        self.bucket_name = bucket
        self.description = f"gs://{bucket}"
        options = {"api_endpoint": endpoint} if endpoint else None
        self._anonymous = storage.Client(project=project or "anonymous", credentials=AnonymousCredentials(),
                                         client_options=options)
        self._user = (storage.Client(project=project, credentials=credentials, client_options=options)
                      if credentials is not None else None)
        self._client = self._user or self._anonymous

    def _bucket(self):
        return self._client.bucket(self.bucket_name)

    def check(self) -> None:
        from google.api_core import exceptions as gexc

        try:
            next(iter(self._client.list_blobs(self.bucket_name, max_results=1)), None)
        except gexc.NotFound:
            raise PartStoreError(f"bucket {self.bucket_name!r} does not exist") from None
        except (gexc.Unauthorized, gexc.Forbidden) as exc:
            if self._client is self._user:
                # A public bucket the user's credentials may not list: try anonymously.
                try:
                    next(iter(self._anonymous.list_blobs(self.bucket_name, max_results=1)), None)
                    self._client = self._anonymous
                    return
                except Exception:  # noqa: BLE001
                    pass
            raise PartStoreError(f"no read access to bucket {self.bucket_name!r} "
                                 f"({getattr(exc, 'message', exc)})") from None

    def list_parts(self, prefix: str) -> List[RemotePart]:
        items = []
        # list_blobs pages by itself (pageToken) until the listing is exhausted.
        for blob in self._client.list_blobs(self.bucket_name, prefix=prefix, page_size=1000):
            md5 = None
            if blob.md5_hash:
                import base64

                md5 = base64.b64decode(blob.md5_hash).hex()
            items.append((blob.name, blob.size, md5, None))
        return _sorted_parts(prefix, items)

    def download(self, part: RemotePart, dest: Path) -> int:
        from google.resumable_media.common import DataCorruption

        blob = self._bucket().blob(part.name)
        tmp = dest.with_name(dest.name + ".download")
        try:
            blob.download_to_filename(str(tmp), checksum="auto")  # crc32c (or md5) verified
        except DataCorruption as exc:
            _unlink(tmp)
            raise ChecksumError(f"{self.description}/{part.name}: checksum mismatch ({exc})") from None
        except BaseException:
            _unlink(tmp)
            raise
        size = tmp.stat().st_size
        if part.size is not None and size != part.size:
            _unlink(tmp)
            raise ChecksumError(f"{self.description}/{part.name}: {size} bytes, expected {part.size}")
        os.replace(tmp, dest)
        return size

    def delete(self, part: RemotePart) -> None:
        self._bucket().blob(part.name).delete()


# ------------------------------------------------------------------------------ Drive (API)
FOLDER_MIME = "application/vnd.google-apps.folder"


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


class DrivePartStore(PartStore):
    """Drive v3: finds the export folder by name, lists parts by name prefix in it, downloads
    them verified against ``md5Checksum``, deletes them if asked."""

    def __init__(self, folder: str, credentials: Any, endpoint: Optional[str] = None) -> None:
        import threading

        self.folder = folder
        self.description = f"Drive folder {folder!r}"
        self._credentials = credentials
        self._options = {"api_endpoint": endpoint.rstrip("/") + "/drive/v3/"} if endpoint else None
        # httplib2 (under googleapiclient) is not thread-safe: one service per thread.
        self._local = threading.local()
        self._folder_id: Optional[str] = None

    def _files(self):
        service = getattr(self._local, "service", None)
        if service is None:
            from googleapiclient.discovery import build

            service = build("drive", "v3", credentials=self._credentials, static_discovery=True,
                            client_options=self._options, cache_discovery=False)
            self._local.service = service
        return service.files()

    def folder_id(self) -> Optional[str]:
        if self._folder_id is None:
            q = f"name = '{_q(self.folder)}' and mimeType = '{FOLDER_MIME}' and trashed = false"
            res = self._files().list(q=q, fields="files(id, name)", pageSize=10).execute()
            files = res.get("files", [])
            if files:
                self._folder_id = files[0]["id"]
        return self._folder_id

    def check(self) -> None:
        # Earth Engine creates the folder at the first export: a missing folder is not an error
        # before then, but listing must be allowed.
        try:
            self.folder_id()
        except Exception as exc:  # noqa: BLE001 — googleapiclient raises HttpError
            raise PartStoreError(f"cannot read Drive ({_http_message(exc)})") from None

    def list_parts(self, prefix: str) -> List[RemotePart]:
        fid = self.folder_id()
        if fid is None:
            return []
        q = f"'{fid}' in parents and name contains '{_q(prefix)}' and trashed = false"
        items, token = [], None
        while True:
            res = self._files().list(q=q, pageSize=1000, pageToken=token,
                                     fields="nextPageToken, files(id, name, size, md5Checksum)").execute()
            for f in res.get("files", []):
                size = int(f["size"]) if f.get("size") is not None else None
                items.append((f["name"], size, f.get("md5Checksum"), f["id"]))
            token = res.get("nextPageToken")
            if not token:
                break
        return _sorted_parts(prefix, items)

    def download(self, part: RemotePart, dest: Path) -> int:
        from googleapiclient.http import MediaIoBaseDownload

        tmp = dest.with_name(dest.name + ".download")
        md5 = hashlib.md5()
        try:
            with open(tmp, "wb") as fh:
                request = self._files().get_media(fileId=part.file_id)
                downloader = MediaIoBaseDownload(_HashingWriter(fh, md5), request, chunksize=16 * 1024 * 1024)
                done = False
                while not done:
                    _, done = downloader.next_chunk(num_retries=3)
        except BaseException:
            _unlink(tmp)
            raise
        if part.md5 and md5.hexdigest() != part.md5:
            _unlink(tmp)
            raise ChecksumError(f"{self.description}/{part.name}: md5 {md5.hexdigest()} != {part.md5}")
        os.replace(tmp, dest)
        return dest.stat().st_size

    def delete(self, part: RemotePart) -> None:
        self._files().delete(fileId=part.file_id).execute()


class _HashingWriter:
    def __init__(self, fh, digest) -> None:
        self.fh, self.digest = fh, digest

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.fh.write(data)


def _http_message(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "_get_reason", lambda: None)()
    return str(reason or exc)


# ------------------------------------------------------------------------------ mounted folder
class MountedFolderPartStore(PartStore):
    """A Drive folder synced to this machine (Google Drive for desktop, rclone mount…): parts are
    read in place once they are complete (their size stops changing)."""

    def __init__(self, path: str) -> None:
        self.root = Path(path).expanduser()
        self.description = f"folder {self.root}"

    def check(self) -> None:
        if not self.root.is_dir():
            raise PartStoreError(f"Drive folder {self.root} does not exist on this machine")

    def list_parts(self, prefix: str) -> List[RemotePart]:
        items = []
        for entry in os.scandir(self.root):
            if entry.is_file() and entry.name.startswith(prefix):
                items.append((entry.name, entry.stat().st_size, None, None))
        return _sorted_parts(prefix, items)

    def local_path(self, part: RemotePart) -> Optional[Path]:
        return self.root / part.name

    def download(self, part: RemotePart, dest: Path) -> int:
        src = self.root / part.name
        tmp = dest.with_name(dest.name + ".download")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
        return dest.stat().st_size

    def delete(self, part: RemotePart) -> None:
        (self.root / part.name).unlink(missing_ok=True)


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass
