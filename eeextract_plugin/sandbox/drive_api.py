"""The subset of the Drive v3 API that finding, fetching and deleting export parts needs.

Over ``storage.DriveStore`` (folders are directories under ``<state_dir>/drive``; that directory
is also what a desktop-synced Drive looks like, for the mounted-folder mode). Routes (the server
sends every path under ``/drive/v3/`` here)::

    GET    /drive/v3/files?q&pageSize&pageToken&fields&orderBy   search
    GET    /drive/v3/files/{id}?fields                           metadata (size, md5Checksum, ...)
    GET    /drive/v3/files/{id}?alt=media                        content (Range honoured)
    DELETE /drive/v3/files/{id}                                  permanent delete (204)

``googleapiclient.discovery.build("drive", "v3", static_discovery=True, credentials=...,
client_options={"api_endpoint": SANDBOX_URL + "/drive/v3/"})`` talks to it: the client joins
method paths ("files", "files/{fileId}") to ``api_endpoint`` as given, so the endpoint must end
with ``/drive/v3/``.

Queries (``q``): comparisons ``name = 'x'``, ``name != 'x'``, ``name contains 'x'`` (prefix of the
name or of a word in it, as Drive matches names), ``mimeType = / != '...'``, ``'id' in parents``,
``trashed = false``, ``starred = false``, ``modifiedTime > '2024-01-01T00:00:00'`` (and ``<``,
``>=``, ``<=``, also ``createdTime``), joined with ``and`` / ``or`` / ``not`` and parentheses;
string escapes ``\\'`` and ``\\\\``. Anything else: 400 "Invalid Value" like Drive.

``fields`` is a Drive field mask (``nextPageToken, files(id, name, size, md5Checksum)``, ``*``).
As on Drive, a list answered with ``fields`` that omits ``nextPageToken`` has no page token.
Every call needs a bearer token (any token); without one, 401.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from eeextract_plugin.sandbox.http import Request, Response
from eeextract_plugin.sandbox.storage import DRIVE_ROOT_ID, FOLDER_MIME_TYPE, DriveFile, DriveStore

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
DEFAULT_FILE_FIELDS = "kind,id,name,mimeType"


class DriveError(Exception):
    def __init__(self, code: int, reason: str, message: str, location: Optional[str] = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.location = location


def _error_response(error: DriveError) -> Response:
    detail: Dict[str, Any] = {"domain": "global", "reason": error.reason, "message": error.message}
    if error.location:
        detail.update({"locationType": "parameter", "location": error.location})
    response = Response.json({"error": {"errors": [detail], "code": error.code, "message": error.message}},
                             error.code)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    return response


def handle(request: Request, drive: DriveStore) -> Response:
    """Answer one Drive v3 request."""
    try:
        return _dispatch(request, drive)
    except DriveError as error:
        return _error_response(error)
    except Exception:  # the sandbox keeps serving
        log.exception("Drive request failed: %s %s", request.method, request.path)
        return _error_response(DriveError(500, "backendError", "Backend Error"))


def _dispatch(request: Request, drive: DriveStore) -> Response:
    if request.bearer_token is None:
        raise DriveError(401, "required",
                         "Request is missing required authentication credential. Expected OAuth 2 access "
                         "token, login cookie or other valid authentication credential.", "Authorization")
    path = request.path.rstrip("/")
    method = request.method.upper()
    if path == "/drive/v3/files":
        if method == "GET":
            return _list(request, drive)
        raise DriveError(405, "notAllowed", f"Method {method} is not supported by the sandbox's Drive.")
    found = re.fullmatch(r"/drive/v3/files/([^/]+)", path)
    if not found:
        raise DriveError(404, "notFound", f"Not Found: {request.path}")
    file_id = found.group(1)
    if method in ("GET", "HEAD"):
        if request.param("alt") == "media":
            return _download(request, drive, _get(drive, file_id))
        if file_id == DRIVE_ROOT_ID:
            value = {"kind": "drive#file", "id": DRIVE_ROOT_ID, "name": "My Drive",
                     "mimeType": FOLDER_MIME_TYPE, "trashed": False}
        else:
            value = drive.file_json(_get(drive, file_id))
        return Response.json(apply_fields(value, parse_fields(request.param("fields") or DEFAULT_FILE_FIELDS)))
    if method == "DELETE":
        if file_id == DRIVE_ROOT_ID:
            raise DriveError(403, "insufficientFilePermissions",
                             "The user does not have sufficient permissions for this file.")
        drive.delete(_get(drive, file_id))
        return Response(204, b"")
    raise DriveError(405, "notAllowed", f"Method {method} is not supported by the sandbox's Drive.")


def _get(drive: DriveStore, file_id: str) -> DriveFile:
    entry = drive.get(file_id)
    if entry is None:
        raise DriveError(404, "notFound", f"File not found: {file_id}.", "fileId")
    return entry


# -- download ---------------------------------------------------------------------------------


def _download(request: Request, drive: DriveStore, entry: DriveFile) -> Response:
    if entry.is_folder:
        raise DriveError(403, "fileNotDownloadable",
                         "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                         "alt")
    digest = drive.digest(entry)
    size = digest.size
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{digest.md5_hex}"',
               "Content-Disposition": f'attachment; filename="{entry.name}"'}
    first, last = 0, size - 1
    status = 200
    span = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", request.headers.get("range", "") or "")
    if span and (span.group(1) or span.group(2)):
        if span.group(1):
            first = int(span.group(1))
            last = min(int(span.group(2)) if span.group(2) else size - 1, size - 1)
        else:
            first, last = max(0, size - int(span.group(2))), size - 1
        if first >= size or first > last:
            raise DriveError(416, "requestedRangeNotSatisfiable", "Request range not satisfiable")
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    if request.method.upper() == "HEAD":
        return Response(status, b"", content_type=entry.mime_type, headers=headers)
    with open(entry.path, "rb") as handle:
        handle.seek(first)
        data = handle.read(max(0, last - first + 1))
    return Response(status, data, content_type=entry.mime_type, headers=headers)


# -- search -----------------------------------------------------------------------------------


def _list(request: Request, drive: DriveStore) -> Response:
    query = request.param("q") or ""
    predicate = parse_query(query)
    try:
        size = int(request.param("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise DriveError(400, "invalid", "Invalid value for: pageSize", "pageSize") from None
    if size < 1 or size > MAX_PAGE_SIZE:
        raise DriveError(400, "invalid", f"Invalid value '{size}'. Values must be within the range: [1, 1000]",
                         "pageSize")
    order = request.param("orderBy") or "folder,name"
    entries = [e for e in drive.walk() if predicate(_attributes(drive, e))]
    entries.sort(key=_order_key(drive, order))
    token = request.param("pageToken")
    context = hashlib.sha1(f"{query}|{order}".encode()).hexdigest()[:12]
    start = _decode_token(token, context) if token else 0
    page = entries[start:start + size]
    body: Dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                            "files": [drive.file_json(e) for e in page]}
    if start + size < len(entries):
        body["nextPageToken"] = _encode_token(start + size, context)
    fields = request.param("fields")
    mask = parse_fields(fields) if fields else parse_fields(
        "kind,incompleteSearch,nextPageToken,files(" + DEFAULT_FILE_FIELDS + ")")
    return Response.json(apply_fields(body, mask))


def _attributes(drive: DriveStore, entry: DriveFile) -> Dict[str, Any]:
    stat = entry.path.stat()
    from eeextract_plugin.sandbox.storage import rfc3339

    return {"name": entry.name, "mimeType": entry.mime_type, "parents": [entry.parent_id],
            "trashed": False, "starred": False, "modifiedTime": rfc3339(stat.st_mtime),
            "createdTime": rfc3339(stat.st_mtime)}


def _order_key(drive: DriveStore, order: str) -> Callable[[DriveFile], Tuple]:
    keys = []
    for item in order.split(","):
        words = item.strip().split()
        if not words:
            continue
        keys.append((words[0], len(words) > 1 and words[1].lower() == "desc"))

    def key(entry: DriveFile) -> Tuple:
        result: List[Any] = []
        for field, desc in keys:
            if field == "folder":
                value: Any = 0 if entry.is_folder else 1
            elif field in ("name", "name_natural"):
                value = entry.name.lower()
            elif field in ("modifiedTime", "createdTime", "recency", "modifiedByMeTime", "viewedByMeTime"):
                value = entry.path.stat().st_mtime_ns
            else:
                continue
            if desc:
                value = _Reversed(value)
            result.append(value)
        result.append(entry.id)
        return tuple(result)

    return key


class _Reversed:
    def __init__(self, value: Any):
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return self.value > other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value


def _encode_token(offset: int, context: str) -> str:
    return base64.urlsafe_b64encode(f"drive:{context}:{offset}".encode()).decode("ascii").rstrip("=")


def _decode_token(token: str, context: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        kind, token_context, offset = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split(":")
        if kind != "drive" or token_context != context:
            raise ValueError(token)
        return int(offset)
    except (ValueError, UnicodeError):
        raise DriveError(400, "invalid", "Invalid Value", "pageToken") from None


# -- the query language -------------------------------------------------------------------------


_TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>|\(|\))|(?P<word>[A-Za-z_][\w.]*))")


def _tokens(query: str) -> List[Tuple[str, str]]:
    tokens: List[Tuple[str, str]] = []
    position = 0
    query = query.rstrip()
    while position < len(query):
        found = _TOKEN.match(query, position)
        if not found or found.end() == position:
            raise DriveError(400, "invalid", "Invalid Value", "q")
        position = found.end()
        if found.group("string") is not None:
            raw = found.group("string")[1:-1]
            tokens.append(("string", re.sub(r"\\(.)", r"\1", raw)))
        elif found.group("op") is not None:
            tokens.append(("op", found.group("op")))
        else:
            tokens.append(("word", found.group("word")))
    return tokens


Predicate = Callable[[Dict[str, Any]], bool]


def parse_query(query: str) -> Predicate:
    """Compile a Drive ``q`` string into a predicate over file attributes."""
    if not query.strip():
        return lambda attrs: True
    tokens = _tokens(query)
    position = 0

    def peek() -> Optional[Tuple[str, str]]:
        return tokens[position] if position < len(tokens) else None

    def take() -> Tuple[str, str]:
        nonlocal position
        if position >= len(tokens):
            raise DriveError(400, "invalid", "Invalid Value", "q")
        token = tokens[position]
        position += 1
        return token

    def keyword(token: Optional[Tuple[str, str]], word: str) -> bool:
        return token is not None and token[0] == "word" and token[1].lower() == word

    def expression() -> Predicate:
        left = conjunction()
        while keyword(peek(), "or"):
            take()
            right = conjunction()
            left = (lambda a, b: lambda attrs: a(attrs) or b(attrs))(left, right)
        return left

    def conjunction() -> Predicate:
        left = unary()
        while keyword(peek(), "and"):
            take()
            right = unary()
            left = (lambda a, b: lambda attrs: a(attrs) and b(attrs))(left, right)
        return left

    def unary() -> Predicate:
        token = peek()
        if keyword(token, "not"):
            take()
            inner = unary()
            return lambda attrs: not inner(attrs)
        if token == ("op", "("):
            take()
            inner = expression()
            if take() != ("op", ")"):
                raise DriveError(400, "invalid", "Invalid Value", "q")
            return inner
        return comparison()

    def comparison() -> Predicate:
        first = take()
        if first[0] == "string":  # 'value' in parents
            if not keyword(take(), "in"):
                raise DriveError(400, "invalid", "Invalid Value", "q")
            field = take()
            if field[0] != "word" or field[1] not in ("parents", "owners", "writers", "readers"):
                raise DriveError(400, "invalid", "Invalid Value", "q")
            value, name = first[1], field[1]
            if name != "parents":
                return lambda attrs: True  # the sandbox's user owns everything
            return lambda attrs: value in attrs["parents"]
        if first[0] != "word":
            raise DriveError(400, "invalid", "Invalid Value", "q")
        field = first[1]
        operator = take()
        if operator[0] == "word" and operator[1].lower() == "contains":
            op = "contains"
        elif operator[0] == "op" and operator[1] in ("=", "!=", "<", ">", "<=", ">="):
            op = operator[1]
        else:
            raise DriveError(400, "invalid", "Invalid Value", "q")
        value_token = take()
        if value_token[0] == "string":
            value: Any = value_token[1]
        elif value_token[0] == "word" and value_token[1].lower() in ("true", "false"):
            value = value_token[1].lower() == "true"
        else:
            raise DriveError(400, "invalid", "Invalid Value", "q")
        return _comparison(field, op, value)

    predicate = expression()
    if position != len(tokens):
        raise DriveError(400, "invalid", "Invalid Value", "q")
    return predicate


def _name_contains(name: str, value: str) -> bool:
    """Drive's ``name contains``: the value starts the name or one of its words (case-insensitive)."""
    name, value = name.lower(), value.lower()
    if name.startswith(value):
        return True
    for index in range(1, len(name)):
        if not name[index - 1].isalnum() and name[index:].startswith(value):
            return True
    return False


