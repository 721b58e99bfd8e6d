"""The sandbox's export destinations on disk: Cloud Storage buckets and a Drive.

Layout under ``config.state_dir``::

    buckets/<bucket>/<object name>     one file per object; "/" in names are directories
    drive/<folder>/<file name>         a Drive folder as a desktop sync client would show it

Objects are written atomically (temporary file, then rename), so a listing never shows a part
that is still being written. Metadata (size, md5 and crc32c as base64 like Cloud Storage,
generation, times, content type) is derived from the file and cached by (size, mtime).

Buckets are public (readable anonymously) or private (any bearer token stands for the user's
credentials; no token → 401 like Cloud Storage). Writing always needs the bucket to exist; a
bucket named in ``config.readonly_buckets`` exists but refuses writes (to rehearse "no write
access"). Buckets are created through the API (``buckets.insert``) or the sandbox's ``--bucket
NAME[:public|:readonly]``; those created through the API are remembered under the state
directory.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import mimetypes
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import google_crc32c

log = logging.getLogger(__name__)

FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"
DRIVE_ROOT_ID = "root"


def rfc3339(timestamp: float) -> str:
    """Seconds since the epoch as Google APIs print times: 2024-01-02T03:04:05.678Z."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def guess_content_type(name: str) -> str:
    if name.lower().endswith((".tif", ".tiff")):
        return "image/tiff"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class FileDigest:
    size: int
    md5: bytes
    crc32c: bytes
    mtime_ns: int

    @property
    def md5_base64(self) -> str:
        return base64.b64encode(self.md5).decode("ascii")

    @property
    def md5_hex(self) -> str:
        return self.md5.hex()

    @property
    def crc32c_base64(self) -> str:
        return base64.b64encode(self.crc32c).decode("ascii")


class _DigestCache:
    """md5 and crc32c of files, recomputed only when size or mtime change."""

    def __init__(self) -> None:
        self._cache: Dict[str, FileDigest] = {}
        self._lock = threading.Lock()

    def digest(self, path: Path) -> FileDigest:
        stat = path.stat()
        key = str(path)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached.size == stat.st_size and cached.mtime_ns == stat.st_mtime_ns:
            return cached
        md5 = hashlib.md5()
        crc = google_crc32c.Checksum()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                md5.update(chunk)
                crc.update(chunk)
        digest = FileDigest(stat.st_size, md5.digest(), crc.digest(), stat.st_mtime_ns)
        with self._lock:
            self._cache[key] = digest
        return digest

    def forget(self, path: Path) -> None:
        with self._lock:
            self._cache.pop(str(path), None)

    def corrupt(self, path: Path) -> None:
        """Flip the first byte of the file but keep its recorded digests, size and mtime: the
        store then announces checksums the content no longer has (a fault for rehearsing
        checksum failures)."""
        self.digest(path)
        stat = path.stat()
        with open(path, "r+b") as handle:
            first = handle.read(1)
            handle.seek(0)
            handle.write(bytes([(first[0] if first else 0) ^ 0xFF]))
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _write_atomically(target: Path, data: Optional[bytes] = None, source: Optional[Path] = None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        os.replace(source, target)
        return
    handle, temp = tempfile.mkstemp(prefix=".upload-", dir=str(target.parent))
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data or b"")
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _is_hidden(name: str) -> bool:
    return any(part.startswith(".upload-") or part.startswith(".export-") for part in name.split("/"))


