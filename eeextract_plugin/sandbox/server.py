"""The sandbox's HTTP server: routes every Earth Engine REST v1 path, the discovery document, and
the Cloud Storage / Drive paths, onto the engine, the export service and the storage emulators.

Transport: a stdlib ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, one daemon thread
per connection (pixel computing is NumPy/GDAL work that releases the GIL, so threads scale as
far as the cores do). Every answer is either the method's result or an Earth Engine-style error
``{"error": {code, message, status}}``: an unexpected exception becomes 500 INTERNAL with its
message, never a traceback or a hang, and the server keeps serving.

Load behaviour (429s, latency, injected faults) is ``limits.LoadLimiter``'s; see its docstring for
which requests count as interactive and how latency is computed (from the output raster's
``grid.width * grid.height``, after computing).

Usage::

    with SandboxServer(SandboxConfig(port=0)) as server:
        ee.Initialize(credentials=None, url=server.url, project="sandbox")
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

from eeextract_plugin.sandbox import discovery, encoding
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import (
    EEError,
    internal,
    invalid_argument,
    method_not_allowed,
    not_found,
)
from eeextract_plugin.sandbox.http import Request, Response
from eeextract_plugin.sandbox.limits import Fault, LoadLimiter
from eeextract_plugin.sandbox.metering import count as metering_count
from eeextract_plugin.sandbox.metering import metering
from eeextract_plugin.sandbox.quota import (
    QUOTA_STATUS_HEADER,
    RESTRICTED_STATUS,
    QuotaLedger,
    validate_workload_tag,
)
from eeextract_plugin.sandbox.thumbnails import MapService, TableDownloadService, ThumbnailService
from eeextract_plugin.sandbox.workers import ComputePool

log = logging.getLogger(__name__)

API_VERSIONS = ("v1", "v1beta", "v1alpha")
STORAGE_PREFIXES = ("/storage/v1/", "/download/storage/v1/", "/upload/storage/v1/")
DRIVE_PREFIXES = ("/drive/v3/", "/upload/drive/v3/")


def unimplemented(message: str) -> EEError:
    return EEError(501, "UNIMPLEMENTED", message)


def _optional_module(name: str):
    """Import a collaborator module that another engineer may not have written yet."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            log.warning("%s is not available: its routes answer 501", name)
            return None
        raise


Outcome = Tuple[Response, Optional[Fault]]
Handler = Callable[..., Any]


