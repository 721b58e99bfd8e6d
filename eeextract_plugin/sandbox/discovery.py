"""The Earth Engine REST API v1 discovery document, as the sandbox serves it.

The ``earthengine-api`` client builds every call from this document
(``GET /$discovery/rest?version=v1``, read twice by ``ee.Initialize``). The client's own test fixture
(``ee/tests/cloud_api_discovery_document.json``) is v1alpha and differs from what the client calls;
this module builds the document from a table instead, so that:

- the version is ``v1`` (paths ``v1/{+name}...``);
- ``algorithms.list`` takes ``parent`` (the client tries ``parent`` first, then ``project``);
- ``assets.listFeatures`` takes ``asset``; both ``listAssets`` take ``filter`` and ``view``;
- the ``create`` methods of thumbnails, videoThumbnails, filmstripThumbnails and maps take
  ``workloadTag`` (``ee.data`` adds it when a workload tag is set);
- every paged list declares ``pageToken`` and a response with ``nextPageToken``, so that the
  client's ``*_next`` helpers (``listAssets_next``, ``operations().list_next``) exist;
- ``rootUrl``/``baseUrl`` point at the sandbox itself.

An undeclared keyword makes the client raise ``TypeError`` before any request is sent, so every
keyword that ``ee.data`` passes is declared here (``tests/sandbox/test_server_protocol.py`` checks
them all against the installed client).
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

VERSION = "v1"

# Path-parameter patterns (as in Google's documents).
PROJECT = "^projects/[^/]+$"
ASSET = "^projects/[^/]+/assets/.+$"
OPERATION = "^projects/[^/]+/operations/.+$"


def _q(type_: str = "string", **extra: Any) -> Dict[str, Any]:
    return {"description": "", "location": "query", "type": type_, **extra}


PAGE_SIZE = _q("integer", format="int32")
PAGE_TOKEN = _q()
FILTER = _q()
WORKLOAD_TAG = _q()
ASSET_VIEW = _q(enum=["EARTH_ENGINE_ASSET_VIEW_UNSPECIFIED", "FULL", "BASIC"])
IMAGE_VIEW = _q(enum=["IMAGE_VIEW_UNSPECIFIED", "FULL", "BASIC"])
TIME = _q(format="google-datetime")
UPDATE_MASK = _q(format="google-fieldmask")

# (resource path, method name, HTTP method, path template after "v1/", path parameter, its
# pattern, query parameters, has body, list key of a paged response or None)
_Method = Tuple[str, str, str, str, str, str, Dict[str, Dict[str, Any]], bool, Optional[str]]

_METHODS: List[_Method] = [
    ("", "listAssets", "GET", "{+parent}:listAssets", "parent", PROJECT,
     {"pageSize": PAGE_SIZE, "pageToken": PAGE_TOKEN, "filter": FILTER, "view": ASSET_VIEW}, False, "assets"),
    ("", "getConfig", "GET", "{+name}", "name", "^projects/[^/]+/config$", {}, False, None),
    ("", "updateConfig", "PATCH", "{+name}", "name", "^projects/[^/]+/config$",
     {"updateMask": UPDATE_MASK}, True, None),
    ("algorithms", "list", "GET", "{+parent}/algorithms", "parent", PROJECT, {}, False, "algorithms"),
    ("assets", "copy", "POST", "{+sourceName}:copy", "sourceName", ASSET, {}, True, None),
    ("assets", "create", "POST", "{+parent}/assets", "parent", PROJECT,
     {"assetId": _q(), "overwrite": _q("boolean")}, True, None),
    ("assets", "delete", "DELETE", "{+name}", "name", ASSET, {}, False, None),
    ("assets", "get", "GET", "{+name}", "name", ASSET, {}, False, None),
    ("assets", "getIamPolicy", "POST", "{+resource}:getIamPolicy", "resource", ASSET, {}, True, None),
    ("assets", "getPixels", "POST", "{+name}:getPixels", "name", ASSET, {}, True, None),
    ("assets", "listAssets", "GET", "{+parent}:listAssets", "parent", ASSET,
     {"pageSize": PAGE_SIZE, "pageToken": PAGE_TOKEN, "filter": FILTER, "view": ASSET_VIEW}, False, "assets"),
    ("assets", "listFeatures", "GET", "{+asset}:listFeatures", "asset", ASSET,
     {"pageSize": PAGE_SIZE, "pageToken": PAGE_TOKEN, "region": _q(), "filter": FILTER}, False, "features"),
    ("assets", "listImages", "GET", "{+parent}:listImages", "parent", ASSET,
     {"pageSize": PAGE_SIZE, "pageToken": PAGE_TOKEN, "startTime": TIME, "endTime": TIME,
      "region": _q(), "filter": FILTER, "view": IMAGE_VIEW}, False, "images"),
    ("assets", "move", "POST", "{+sourceName}:move", "sourceName", ASSET, {}, True, None),
    ("assets", "patch", "PATCH", "{+name}", "name", ASSET, {"updateMask": UPDATE_MASK}, True, None),
    ("assets", "setIamPolicy", "POST", "{+resource}:setIamPolicy", "resource", ASSET, {}, True, None),
    ("assets", "testIamPermissions", "POST", "{+resource}:testIamPermissions", "resource", ASSET, {}, True, None),
    ("classifier", "export", "POST", "{+project}/classifier:export", "project", PROJECT, {}, True, None),
    ("featureView", "create", "POST", "{+parent}/featureView", "parent", PROJECT, {"workloadTag": WORKLOAD_TAG}, True, None),
    ("filmstripThumbnails", "create", "POST", "{+parent}/filmstripThumbnails", "parent", PROJECT,
     {"workloadTag": WORKLOAD_TAG}, True, None),
    ("filmstripThumbnails", "getPixels", "GET", "{+name}:getPixels", "name",
     "^projects/[^/]+/filmstripThumbnails/[^/]+$", {}, False, None),
    ("image", "computePixels", "POST", "{+project}/image:computePixels", "project", PROJECT, {}, True, None),
    ("image", "export", "POST", "{+project}/image:export", "project", PROJECT, {}, True, None),
    ("image", "import", "POST", "{+project}/image:import", "project", PROJECT, {}, True, None),
    ("image", "importExternal", "POST", "{+project}/image:importExternal", "project", PROJECT, {}, True, None),
    ("imageCollection", "computeImages", "POST", "{+project}/imageCollection:computeImages", "project",
     PROJECT, {}, True, None),
    ("map", "export", "POST", "{+project}/map:export", "project", PROJECT, {}, True, None),
    ("maps", "create", "POST", "{+parent}/maps", "parent", PROJECT, {"workloadTag": WORKLOAD_TAG}, True, None),
    ("maps.tiles", "get", "GET", "{+parent}/tiles/{zoom}/{x}/{y}", "parent", "^projects/[^/]+/maps/[^/]+$",
     {}, False, None),
    ("operations", "cancel", "POST", "{+name}:cancel", "name", OPERATION, {}, True, None),
    ("operations", "delete", "DELETE", "{+name}", "name", OPERATION, {}, False, None),
    ("operations", "get", "GET", "{+name}", "name", OPERATION, {}, False, None),
    ("operations", "list", "GET", "{+name}/operations", "name", PROJECT,
     {"pageSize": PAGE_SIZE, "pageToken": PAGE_TOKEN, "filter": FILTER}, False, "operations"),
    ("operations", "wait", "POST", "{+name}:wait", "name", OPERATION, {}, True, None),
    ("table", "computeFeatures", "POST", "{+project}/table:computeFeatures", "project", PROJECT, {}, True, None),
    ("table", "export", "POST", "{+project}/table:export", "project", PROJECT, {}, True, None),
    ("table", "import", "POST", "{+project}/table:import", "project", PROJECT, {}, True, None),
    ("tables", "create", "POST", "{+parent}/tables", "parent", PROJECT, {"workloadTag": WORKLOAD_TAG}, True, None),
    ("tables", "getFeatures", "GET", "{+name}:getFeatures", "name", "^projects/[^/]+/tables/[^/]+$",
     {}, False, None),
    ("thumbnails", "create", "POST", "{+parent}/thumbnails", "parent", PROJECT,
     {"workloadTag": WORKLOAD_TAG}, True, None),
    ("thumbnails", "getPixels", "GET", "{+name}:getPixels", "name", "^projects/[^/]+/thumbnails/[^/]+$",
     {}, False, None),
    ("value", "compute", "POST", "{+project}/value:compute", "project", PROJECT, {}, True, None),
    ("video", "export", "POST", "{+project}/video:export", "project", PROJECT, {}, True, None),
    ("videoMap", "export", "POST", "{+project}/videoMap:export", "project", PROJECT, {}, True, None),
    ("videoThumbnails", "create", "POST", "{+parent}/videoThumbnails", "parent", PROJECT,
     {"workloadTag": WORKLOAD_TAG}, True, None),
    ("videoThumbnails", "getPixels", "GET", "{+name}:getPixels", "name",
     "^projects/[^/]+/videoThumbnails/[^/]+$", {}, False, None),
]

# Parameters every Google API accepts (standard query parameters).
_STANDARD_PARAMETERS: Dict[str, Dict[str, Any]] = {
    "$.xgafv": _q(enum=["1", "2"], enumDescriptions=["v1 error format", "v2 error format"]),
    "access_token": _q(),
    "alt": _q(default="json", enum=["json", "media", "proto"],
              enumDescriptions=["Responses with Content-Type of application/json",
                                "Media download with context-dependent Content-Type",
                                "Responses with Content-Type of application/x-protobuf"]),
    "callback": _q(),
    "fields": _q(),
    "key": _q(),
    "oauth_token": _q(),
    "prettyPrint": _q("boolean", default="true"),
    "quotaUser": _q(),
    "uploadType": _q(),
    "upload_protocol": _q(),
}


def _flat_path(template: str, param: str, pattern: str) -> str:
    """``{+parent}:listAssets`` with ``^projects/[^/]+$`` -> ``projects/{projectsId}:listAssets``."""
    body = pattern.strip("^$")
    parts = body.split("/")
    flat = []
    for i, part in enumerate(parts):
        if part in ("[^/]+", ".+"):
            flat.append("{" + parts[i - 1] + "Id}")
        else:
            flat.append(part)
    return template.replace("{+" + param + "}", "/".join(flat))


def _method(resource: str, name: str, http: str, template: str, param: str, pattern: str,
            query: Dict[str, Dict[str, Any]], has_body: bool, list_key: Optional[str]) -> Dict[str, Any]:
    parameters: Dict[str, Dict[str, Any]] = {
        param: {"description": "", "location": "path", "pattern": pattern, "required": True, "type": "string"}
    }
    order = [param]
    for extra in ("zoom", "x", "y"):
        if "{" + extra + "}" in template:
            parameters[extra] = {"description": "", "location": "path", "required": True,
                                 "type": "integer", "format": "int32"}
            order.append(extra)
    parameters.update(copy.deepcopy(query))
    method_id = ".".join(p for p in ("earthengine", "projects", resource, name) if p)
    desc: Dict[str, Any] = {
        "description": "",
        "flatPath": VERSION + "/" + _flat_path(template, param, pattern),
        "httpMethod": http,
        "id": method_id,
        "parameterOrder": order,
        "parameters": parameters,
        "path": VERSION + "/" + template,
    }
    if has_body:
        desc["request"] = {"type": "any"}
    if list_key:
        desc["response"] = {
            "type": "object",
            "properties": {
                list_key: {"type": "array", "items": {"type": "any"}, "description": ""},
                "nextPageToken": {"type": "string", "description": ""},
            },
        }
    else:
        desc["response"] = {"type": "any"}
    return desc


def discovery_document(base_url: str) -> Dict[str, Any]:
    """The discovery document with ``rootUrl`` at ``base_url`` (``http://host:port``)."""
    root = base_url.rstrip("/") + "/"
    projects: Dict[str, Any] = {"methods": {}, "resources": {}}
    for resource, name, http, template, param, pattern, query, has_body, list_key in _METHODS:
        node = projects
        if resource:
            for part in resource.split("."):
                node = node["resources"].setdefault(part, {"methods": {}, "resources": {}})
        node["methods"][name] = _method(resource, name, http, template, param, pattern, query,
                                        has_body, list_key)
    _prune(projects)
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"earthengine:{VERSION}",
        "name": "earthengine",
        "canonicalName": "Earth Engine",
        "version": VERSION,
        "version_module": True,
        "revision": "20250101",
        "title": "Google Earth Engine API (EE Extract sandbox)",
        "description": "A local server speaking the Earth Engine REST API v1 (EE Extract sandbox).",
        "ownerDomain": "google.com",
        "ownerName": "Google",
        "documentationLink": "https://developers.google.com/earth-engine/",
        "protocol": "rest",
        "rootUrl": root,
        "baseUrl": root,
        "basePath": "",
        "servicePath": "",
        "batchPath": "batch",
        "fullyEncodeReservedExpansion": True,
        "icons": {"x16": "http://www.google.com/images/icons/product/search-16.gif",
                  "x32": "http://www.google.com/images/icons/product/search-32.gif"},
        "parameters": copy.deepcopy(_STANDARD_PARAMETERS),
        "auth": {"oauth2": {"scopes": {
            "https://www.googleapis.com/auth/earthengine": {"description": "View and manage your Google Earth Engine data"},
            "https://www.googleapis.com/auth/cloud-platform": {"description": "See, edit, configure, and delete your Google Cloud data"},
        }}},
        "schemas": {},
        "resources": {"projects": projects},
    }


def _prune(node: Dict[str, Any]) -> None:
    for child in node.get("resources", {}).values():
        _prune(child)
    if not node.get("resources"):
        node.pop("resources", None)
    if not node.get("methods"):
        node.pop("methods", None)


def declared_methods() -> List[Tuple[str, str, str, str]]:
    """(resource, method, HTTP method, path template) of every declared method."""
    return [(m[0], m[1], m[2], VERSION + "/" + m[3]) for m in _METHODS]