# --------------------------------------------------------------------------------------------
# Cloud Storage


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    name: str
    size: int
    md5_base64: str
    crc32c_base64: str
    generation: int
    created: float
    updated: float
    content_type: str

    def to_json(self, base_url: str = "") -> Dict[str, object]:
        """The object resource as the Cloud Storage JSON API prints it."""
        from urllib.parse import quote

        quoted = quote(self.name, safe="")
        return {
            "kind": "storage#object",
            "id": f"{self.bucket}/{self.name}/{self.generation}",
            "selfLink": f"{base_url}/storage/v1/b/{self.bucket}/o/{quoted}",
            "mediaLink": f"{base_url}/download/storage/v1/b/{self.bucket}/o/{quoted}"
                         f"?generation={self.generation}&alt=media",
            "name": self.name,
            "bucket": self.bucket,
            "generation": str(self.generation),
            "metageneration": "1",
            "contentType": self.content_type,
            "storageClass": "STANDARD",
            "size": str(self.size),
            "md5Hash": self.md5_base64,
            "crc32c": self.crc32c_base64,
            "etag": base64.b64encode(str(self.generation).encode()).decode("ascii"),
            "timeCreated": rfc3339(self.created),
            "updated": rfc3339(self.updated),
            "timeStorageClassUpdated": rfc3339(self.created),
        }