class SandboxServer:
    """A local Earth Engine REST API v1 server. ``start()`` serves in background threads."""

    def __init__(self, config: Optional[SandboxConfig] = None, engine: Any = None, exports: Any = None):
        self.config = config or SandboxConfig()
        self.quota = QuotaLedger(self.config.quota)
        if engine is None:
            module = _optional_module("eeextract_plugin.sandbox.engine")
            engine = module.Engine(self.config) if module else None
        self.engine = engine
        if exports is None and engine is not None:
            module = _optional_module("eeextract_plugin.sandbox.exports")
            exports = module.ExportService(self.config, engine) if module else None
        self.exports = exports
        if exports is not None and getattr(exports, "quota", False) is None:
            exports.quota = self.quota  # batch exports charge the same ledger
        self.limiter = LoadLimiter(self.config, concurrency_for=self._concurrency_for)
        self.thumbnails = ThumbnailService(self.config, self._require_engine)
        self.tables = TableDownloadService(self._require_engine)
        self.maps = MapService(self._require_engine)
        self.pool: Optional[ComputePool] = None
        if self.config.compute_workers > 0 and engine is not None:
            self.pool = ComputePool(self.config, self.config.compute_workers)
        self._httpd: Optional[_HTTPServer] = None
        self._port: Optional[int] = None
        self._exports_closed = False
        self._thread: Optional[threading.Thread] = None
        self._routes = self._build_routes()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        server_class = _HTTPServer6 if ":" in self.config.host else _HTTPServer
        httpd = server_class((self.config.host, self.config.port), _RequestHandler)
        httpd.sandbox = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="sandbox-http", daemon=True)
        self._thread.start()
        if self.pool is not None:
            self.pool.start()
        log.info("sandbox serving at %s", self.url)
        return self

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def url(self) -> str:
        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
            httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.pool is not None:
            self.pool.close()
        exports = self.exports
        if exports is not None and hasattr(exports, "close") and not self._exports_closed:
            self._exports_closed = True
            exports.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- dispatch ------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Outcome:
        """Answer one request; never raises. Every answer to a project in restricted mode
        carries Earth Engine's quota-status header."""
        try:
            response, fault = self._route(request)
        except EEError as error:
            response, fault = Response.error(error), None
        except Exception as exc:  # noqa: BLE001 - the server must keep serving
            log.exception("sandbox: %s %s failed", request.method, request.path)
            response, fault = Response.error(internal(f"An internal error has occurred: {type(exc).__name__}: {exc}")), None
        project = _path_project(request.path)
        if project is not None and self.quota.restricted(project):
            response.headers[QUOTA_STATUS_HEADER] = RESTRICTED_STATUS
        return response, fault

    def _concurrency_for(self, project: str) -> int:
        """The project's concurrent interactive request limit (lower in restricted mode)."""
        return self.quota.max_concurrent(project, self.config.max_concurrent_requests)

    def _route(self, request: Request) -> Outcome:
        path = request.path
        if path.startswith(STORAGE_PREFIXES):
            return self._delegate("eeextract_plugin.sandbox.gcs_api", request, "buckets"), None
        if path.startswith(DRIVE_PREFIXES):
            return self._delegate("eeextract_plugin.sandbox.drive_api", request, "drive"), None
        if path in ("/$discovery/rest", "/discovery/v1/apis/earthengine/v1/rest"):
            self._require(request, "GET")
            version = request.param("version", discovery.VERSION)
            if version not in API_VERSIONS:
                raise not_found(f"Discovery document for version {version!r} not found.")
            host = request.headers.get("host")
            base = f"http://{host}" if host else self.url
            return Response.json(discovery.discovery_document(base)), None
        if path in ("/", "/healthz"):
            return Response.json({"service": "EE Extract sandbox", "url": self.url}), None
        quota = re.match(r"^/sandbox/quota/(?:projects/)?([^/]+)$", path)
        if quota:  # the sandbox's own report of the EECU ledger (not an Earth Engine API)
            self._require(request, "GET")
            return Response.json(self.quota.usage(quota.group(1))), None
        match = re.match(r"^/(v1|v1beta|v1alpha)/(projects/[^/:]+)(.*)$", path)
        if not match:
            raise not_found(f"The requested URL {path} was not found on this server.")
        project, rest = match.group(2), match.group(3)
        for pattern, methods in self._routes:
            found = pattern.match(rest)
            if found is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                raise method_not_allowed(request.method, path)
            self.limiter.check_rate(project)
            return handler(request, project, *found.groups())
        raise not_found(f"The requested URL {path} was not found on this server.")

    @staticmethod
    def _require(request: Request, method: str) -> None:
        if request.method != method:
            raise method_not_allowed(request.method, request.path)

    def _delegate(self, module_name: str, request: Request, store_attr: str) -> Response:
        module = _optional_module(module_name)
        store = getattr(self.exports, store_attr, None) if self.exports is not None else None
        if module is None or store is None:
            raise unimplemented(f"{request.path}: this sandbox has no {store_attr} store.")
        return module.handle(request, store)

    def _require_engine(self) -> Any:
        if self.engine is None:
            raise unimplemented("The sandbox's engine is not available.")
        return self.engine

    def _require_exports(self) -> Any:
        if self.exports is None:
            raise unimplemented("The sandbox's export service is not available.")
        return self.exports

    # -- routes --------------------------------------------------------------------------------

    def _build_routes(self) -> List[Tuple[re.Pattern[str], Dict[str, Handler]]]:
        """Patterns on the path after ``/v1/projects/{p}``."""
        asset = r"(/assets/.+?)"
        table: List[Tuple[str, Dict[str, Handler]]] = [
            (r"/algorithms", {"GET": self._algorithms}),
            (r":listAssets", {"GET": self._list_root_assets}),
            (r"/config", {"GET": self._get_config, "PATCH": self._update_config}),
            (r"/value:compute", {"POST": self._value_compute}),
            (r"/image:computePixels", {"POST": self._compute_pixels}),
            (r"/image:export", {"POST": self._image_export}),
            (r"/table:computeFeatures", {"POST": self._compute_features}),
            (r"/thumbnails", {"POST": self._thumbnail_create}),
            (r"/thumbnails/([^/:]+):getPixels", {"GET": self._thumbnail_pixels}),
            (r"/operations", {"GET": self._list_operations}),
            (r"/operations/(.+?):cancel", {"POST": self._cancel_operation}),
            (r"/operations/(.+?):wait", {"POST": self._wait_operation}),
            (r"/operations/(.+)", {"GET": self._get_operation, "DELETE": self._unsupported}),
            (asset + r":getPixels", {"POST": self._asset_pixels}),
            (asset + r":listAssets", {"GET": self._list_assets}),
            (asset + r":listImages", {"GET": self._list_images}),
            (asset + r":listFeatures", {"GET": self._list_features}),
            (asset + r":(copy|move|getIamPolicy|setIamPolicy|testIamPermissions)", {"POST": self._unsupported}),
            (r"/assets/([^:]+)", {"GET": self._get_asset, "PATCH": self._unsupported,
                                  "DELETE": self._unsupported}),
            (r"/assets", {"POST": self._unsupported}),
            (r"/(image|table):(import|importExternal)", {"POST": self._unsupported}),
            (r"/(table|video|videoMap|map|classifier):export", {"POST": self._unsupported}),
            (r"/(imageCollection):computeImages", {"POST": self._unsupported}),
            (r"/tables", {"POST": self._table_create}),
            (r"/tables/([^/:]+):getFeatures", {"GET": self._table_features}),
            (r"/maps", {"POST": self._map_create}),
            (r"/maps/([^/:]+)/tiles/(\d+)/(\d+)/(\d+)", {"GET": self._map_tile}),
            (r"/(videoThumbnails|filmstripThumbnails|featureView)", {"POST": self._unsupported}),
            (r"/(videoThumbnails|filmstripThumbnails)/.+", {"GET": self._unsupported}),
        ]
        return [(re.compile("^" + pattern + "$"), methods) for pattern, methods in table]

    def _unsupported(self, request: Request, project: str, *args: str) -> Outcome:
        raise unimplemented(f"{request.method} {request.path} is not supported by the EE Extract sandbox.")

    # metadata

    def _algorithms(self, request: Request, project: str) -> Outcome:
        return Response.json({"algorithms": self._require_engine().algorithms()}), None

    def _get_config(self, request: Request, project: str) -> Outcome:
        return Response.json({"name": f"{project}/config",
                              "maxConcurrentExports": self.config.max_running_tasks}), None

    def _update_config(self, request: Request, project: str) -> Outcome:
        body = request.json()
        return Response.json({"name": f"{project}/config",
                              "maxConcurrentExports": body.get("maxConcurrentExports",
                                                               self.config.max_running_tasks)}), None

    def _get_asset(self, request: Request, project: str, asset_path: str) -> Outcome:
        return Response.json(self._require_engine().get_asset(f"{project}/assets/{asset_path}")), None

    def _list_root_assets(self, request: Request, project: str) -> Outcome:
        return self._listing(request, project, "assets"), None

    def _list_assets(self, request: Request, project: str, asset_path: str) -> Outcome:
        return self._listing(request, project + asset_path, "assets"), None

    def _list_images(self, request: Request, project: str, asset_path: str) -> Outcome:
        clauses = []
        if request.param("filter"):
            clauses.append(request.param("filter"))
        if request.param("startTime"):
            clauses.append(f'startTime >= "{request.param("startTime")}"')
        if request.param("endTime"):
            clauses.append(f'endTime < "{request.param("endTime")}"')
        if request.param("region"):
            region = request.param("region").replace('"', "'")
            clauses.append(f'intersects("{region}")')
        return self._listing(request, project + asset_path, "images", " AND ".join(clauses) or None), None

    def _listing(self, request: Request, parent: str, key: str, filter_: Optional[str] = None) -> Response:
        result = self._require_engine().list_assets(
            parent, _int_param(request, "pageSize"), request.param("pageToken") or None,
            filter_ if filter_ is not None else (request.param("filter") or None),
            request.param("view") or None)
        if key != "assets":
            result = dict(result)
            result[key] = result.pop("assets", [])
        return Response.json(result)

    # interactive computations

    def _interactive(self, project: str, work: Callable[[], Tuple[Any, ...]], workload_tag: Optional[str] = None
                     ) -> Outcome:
        """Run ``work`` (-> response, output pixels[, output band-pixels]) under the project's
        concurrency limit, the latency model and the fault plan; charge its EECU to the
        project's quota (also when it fails: the computation was done)."""
        with self.limiter.interactive(project) as slot:
            fault = self.limiter.faults.next()
            if fault is not None and fault.error() is not None:
                raise fault.error()
            band_pixels = 0
            with metering() as meter:
                try:
                    result = work()
                    response, pixels = result[0], result[1]
                    band_pixels = result[2] if len(result) > 2 else 0
                except EEError:
                    self.quota.charge(project, self.quota.model.cost(meter.pixels, 0, True), workload_tag)
                    slot.wait_latency(0)
                    raise
            self.quota.charge(project, self.quota.model.cost(meter.pixels, band_pixels, True), workload_tag)
            slot.wait_latency(pixels)
            if fault is Fault.SLOW_RESPONSE:
                self.limiter.sleep(self.limiter.faults.slow_s)
        return response, fault

    def _pooled(self, kind: str, *args: Any) -> Tuple[Response, int, int]:
        """Run one stateless engine call in a worker process: (response, output pixels, output
        band-pixels); the pixels it read count toward the project's EECU here."""
        body, content_type, headers, (pixels, band_pixels, read) = self.pool.run(kind, *args)
        metering_count(read)
        response = Response(200, body, content_type) if content_type else Response(200, body)
        response.headers.update(headers)
        return response, pixels, band_pixels

    def _value_compute(self, request: Request, project: str) -> Outcome:
        body = request.json()
        expression = _expression(body)

        tag = validate_workload_tag(body.get("workloadTag"))

        def work() -> Tuple[Response, int, int]:
            if self.pool is not None:
                return self._pooled("value", expression)
            return Response.json({"result": self._require_engine().compute_value(expression)}), 0, 0

        return self._interactive(project, work, tag)

    def _compute_pixels(self, request: Request, project: str) -> Outcome:
        body = request.json()
        expression = _expression(body)
        file_format = encoding.normalize_format(body.get("fileFormat"))
        tag = validate_workload_tag(body.get("workloadTag"))

        def work() -> Tuple[Response, int, int]:
            if self.pool is not None:
                return self._pooled("compute_pixels", expression, body.get("grid") or None,
                                    body.get("bandIds") or None, body.get("visualizationOptions") or None,
                                    file_format)
            raster = self._require_engine().compute_pixels(
                expression, body.get("grid") or None, body.get("bandIds") or None,
                body.get("visualizationOptions") or None)
            return _pixels_response(raster, file_format, None)

        return self._interactive(project, work, tag)

    def _asset_pixels(self, request: Request, project: str, asset_path: str) -> Outcome:
        body = request.json()
        file_format = encoding.normalize_format(body.get("fileFormat"))
        name = project + asset_path  # asset_path is "/assets/..."
        tag = validate_workload_tag(body.get("workloadTag"))

        def work() -> Tuple[Response, int, int]:
            if self.pool is not None:
                return self._pooled("asset_pixels", name, body.get("grid") or None, body.get("bandIds") or None,
                                    body.get("region") or None, body.get("visualizationOptions") or None,
                                    file_format)
            raster = self._require_engine().asset_pixels(
                name, body.get("grid") or None, body.get("bandIds") or None,
                body.get("region") or None, body.get("visualizationOptions") or None)
            return _pixels_response(raster, file_format, None)

        return self._interactive(project, work, tag)

    def _compute_features(self, request: Request, project: str) -> Outcome:
        body = request.json()
        expression = _expression(body)
        page_size = body.get("pageSize")
        tag = validate_workload_tag(body.get("workloadTag"))

        def work() -> Tuple[Response, int]:
            if self.pool is not None:
                return self._pooled("features", expression,
                                    int(page_size) if page_size not in (None, "") else None,
                                    body.get("pageToken") or None)
            result = self._require_engine().compute_features(
                expression, int(page_size) if page_size not in (None, "") else None,
                body.get("pageToken") or None)
            return Response.json(result), 0

        return self._interactive(project, work, tag)

    def _list_features(self, request: Request, project: str, asset_path: str) -> Outcome:
        engine = self._require_engine()
        if not hasattr(engine, "list_features"):
            raise unimplemented("assets.listFeatures is not supported by the EE Extract sandbox.")
        name = project + asset_path  # asset_path is "/assets/..."

        def work() -> Tuple[Response, int]:
            result = engine.list_features(name, _int_param(request, "pageSize"),
                                          request.param("pageToken") or None,
                                          request.param("region") or None,
                                          request.param("filter") or None)
            return Response.json(result), 0

        return self._interactive(project, work)

    def _thumbnail_create(self, request: Request, project: str) -> Outcome:
        body = request.json()
        validate_workload_tag(body.get("workloadTag"))
        return Response.json(self.thumbnails.create(project, body)), None

    def _thumbnail_pixels(self, request: Request, project: str, thumb_id: str) -> Outcome:
        name = f"{project}/thumbnails/{thumb_id}"
        stored = self.thumbnails.lookup(name)

        def work() -> Tuple[Response, int, int]:
            encoded, raster = self.thumbnails.render(name)
            response = Response(200, encoded.data, encoded.content_type)
            if encoded.file_format in ("ZIPPED_GEO_TIFF", "ZIPPED_GEO_TIFF_PER_BAND", "GEO_TIFF", "NPY"):
                response.headers["Content-Disposition"] = f'attachment; filename="{encoded.filename}"'
            pixels = raster.grid.width * raster.grid.height
            return response, pixels, pixels * len(raster.bands)

        return self._interactive(project, work, stored.get("workloadTag"))

    def _table_create(self, request: Request, project: str) -> Outcome:
        body = request.json()
        validate_workload_tag(body.get("workloadTag"))
        return Response.json(self.tables.create(project, body)), None

    def _table_features(self, request: Request, project: str, table_id: str) -> Outcome:
        name = f"{project}/tables/{table_id}"

        def work() -> Tuple[Response, int]:
            data, content_type, filename = self.tables.render(name)
            response = Response(200, data, content_type)
            response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
            return response, 0

        return self._interactive(project, work)

    def _map_create(self, request: Request, project: str) -> Outcome:
        body = request.json()
        validate_workload_tag(body.get("workloadTag"))
        return Response.json(self.maps.create(project, body)), None

    def _map_tile(self, request: Request, project: str, map_id: str, zoom: str, x: str, y: str) -> Outcome:
        name = f"{project}/maps/{map_id}"

        def work() -> Tuple[Response, int]:
            encoded = self.maps.render(name, int(zoom), int(x), int(y))
            return Response(200, encoded.data, encoded.content_type), 256 * 256, 256 * 256 * 4

        return self._interactive(project, work)

    # batch

    def _image_export(self, request: Request, project: str) -> Outcome:
        body = request.json()
        _expression(body)
        validate_workload_tag(body.get("workloadTag"))
        return Response.json(self._require_exports().start_export(_project_id(project), body)), None

    def _get_operation(self, request: Request, project: str, op_id: str) -> Outcome:
        return Response.json(self._require_exports().get_operation(f"{project}/operations/{op_id}")), None

    def _list_operations(self, request: Request, project: str) -> Outcome:
        result = self._require_exports().list_operations(
            _project_id(project), _int_param(request, "pageSize"), request.param("pageToken") or None,
            request.param("filter") or None)
        return Response.json(result), None

    def _cancel_operation(self, request: Request, project: str, op_id: str) -> Outcome:
        request.json()
        result = self._require_exports().cancel_operation(f"{project}/operations/{op_id}")
        return Response.json(result if result is not None else {}), None

    def _wait_operation(self, request: Request, project: str, op_id: str) -> Outcome:
        body = request.json()
        timeout = _duration_s(body.get("timeout"), default=10.0)
        exports = self._require_exports()
        name = f"{project}/operations/{op_id}"
        deadline = time.monotonic() + min(timeout, 60.0)
        operation = exports.get_operation(name)
        while not operation.get("done") and time.monotonic() < deadline:
            time.sleep(0.1)
            operation = exports.get_operation(name)
        return Response.json(operation), None