def _comparison(field: str, op: str, value: Any) -> Predicate:
    if field == "name":
        if op == "contains":
            return lambda attrs: _name_contains(attrs["name"], str(value))
        if op in ("=", "!="):
            return lambda attrs: (attrs["name"] == value) == (op == "=")
    elif field == "mimeType":
        if op in ("=", "!="):
            return lambda attrs: (attrs["mimeType"] == value) == (op == "=")
        if op == "contains":
            return lambda attrs: str(value) in attrs["mimeType"]
    elif field in ("trashed", "starred"):
        if op in ("=", "!=") and isinstance(value, bool):
            return lambda attrs: (attrs[field] == value) == (op == "=")
    elif field in ("modifiedTime", "createdTime") and op in ("=", "!=", "<", ">", "<=", ">="):
        wanted = str(value)
        compare = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
                   ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}[op]
        return lambda attrs: compare(_normal_time(attrs[field]), _normal_time(wanted))
    elif field == "fullText" and op == "contains":
        return lambda attrs: str(value).lower() in attrs["name"].lower()
    raise DriveError(400, "invalid", "Invalid Value", "q")


def _normal_time(value: str) -> str:
    """RFC 3339 to a comparable string (UTC assumed when no zone is given)."""
    text = value.rstrip("Z")
    if "." not in text:
        text += ".000"
    return text.ljust(23, "0")[:23]