class BucketError(Exception):
    """A Cloud Storage refusal: ``code`` is the HTTP status, ``reason`` GCS's reason string."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
REGISTRY = ".buckets.json"
ACCESS_MODES = ("private", "public", "readonly")


def check_bucket_name(name: str) -> None:
    """Cloud Storage's naming rules: 3-63 characters (222 with dots, 63 per dot-separated part),
    lowercase letters, digits, "-", "_" and "."; a letter or digit at both ends; not an IP
    address; no "goog" prefix and no "google"."""
    parts = name.split(".")
    valid = (bool(BUCKET_NAME.match(name)) and (len(name) <= 63 or "." in name)
             and all(0 < len(part) <= 63 for part in parts)
             and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name)
             and not name.startswith("goog") and "google" not in name and "g00gle" not in name)
    if not valid:
        raise BucketError(400, "invalid", f"Invalid bucket name: '{name}'")


class BucketStore:
    """Local Cloud Storage buckets: ``root/<bucket>/<object name>``.

    Buckets are the configured ones (``public``, ``private``, ``readonly``) plus those created
    through the API (``create``), which are remembered in ``root/.buckets.json`` so that they
    outlive a restart of the sandbox, as real buckets do.
    """

    def __init__(self, root: Path, public: Tuple[str, ...] = (), private: Tuple[str, ...] = (),
                 readonly: Tuple[str, ...] = ()):
        self.root = Path(root)
        self.public = set(public)
        self.private = set(private)
        self.readonly = set(readonly)
        self._digests = _DigestCache()
        self._lock = threading.Lock()
        self._created: Dict[str, str] = self._load_registry()
        for bucket, access in self._created.items():
            self._add(bucket, access)
        for bucket in self.public | self.private | self.readonly:
            (self.root / bucket).mkdir(parents=True, exist_ok=True)

    # -- buckets -----------------------------------------------------------------------------

    def _load_registry(self) -> Dict[str, str]:
        try:
            data = json.loads((self.root / REGISTRY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in dict(data).items() if v in ACCESS_MODES}

    def _save_registry(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.root / REGISTRY, json.dumps(self._created, sort_keys=True).encode("utf-8"))

    def _add(self, bucket: str, access: str) -> None:
        {"public": self.public, "readonly": self.readonly}.get(access, self.private).add(bucket)

    def bucket_names(self) -> List[str]:
        return sorted(self.public | self.private | self.readonly)

    def create(self, bucket: str, access: str = "private") -> None:
        """``buckets.insert``: a new, empty bucket (409 when it exists, 400 for a bad name)."""
        if access not in ACCESS_MODES:
            raise ValueError(f"bucket access must be one of {', '.join(ACCESS_MODES)}, not {access!r}")
        check_bucket_name(bucket)
        with self._lock:
            if self.exists(bucket):
                raise BucketError(409, "conflict",
                                  "Your previous request to create the named bucket succeeded and you "
                                  "already own it.")
            (self.root / bucket).mkdir(parents=True, exist_ok=True)
            self._add(bucket, access)
            self._created[bucket] = access
            self._save_registry()

    def delete_bucket(self, bucket: str) -> None:
        """``buckets.delete``: only an empty bucket (409 otherwise)."""
        with self._lock:
            if not self.exists(bucket):
                raise BucketError(404, "notFound", "The specified bucket does not exist.")
            if self.names(bucket):
                raise BucketError(409, "conflict", "The bucket you tried to delete is not empty.")
            for group in (self.public, self.private, self.readonly):
                group.discard(bucket)
            self._created.pop(bucket, None)
            self._save_registry()
            import shutil

            shutil.rmtree(self.root / bucket, ignore_errors=True)

    def exists(self, bucket: str) -> bool:
        return bucket in self.public or bucket in self.private or bucket in self.readonly

    def is_public(self, bucket: str) -> bool:
        return bucket in self.public

    def can_write(self, bucket: str) -> bool:
        return self.exists(bucket) and bucket not in self.readonly

    def check_read(self, bucket: str, token: Optional[str], what: str = "storage.objects.get") -> None:
        """Raise BucketError unless a caller with ``token`` (None: anonymous) may read."""
        if not self.exists(bucket):
            raise BucketError(404, "notFound", "The specified bucket does not exist.")
        if token is None and not self.is_public(bucket):
            raise BucketError(
                401, "required",
                f"Anonymous caller does not have {what} access to the Google Cloud Storage "
                f"bucket. Permission '{what}' denied on resource (or it may not exist).")

    def check_write(self, bucket: str, token: Optional[str], what: str = "storage.objects.create") -> None:
        if not self.exists(bucket):
            raise BucketError(404, "notFound", "The specified bucket does not exist.")
        if token is None:
            raise BucketError(
                401, "required",
                f"Anonymous caller does not have {what} access to the Google Cloud Storage "
                f"bucket. Permission '{what}' denied on resource (or it may not exist).")
        if not self.can_write(bucket):
            raise BucketError(
                403, "forbidden",
                f"The caller does not have {what} access to the Google Cloud Storage bucket. "
                f"Permission '{what}' denied on resource (or it may not exist).")

    def bucket_json(self, bucket: str) -> Dict[str, object]:
        path = self.root / bucket
        created = path.stat().st_mtime if path.exists() else 0.0
        return {
            "kind": "storage#bucket",
            "id": bucket,
            "name": bucket,
            "projectNumber": "0",
            "metageneration": "1",
            "location": "US",
            "storageClass": "STANDARD",
            "etag": "CAE=",
            "timeCreated": rfc3339(created),
            "updated": rfc3339(created),
            "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": True},
                                 "publicAccessPrevention": "inherited" if self.is_public(bucket) else "enforced"},
        }

    # -- objects -----------------------------------------------------------------------------

    def path_for(self, bucket: str, name: str) -> Path:
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in name.split("/")[:-1]) \
                or name.split("/")[-1] in (".", ".."):
            raise BucketError(400, "invalid", f"The object name '{name}' is not supported by the sandbox.")
        return self.root / bucket / name

    def info(self, bucket: str, name: str) -> Optional[ObjectInfo]:
        if not self.exists(bucket) or _is_hidden(name):
            return None
        try:
            path = self.path_for(bucket, name)
        except BucketError:
            return None
        if not path.is_file():
            return None
        try:
            digest = self._digests.digest(path)
            stat = path.stat()
        except FileNotFoundError:
            return None
        return ObjectInfo(bucket, name, digest.size, digest.md5_base64, digest.crc32c_base64,
                          generation=stat.st_mtime_ns // 1000, created=stat.st_mtime,
                          updated=stat.st_mtime, content_type=guess_content_type(name))

    def open(self, bucket: str, name: str):
        return open(self.path_for(bucket, name), "rb")

    def names(self, bucket: str, prefix: str = "") -> List[str]:
        """All object names in the bucket starting with ``prefix``, sorted like Cloud Storage."""
        base = self.root / bucket
        if not base.is_dir():
            return []
        # Walk only the directory the prefix points into.
        directory = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = base / directory if directory else base
        if not start.is_dir():
            return []
        found: List[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            rel = os.path.relpath(dirpath, base)
            rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            dirnames[:] = [d for d in dirnames if not d.startswith((".upload-", ".export-"))]
            for filename in filenames:
                if filename.startswith((".upload-", ".export-")):
                    continue
                name = rel + filename
                if name.startswith(prefix):
                    found.append(name)
        found.sort(key=lambda n: n.encode("utf-8"))
        return found

    def list(self, bucket: str, prefix: str = "", delimiter: Optional[str] = None,
             start_after: Optional[str] = None, limit: int = 1000
             ) -> Tuple[List[ObjectInfo], List[str], Optional[str]]:
        """One page: (objects, prefixes, name to resume after or None when done)."""
        objects: List[ObjectInfo] = []
        prefixes: List[str] = []
        seen_prefixes = set()
        last: Optional[str] = None
        count = 0
        for name in self.names(bucket, prefix):
            if start_after is not None and name.encode("utf-8") <= start_after.encode("utf-8"):
                continue
            if delimiter:
                rest = name[len(prefix):]
                cut = rest.find(delimiter)
                if cut >= 0:
                    common = prefix + rest[:cut + len(delimiter)]
                    if start_after is not None and common.encode() <= start_after.encode():
                        continue
                    if common in seen_prefixes:
                        continue
                    if count >= limit:
                        return objects, prefixes, last
                    seen_prefixes.add(common)
                    prefixes.append(common)
                    # Resume after every name under this prefix.
                    last = common + "\U0010ffff"
                    count += 1
                    continue
            if count >= limit:
                return objects, prefixes, last
            info = self.info(bucket, name)
            if info is None:
                continue
            objects.append(info)
            last = name
            count += 1
        return objects, prefixes, None

    def write(self, bucket: str, name: str, data: Optional[bytes] = None,
              source: Optional[Path] = None) -> ObjectInfo:
        """Create or replace an object from bytes or by moving a finished file (same volume)."""
        path = self.path_for(bucket, name)
        self._digests.forget(path)
        _write_atomically(path, data=data, source=source)
        info = self.info(bucket, name)
        assert info is not None
        return info

    def delete(self, bucket: str, name: str) -> bool:
        path = self.path_for(bucket, name)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._digests.forget(path)
        # Remove directories left empty, up to the bucket.
        parent = path.parent
        bucket_root = self.root / bucket
        while parent != bucket_root and parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
        return True

    def corrupt(self, bucket: str, name: str) -> None:
        """Fault injection: the object's bytes change, its md5Hash / crc32c do not."""
        self._digests.corrupt(self.path_for(bucket, name))

    def staging_dir(self, bucket: str) -> Path:
        """A hidden directory on the bucket's volume for files being written (renamed in after)."""
        path = self.root / bucket / ".export-staging"
        path.mkdir(parents=True, exist_ok=True)
        return path