# ---------------------------------------------------------------------------------------- helpers

def _project_id(project: str) -> str:
    """``projects/sandbox`` -> ``sandbox``."""
    return project.split("/", 1)[1]


def _expression(body: Dict[str, Any]) -> Dict[str, Any]:
    expression = body.get("expression")
    if not isinstance(expression, dict) or "result" not in expression or not isinstance(expression.get("values"), dict):
        raise invalid_argument("Invalid expression: expected {\"result\": ..., \"values\": {...}}.")
    return expression


def _int_param(request: Request, name: str) -> Optional[int]:
    raw = request.param(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid_argument(f'Invalid value at \'{name}\' (TYPE_INT32), "{raw}"') from None


def _duration_s(value: Any, default: float) -> float:
    if value in (None, ""):
        return default
    text = str(value).rstrip("s")
    try:
        return float(text)
    except ValueError:
        raise invalid_argument(f'Invalid value at \'timeout\' (type.googleapis.com/google.protobuf.Duration), "{value}"') from None


def _pixels_response(raster: Any, file_format: str, prefix: Optional[str]) -> Tuple[Response, int, int]:
    """(response, output pixels, output band-pixels)."""
    encoded = encoding.encode(raster, file_format, prefix)
    pixels = raster.grid.width * raster.grid.height
    return Response(200, encoded.data, encoded.content_type), pixels, pixels * len(raster.bands)


def _path_project(path: str) -> Optional[str]:
    """``projects/p`` of an Earth Engine API path, or None (discovery, storage, drive)."""
    found = re.match(r"^/(?:v1|v1beta|v1alpha)/(projects/[^/:]+)", path)
    return found.group(1) if found else None


# -------------------------------------------------------------------------------------- transport

UPLOAD_PREFIXES = ("/upload/",)


def _declared_length(headers: Any) -> Optional[int]:
    raw = headers.get("Content-Length")
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("invalid Content-Length") from None
    if value < 0:
        raise ValueError("invalid Content-Length")
    return value


def _drain(conn, max_bytes: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    received = 0
    try:
        while received < max_bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.settimeout(left)
            data = conn.recv(65536)
            if not data:
                break
            received += len(data)
    except OSError:
        pass

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 408: "DEADLINE_EXCEEDED",
                 413: "INVALID_ARGUMENT", 414: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
                 431: "INVALID_ARGUMENT", 500: "INTERNAL", 501: "UNIMPLEMENTED", 503: "UNAVAILABLE",
                 505: "UNIMPLEMENTED"}


def _close(body: Any) -> None:
    close = getattr(body, "close", None)
    if callable(close):
        close()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 256
    sandbox: SandboxServer

    def __init__(self, *args: Any, **kwargs: Any):
        self._connections: set = set()
        self._idle: Dict[Any, float] = {}  # keep-alive connections waiting for a request -> since
        self._connections_lock = threading.Lock()
        self.rejected_connections = 0
        self.evicted_connections = 0
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        """A thread for the connection, within ``max_connections``: beyond it the longest-idle
        keep-alive connection is closed to make room; with none idle the newcomer gets 503."""
        limit = self.sandbox.config.max_connections
        if limit > 0:
            with self._connections_lock:
                over = len(self._connections) > limit
                victim = None
                if over and self._idle:
                    victim = min(self._idle, key=self._idle.get)
                    del self._idle[victim]
                    self.evicted_connections += 1
                elif over:
                    self.rejected_connections += 1
            if victim is not None:
                _abort(victim)
            elif over:
                _refuse_connection(request)
                self.shutdown_request(request)
                return
        super().process_request(request, client_address)

    def set_idle(self, conn, idle: bool) -> None:
        with self._connections_lock:
            if idle:
                self._idle[conn] = time.monotonic()
            else:
                self._idle.pop(conn, None)

    @property
    def open_connections(self) -> int:
        with self._connections_lock:
            return len(self._connections)

    def get_request(self):
        conn, addr = super().get_request()
        with self._connections_lock:
            self._connections.add(conn)
        return conn, addr

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
            self._idle.pop(request, None)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close every open (keep-alive) connection so its thread ends."""
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        log.debug("sandbox: connection error from %s", client_address, exc_info=True)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


def _abort(conn) -> None:
    """Wake the thread blocked reading ``conn`` (it sees the end of the stream and ends)."""
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _refuse_connection(conn) -> None:
    """503 on a connection the server has no room for, without reading its request."""
    body = json.dumps({"error": {"code": 503, "message": "Too many open connections to the sandbox.",
                                 "status": "UNAVAILABLE"}}).encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n").encode()
    try:
        conn.settimeout(1.0)
        conn.sendall(head + body)
    except OSError:
        pass


class _BodyTooLargeError(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EEExtractSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out without waiting for delayed ACKs
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("sandbox %s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Protocol-level errors (malformed request line, unknown HTTP verb, header too long) in
        Earth Engine's JSON shape, not the stdlib's HTML page."""
        status = _STATUS_NAMES.get(code, "UNKNOWN")
        text = message or self.responses.get(code, ("Error",))[0]
        body = json.dumps({"error": {"code": code, "message": text, "status": status}}).encode()
        self.close_connection = True
        try:
            self.send_response(code, text)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    # -- connections: idle keep-alive, stalled requests ---------------------------------------

    def setup(self) -> None:
        self.timeout = self.server.sandbox.config.request_timeout_s
        super().setup()

    def handle_one_request(self) -> None:
        """Wait for the next request at most ``idle_timeout_s`` (counted idle: the first to be
        closed when connections run out), then read it with ``request_timeout_s`` per read."""
        config = self.server.sandbox.config
        self.server.set_idle(self.connection, True)
        try:
            self.connection.settimeout(config.idle_timeout_s)
            ready = self.rfile.peek(1)
        except (OSError, ValueError):  # idle time-out, connection closed or aborted
            ready = b""
        finally:
            self.server.set_idle(self.connection, False)
        if not ready:
            self.close_connection = True
            return
        try:
            self.connection.settimeout(config.request_timeout_s)
        except OSError:
            self.close_connection = True
            return
        super().handle_one_request()

    # -- bodies: bounded, refused before they are read ----------------------------------------

    def _body_limit(self) -> int:
        config = self.server.sandbox.config
        path = urlsplit(self.path).path
        return config.max_upload_bytes if path.startswith(UPLOAD_PREFIXES) else config.max_request_bytes

    def handle_expect_100(self) -> bool:
        """``Expect: 100-continue``: refuse a body over the limit before the client sends it."""
        try:
            declared = _declared_length(self.headers)
        except ValueError:
            declared = None
        if declared is not None and declared > self._body_limit():
            self._refuse_body(self._body_limit(), read_any=False)
            return False
        return super().handle_expect_100()

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > limit:
                    raise _BodyTooLargeError()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = _declared_length(self.headers) or 0
        if length > limit:
            raise _BodyTooLargeError()
        return self.rfile.read(length) if length > 0 else b""

    def _refuse_body(self, limit: int, read_any: bool = True) -> None:
        """413, then a bounded drain of what the client is still sending (so that it can read
        the answer instead of a reset), then close."""
        self.close_connection = True
        error = EEError(413, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {limit} bytes.",
                        {"Connection": "close"})
        try:
            self._send(Response.error(error), None)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            return
        if read_any:
            _drain(self.connection, max_bytes=8 * 1024 * 1024, seconds=2.0)

    def _serve(self) -> None:
        limit = self._body_limit()
        try:
            body = self._read_body(limit)
        except _BodyTooLargeError:
            self._refuse_body(limit)
            return
        except TimeoutError:
            self.close_connection = True
            self._send(Response.error(EEError(408, "DEADLINE_EXCEEDED", "Timed out reading the request body.")), None)
            return
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Response.error(invalid_argument("Malformed request body.")), None)
            return
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        response, fault = self.server.sandbox.dispatch(request)
        self._send(response, fault)

    def _send(self, response: Response, fault: Optional[Fault]) -> None:
        if fault is Fault.CONNECTION_RESET:
            # Abort: RST instead of FIN, no status line.
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            return
        body = response.body
        streamed = not isinstance(body, (bytes, bytearray, memoryview))
        declared = next((v for k, v in response.headers.items() if k.lower() == "content-length"), None)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for key, value in response.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "content-type"):
                self.send_header(key, value)
        if streamed and declared is not None:
            self.send_header("Content-Length", str(declared))   # a sized stream (file download)
        elif streamed:
            self.send_header("Transfer-Encoding", "chunked")
        elif self.command == "HEAD" and declared is not None:
            self.send_header("Content-Length", str(declared))
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            _close(body)
            return
        if streamed and declared is not None:
            try:
                for chunk in body:
                    self.wfile.write(chunk)
            finally:
                _close(body)
            return
        if streamed:
            try:
                self._send_chunked(body, fault)
            finally:
                _close(body)
            return
        if fault is Fault.TRUNCATED_BODY and len(body) > 0:
            self.wfile.write(bytes(body[: len(body) // 2]))
            self.close_connection = True
            return
        self.wfile.write(body)

    def _send_chunked(self, chunks: Iterable[bytes], fault: Optional[Fault]) -> None:
        for chunk in chunks:
            if not chunk:
                continue
            self.wfile.write(b"%X\r\n%s\r\n" % (len(chunk), bytes(chunk)))
            if fault is Fault.TRUNCATED_BODY:
                self.close_connection = True
                return
        self.wfile.write(b"0\r\n\r\n")