# -- field masks ----------------------------------------------------------------------------------


FieldMask = Optional[Dict[str, Any]]  # None: everything


def parse_fields(text: str) -> FieldMask:
    """``nextPageToken, files(id, name)`` / ``files/id`` / ``*`` → a nested dict (None = all)."""
    text = text.strip()
    if text in ("", "*"):
        return None
    position = 0

    def parse_list(end: Optional[str]) -> Dict[str, Any]:
        nonlocal position
        mask: Dict[str, Any] = {}
        while position < len(text):
            while position < len(text) and text[position] in " ,":
                position += 1
            if position < len(text) and end is not None and text[position] == end:
                position += 1
                return mask
            found = re.match(r"[\w*]+(?:/[\w*]+)*", text[position:])
            if not found:
                raise DriveError(400, "invalid", f"Invalid field selection {text}", "fields")
            path = found.group(0).split("/")
            position += found.end()
            sub: FieldMask = None
            if position < len(text) and text[position] == "(":
                position += 1
                sub = parse_list(")")
            target: Optional[Dict[str, Any]] = mask
            for part in path[:-1]:
                if part in target and target[part] is None:
                    target = None
                    break
                target = target.setdefault(part, {})
            if target is not None:
                leaf = path[-1]
                if leaf in target and target[leaf] is None:
                    pass
                elif sub is None or leaf == "*":
                    target[leaf] = None
                else:
                    target[leaf] = {**(target.get(leaf) or {}), **sub}
        if end is not None:
            raise DriveError(400, "invalid", f"Invalid field selection {text}", "fields")
        return mask

    mask = parse_list(None)
    return None if "*" in mask else mask


def apply_fields(value: Any, mask: FieldMask) -> Any:
    if mask is None:
        return value
    if isinstance(value, list):
        return [apply_fields(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    if "*" in mask:
        return value
    return {key: apply_fields(value[key], sub) for key, sub in mask.items() if key in value}


# Kept for callers that want the JSON of an entry with a mask (e.g. the engine's own tests).
def file_resource(drive: DriveStore, entry: DriveFile, fields: Optional[str] = None) -> Dict[str, Any]:
    return apply_fields(drive.file_json(entry), parse_fields(fields or DEFAULT_FILE_FIELDS))