# --------------------------------------------------------------------------------------------
# Drive


@dataclass(frozen=True)
class DriveFile:
    id: str
    name: str
    mime_type: str
    parent_id: str
    path: Path
    relative: str   # path under the drive root, "/"-separated

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME_TYPE


def drive_id(relative: str) -> str:
    """A stable Drive-like id (33 characters) for a path under the drive root."""
    digest = hashlib.sha256(("drive:" + relative).encode("utf-8")).digest()
    return "1" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:32]


class DriveStore:
    """A local Drive: ``root/<folder>/<file>``. Folders are directories, ids derived from paths.

    The directory is also what a desktop-synced Drive folder looks like (mounted-folder mode):
    ``folder_path(name)`` gives it.
    """

    def __init__(self, root: Path, folders: Tuple[str, ...] = ()):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._digests = _DigestCache()
        self._lock = threading.Lock()
        self._by_id: Dict[str, str] = {}
        for folder in folders:
            self.ensure_folder(folder)

    def folder_path(self, folder: str) -> Path:
        return self.root / folder

    def ensure_folder(self, folder: str) -> DriveFile:
        """The folder named ``folder`` under My Drive, created when missing (as Earth Engine does)."""
        clean = "/".join(p for p in folder.split("/") if p not in ("", ".", ".."))
        if not clean:
            raise ValueError("empty Drive folder name")
        path = self.root / clean
        path.mkdir(parents=True, exist_ok=True)
        entry = self._entry(clean)
        assert entry is not None
        return entry

    def _entry(self, relative: str) -> Optional[DriveFile]:
        path = self.root / relative
        if not path.exists() or _is_hidden(relative):
            return None
        parent_rel = relative.rsplit("/", 1)[0] if "/" in relative else ""
        parent_id = drive_id(parent_rel) if parent_rel else DRIVE_ROOT_ID
        name = relative.rsplit("/", 1)[-1]
        mime = FOLDER_MIME_TYPE if path.is_dir() else guess_content_type(name)
        file_id = drive_id(relative)
        with self._lock:
            self._by_id[file_id] = relative
        return DriveFile(file_id, name, mime, parent_id, path, relative)

    def walk(self) -> Iterator[DriveFile]:
        """Every folder and file, folders before their content, names sorted."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".upload-", ".export-")))
            rel = os.path.relpath(dirpath, self.root)
            rel = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            for name in dirnames:
                entry = self._entry(rel + name)
                if entry:
                    yield entry
            for name in sorted(filenames):
                if name.startswith((".upload-", ".export-")):
                    continue
                entry = self._entry(rel + name)
                if entry:
                    yield entry

    def get(self, file_id: str) -> Optional[DriveFile]:
        with self._lock:
            relative = self._by_id.get(file_id)
        if relative is None:
            for entry in self.walk():
                if entry.id == file_id:
                    relative = entry.relative
                    break
        if relative is None:
            return None
        return self._entry(relative)

    def digest(self, entry: DriveFile) -> FileDigest:
        return self._digests.digest(entry.path)

    def file_json(self, entry: DriveFile) -> Dict[str, object]:
        """All fields of a Drive v3 File resource the sandbox knows."""
        stat = entry.path.stat()
        value: Dict[str, object] = {
            "kind": "drive#file",
            "id": entry.id,
            "name": entry.name,
            "mimeType": entry.mime_type,
            "parents": [entry.parent_id],
            "trashed": False,
            "createdTime": rfc3339(stat.st_mtime),
            "modifiedTime": rfc3339(stat.st_mtime),
            "webViewLink": (f"https://drive.google.com/drive/folders/{entry.id}" if entry.is_folder
                            else f"https://drive.google.com/file/d/{entry.id}/view"),
        }
        if not entry.is_folder:
            digest = self.digest(entry)
            value.update({
                "size": str(digest.size),
                "md5Checksum": digest.md5_hex,
                "fileExtension": entry.name.rsplit(".", 1)[-1] if "." in entry.name else "",
                "originalFilename": entry.name,
            })
        return value

    def write(self, folder: str, name: str, data: Optional[bytes] = None,
              source: Optional[Path] = None) -> DriveFile:
        relative = (self.ensure_folder(folder).relative + "/" + name) if folder.strip("/") else name
        path = self.root / relative
        self._digests.forget(path)
        _write_atomically(path, data=data, source=source)
        entry = self._entry(relative)
        assert entry is not None
        return entry

    def delete(self, entry: DriveFile) -> None:
        if entry.is_folder:
            import shutil

            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            try:
                entry.path.unlink()
            except FileNotFoundError:
                pass
            self._digests.forget(entry.path)
        with self._lock:
            self._by_id.pop(entry.id, None)

    def corrupt(self, entry: DriveFile) -> None:
        """Fault injection: the file's bytes change, its md5Checksum does not."""
        self._digests.corrupt(entry.path)

    def staging_dir(self) -> Path:
        path = self.root / ".export-staging"
        path.mkdir(parents=True, exist_ok=True)
        return path
