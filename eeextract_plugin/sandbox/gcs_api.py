"""The subset of the Cloud Storage JSON API that ``google-cloud-storage`` uses, over ``BucketStore``.

Point the client at the sandbox with ``STORAGE_EMULATOR_HOST=<sandbox url>`` (or
``client_options={"api_endpoint": url}``). Routes (the server sends every path under
``/storage/v1/``, ``/download/storage/v1/`` and ``/upload/storage/v1/`` here)::

    GET    /storage/v1/b                                   the buckets
    POST   /storage/v1/b?project=P                         create a bucket ({"name": ...})
    DELETE /storage/v1/b/{bucket}                          delete an empty bucket
    GET    /storage/v1/b/{bucket}                          bucket metadata
    GET    /storage/v1/b/{bucket}/o?prefix&delimiter&maxResults&pageToken
    GET    /storage/v1/b/{bucket}/o/{object}               object metadata (md5Hash, crc32c, ...)
    GET    /storage/v1/b/{bucket}/o/{object}?alt=media     download (also under /download/...)
    DELETE /storage/v1/b/{bucket}/o/{object}
    POST   /upload/storage/v1/b/{bucket}/o?uploadType=media|multipart|resumable (+ PUT for resumable)

Downloads honour ``Range`` (206 + ``Content-Range``) and carry ``x-goog-hash: crc32c=…,md5=…`` so
the client verifies what it received. Private buckets need a bearer token (any token): without
one, 401 as Cloud Storage answers anonymous callers; writes always need one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import uuid
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import quote

from eeextract_plugin.sandbox.http import Request, Response
from eeextract_plugin.sandbox.storage import BucketError, BucketStore

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 1000
# Downloads larger than this are streamed from the file instead of read into memory.
STREAM_ABOVE_BYTES = 16 * 1024 * 1024
_REASON_STATUS = {400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 405: "notAllowed",
                  409: "conflict", 412: "conditionNotMet", 416: "requestedRangeNotSatisfiable"}

_resumable_lock = threading.Lock()
_resumable: Dict[str, Dict[str, Any]] = {}


def _error(code: int, message: str, reason: Optional[str] = None) -> Response:
    body = {"error": {"code": code, "message": message,
                      "errors": [{"message": message, "domain": "global",
                                  "reason": reason or _REASON_STATUS.get(code, "backendError")}]}}
    response = Response.json(body, code)
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    return response


def _base_url(request: Request) -> str:
    host = request.headers.get("host", "127.0.0.1")
    return f"http://{host}"


def handle(request: Request, buckets: BucketStore) -> Response:
    """Answer one Cloud Storage JSON API request."""
    try:
        return _dispatch(request, buckets)
    except BucketError as error:
        return _error(error.code, error.message, error.reason)
    except Exception:  # the sandbox keeps serving
        log.exception("Cloud Storage request failed: %s %s", request.method, request.path)
        return _error(500, "Backend Error", "backendError")


_ROUTE = re.compile(r"^/(?P<kind>storage|download/storage|upload/storage)/v1/b/(?P<bucket>[^/]+)"
                    r"(?:(?P<objects>/o)(?:/(?P<name>.+))?)?/?$")


def _dispatch(request: Request, buckets: BucketStore) -> Response:
    if request.path.rstrip("/") == "/storage/v1/b" and request.method.upper() == "GET":
        # buckets.list: the sandbox's buckets (a caller without a token sees the public ones).
        names = [b for b in buckets.bucket_names() if request.bearer_token is not None or buckets.is_public(b)]
        return Response.json({"kind": "storage#buckets", "items": [buckets.bucket_json(b) for b in names]})
    if request.path.rstrip("/") == "/storage/v1/b" and request.method.upper() == "POST":
        return _create_bucket(request, buckets)
    found = _ROUTE.match(request.path)
    if not found:
        return _error(404, f"Not Found: {request.path}")
    kind, bucket, name = found.group("kind"), found.group("bucket"), found.group("name")
    has_objects = found.group("objects") is not None
    token = request.bearer_token
    method = request.method.upper()

    if kind == "upload/storage":
        if method == "POST" and has_objects and not name:
            return _upload(request, buckets, bucket, token)
        if method == "PUT" and has_objects and not name:
            return _resumable_put(request, buckets, bucket, token)
        return _error(405, f"Method {method} not allowed for {request.path}.")

    if not has_objects:
        if method == "DELETE":
            if token is None:
                raise _anonymous("storage.buckets.delete")
            buckets.delete_bucket(bucket)
            return Response(204, b"", content_type="application/json; charset=UTF-8")
        if method != "GET":
            return _error(405, f"Method {method} not allowed for {request.path}.")
        buckets.check_read(bucket, token, "storage.buckets.get")
        return Response.json(buckets.bucket_json(bucket))

    if not name:
        if method == "GET":
            return _list(request, buckets, bucket, token)
        if method == "POST":  # objects.insert through the JSON API path: media upload
            return _upload(request, buckets, bucket, token)
        return _error(405, f"Method {method} not allowed for {request.path}.")

    if method in ("GET", "HEAD"):
        media = kind == "download/storage" or request.param("alt") == "media"
        buckets.check_read(bucket, token, "storage.objects.get")
        info = buckets.info(bucket, name)
        generation = request.param("generation")
        if info is None or (generation and generation != str(info.generation)):
            return _error(404, f"No such object: {bucket}/{name}")
        if not media:
            return Response.json(info.to_json(_base_url(request)))
        return _download(request, buckets, info)
    if method == "DELETE":
        buckets.check_write(bucket, token, "storage.objects.delete")
        info = buckets.info(bucket, name)
        generation = request.param("generation")
        if info is None or (generation and generation != str(info.generation)):
            return _error(404, f"No such object: {bucket}/{name}")
        buckets.delete(bucket, name)
        return Response(204, b"", content_type="application/json; charset=UTF-8")
    return _error(405, f"Method {method} not allowed for {request.path}.")


# -- buckets ----------------------------------------------------------------------------------


def _anonymous(what: str) -> BucketError:
    return BucketError(401, "required", f"Anonymous caller does not have {what} access to the Google Cloud "
                                        f"Storage project. Permission '{what}' denied on resource "
                                        "(or it may not exist).")


def _create_bucket(request: Request, buckets: BucketStore) -> Response:
    """``buckets.insert`` (``POST /storage/v1/b?project=P``, body ``{"name": ...}``): what
    ``gcloud storage buckets create`` and ``storage.Client().create_bucket`` send. A
    ``predefinedAcl`` / ``predefinedDefaultObjectAcl`` of ``publicRead`` makes it public."""
    if request.bearer_token is None:
        raise _anonymous("storage.buckets.create")
    if not request.param("project"):
        return _error(400, "Required parameter: project")
    try:
        body = json.loads(request.body.decode("utf-8") or "{}") if request.body else {}
    except ValueError:
        return _error(400, "Invalid JSON payload received.")
    name = str(body.get("name") or "")
    if not name:
        return _error(400, "Required parameter: name", "required")
    public = "publicRead" in (request.param("predefinedAcl"), request.param("predefinedDefaultObjectAcl"))
    buckets.create(name, "public" if public else "private")
    return Response.json(buckets.bucket_json(name))


# -- listing ----------------------------------------------------------------------------------


def _list(request: Request, buckets: BucketStore, bucket: str, token: Optional[str]) -> Response:
    buckets.check_read(bucket, token, "storage.objects.list")
    prefix = request.param("prefix", "") or ""
    delimiter = request.param("delimiter") or None
    try:
        size = int(request.param("maxResults") or DEFAULT_PAGE_SIZE)
    except ValueError:
        return _error(400, "Invalid value for maxResults.")
    size = max(1, min(size, MAX_PAGE_SIZE))
    start_after = _decode_page_token(request.param("pageToken"))
    objects, prefixes, resume = buckets.list(bucket, prefix, delimiter, start_after, size)
    base = _base_url(request)
    body: Dict[str, Any] = {"kind": "storage#objects"}
    if objects:
        body["items"] = [o.to_json(base) for o in objects]
    if prefixes:
        body["prefixes"] = prefixes
    if resume is not None:
        body["nextPageToken"] = _encode_page_token(resume)
    return Response.json(body)


def _encode_page_token(name: str) -> str:
    import base64

    return base64.urlsafe_b64encode(("gcs:" + name).encode("utf-8")).decode("ascii")


def _decode_page_token(token: Optional[str]) -> Optional[str]:
    if not token:
        return None
    import base64

    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise BucketError(400, "invalid", "Invalid page token.") from None
    if not text.startswith("gcs:"):
        raise BucketError(400, "invalid", "Invalid page token.")
    return text[4:]


# -- download ---------------------------------------------------------------------------------


def _parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """(first, last) inclusive, None for the whole object; raises BucketError(416) when unsatisfiable."""
    if not header:
        return None
    found = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if not found or (not found.group(1) and not found.group(2)):
        return None  # Cloud Storage ignores a Range it cannot parse
    first_text, last_text = found.groups()
    if first_text:
        first = int(first_text)
        last = int(last_text) if last_text else size - 1
    else:  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0:
            raise BucketError(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.")
        first, last = max(0, size - length), size - 1
    last = min(last, size - 1)
    if first >= size or first > last:
        if size == 0 and first == 0:
            return None
        raise BucketError(416, "requestedRangeNotSatisfiable", "The requested range cannot be satisfied.")
    return first, last


def _download(request: Request, buckets: BucketStore, info) -> Response:
    span = _parse_range(request.headers.get("range"), info.size)
    headers = {
        "x-goog-hash": f"crc32c={info.crc32c_base64},md5={info.md5_base64}",
        "x-goog-generation": str(info.generation),
        "x-goog-metageneration": "1",
        "x-goog-stored-content-length": str(info.size),
        "x-goog-stored-content-encoding": "identity",
        "x-goog-storage-class": "STANDARD",
        "ETag": f'"{info.md5_base64}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": "attachment",
    }
    first, last = span if span else (0, info.size - 1)
    length = max(0, last - first + 1)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
    if request.method.upper() == "HEAD":
        return Response(status, b"", content_type=info.content_type, headers=headers)
    handle = buckets.open(info.bucket, info.name)
    if length <= STREAM_ABOVE_BYTES:
        with handle:
            handle.seek(first)
            data = handle.read(length)
        return Response(status, data, content_type=info.content_type, headers=headers)
    headers["Content-Length"] = str(length)
    return Response(status, _stream(handle, first, length), content_type=info.content_type, headers=headers)


def _stream(handle, first: int, length: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    with handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data


# -- upload -----------------------------------------------------------------------------------


def _upload(request: Request, buckets: BucketStore, bucket: str, token: Optional[str]) -> Response:
    buckets.check_write(bucket, token, "storage.objects.create")
    upload_type = request.param("uploadType", "media")
    base = _base_url(request)
    if upload_type == "media":
        name = request.param("name")
        if not name:
            return _error(400, "Required parameter: name")
        info = buckets.write(bucket, name, data=request.body)
        return Response.json(info.to_json(base))
    if upload_type == "multipart":
        metadata, media = _parse_multipart(request)
        name = metadata.get("name") or request.param("name")
        if not name:
            return _error(400, "Required parameter: name")
        info = buckets.write(bucket, name, data=media)
        return Response.json(info.to_json(base))
    if upload_type == "resumable":
        metadata = request.json() if request.body else {}
        name = metadata.get("name") or request.param("name")
        if not name:
            return _error(400, "Required parameter: name")
        upload_id = uuid.uuid4().hex
        handle, path = tempfile.mkstemp(prefix=".upload-", dir=str(buckets.staging_dir(bucket)))
        os.close(handle)
        with _resumable_lock:
            _resumable[upload_id] = {"bucket": bucket, "name": name, "path": path, "size": 0}
        location = f"{base}/upload/storage/v1/b/{quote(bucket, safe='')}/o?uploadType=resumable&upload_id={upload_id}"
        return Response(200, b"", headers={"Location": location, "X-GUploader-UploadID": upload_id})
    return _error(400, f"Invalid uploadType: {upload_type}")


def _resumable_put(request: Request, buckets: BucketStore, bucket: str, token: Optional[str]) -> Response:
    buckets.check_write(bucket, token, "storage.objects.create")
    upload_id = request.param("upload_id") or ""
    with _resumable_lock:
        session = _resumable.get(upload_id)
    if session is None or session["bucket"] != bucket:
        return _error(404, "No such upload session.")
    content_range = request.headers.get("content-range", "")
    found = re.fullmatch(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)", content_range.strip())
    if request.body:
        first = int(found.group(1)) if found and found.group(1) else session["size"]
        if first != session["size"]:
            return _resumable_incomplete(session)
        with open(session["path"], "ab") as out:
            out.write(request.body)
        session["size"] += len(request.body)
    total = found.group(3) if found else str(session["size"])
    if total != "*" and int(total) == session["size"]:
        with _resumable_lock:
            _resumable.pop(upload_id, None)
        from pathlib import Path

        info = buckets.write(bucket, session["name"], source=Path(session["path"]))
        return Response.json(info.to_json(_base_url(request)))
    return _resumable_incomplete(session)


def _resumable_incomplete(session: Dict[str, Any]) -> Response:
    headers = {"Range": f"bytes=0-{session['size'] - 1}"} if session["size"] else {}
    return Response(308, b"", content_type="text/plain; charset=utf-8", headers=headers)


def _parse_multipart(request: Request) -> Tuple[Dict[str, Any], bytes]:
    content_type = request.headers.get("content-type", "")
    found = re.search(r'boundary="?([^";]+)"?', content_type)
    if not found:
        raise BucketError(400, "invalid", "Multipart upload without a boundary.")
    boundary = b"--" + found.group(1).encode("ascii")
    sections = [s for s in request.body.split(boundary) if s.strip() not in (b"", b"--")]
    payloads = []
    for section in sections[:2]:
        section = section[2:] if section.startswith(b"\r\n") else section
        head, _, payload = section.partition(b"\r\n\r\n")
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        payloads.append(payload)
    if len(payloads) != 2:
        raise BucketError(400, "invalid", "A multipart upload needs metadata and media.")
    try:
        metadata = json.loads(payloads[0].decode("utf-8") or "{}")
    except ValueError:
        raise BucketError(400, "invalid", "Invalid JSON metadata in multipart upload.") from None
    return metadata, payloads[1]
