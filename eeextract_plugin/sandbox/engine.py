"""The sandbox's engine: what the HTTP server calls for every Earth Engine method that computes
or describes something (the facade over the evaluator, the value model, the imagery catalog and
the table catalog).

Asset names and ids::

    SANDBOX/DEM           <-> projects/earthengine-public/assets/SANDBOX/DEM
    users/x/y             <-> projects/earthengine-legacy/assets/users/x/y
    projects/sandbox/assets/<stem>   files in ``--data DIR`` (same id and name)

Every failure is an :class:`~eeextract_plugin.sandbox.errors.EEError` (400 for bad expressions
and unsupported algorithms, 404 for missing assets).
"""

from __future__ import annotations

import importlib
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from eeextract_plugin.sandbox import functions
from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.errors import EEError, invalid_argument, not_found
from eeextract_plugin.sandbox.evaluator import EvaluationContext, evaluate, evaluation_context
from eeextract_plugin.sandbox.raster import PixelGrid, Raster

log = logging.getLogger(__name__)

PUBLIC_PREFIX = "projects/earthengine-public/assets/"
# Earth Engine: "one interactive request must finish within 5 minutes".
INTERACTIVE_DEADLINE_S = 300.0
LEGACY_PREFIX = "projects/earthengine-legacy/assets/"

# Modules whose import registers algorithms. Imagery modules may not exist yet in a checkout
# where that part is being written: they are optional.
_MODEL_MODULES = (
    "eeextract_plugin.sandbox.model.values",
    "eeextract_plugin.sandbox.model.date",
    "eeextract_plugin.sandbox.model.geometry",
    "eeextract_plugin.sandbox.model.feature",
    "eeextract_plugin.sandbox.model.filter",
    "eeextract_plugin.sandbox.model.collection",
    "eeextract_plugin.sandbox.model.reducer",
    "eeextract_plugin.sandbox.model.tables",
    "eeextract_plugin.sandbox.model.regions",
)
_IMAGERY_MODULES = (
    "eeextract_plugin.sandbox.imagery",
    "eeextract_plugin.sandbox.imagery.algorithms",
    "eeextract_plugin.sandbox.imagery.catalog",
    "eeextract_plugin.sandbox.imagery.pixels",
)

_LOAD_LOCK = threading.Lock()
_LOADED = False


def current_or(context: EvaluationContext) -> EvaluationContext:
    """The context already entered by this call (so that its deadline holds), else ``context``."""
    from eeextract_plugin.sandbox.evaluator import _CONTEXT

    entered = _CONTEXT.get()
    return entered if entered is not None else context


def _optional_import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise


def load_algorithms() -> None:
    """Imports every module that registers algorithms (once)."""
    global _LOADED
    with _LOAD_LOCK:
        if _LOADED:
            return
        for name in _MODEL_MODULES:
            _optional_import(name)
        for name in _IMAGERY_MODULES:
            _optional_import(name)
        from eeextract_plugin.sandbox.model.feature import FALLBACK_ALGORITHMS

        for name, function in FALLBACK_ALGORITHMS.items():
            if functions.lookup(name) is None:
                functions.algorithm(name)(function)
        _LOADED = True


# --------------------------------------------------------------------------- asset names


def asset_id_to_name(asset_id: str) -> str:
    """``SANDBOX/DEM`` → ``projects/earthengine-public/assets/SANDBOX/DEM``."""
    asset_id = asset_id.strip().strip("/")
    if asset_id.startswith("projects/"):
        return asset_id
    if asset_id.startswith("users/"):
        return LEGACY_PREFIX + asset_id
    return PUBLIC_PREFIX + asset_id


def asset_name_to_id(name: str) -> str:
    """``projects/earthengine-public/assets/SANDBOX/DEM`` → ``SANDBOX/DEM``."""
    name = name.strip().strip("/")
    if name.startswith("v1/"):
        name = name[3:]
    for prefix in (PUBLIC_PREFIX, LEGACY_PREFIX):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


# --------------------------------------------------------------------------- listImages filter


_CLAUSE = re.compile(
    r'\s*(?:(startTime|endTime)\s*(>=|<=|>|<|=)\s*"([^"]*)"'
    r'|intersects\(\s*"((?:[^"\\]|\\.)*)"\s*\)'
    r'|properties\.([\w:.\-]+)\s*(>=|<=|!=|>|<|=)\s*("[^"]*"|[^\s]+))\s*',
    re.IGNORECASE,
)


def parse_list_filter(text: Optional[str]) -> Optional[Any]:
    """The ``filter`` of listAssets / listImages (clauses joined by AND) as a model Filter."""
    from eeextract_plugin.sandbox.model import filter as F  # noqa: N812
    from eeextract_plugin.sandbox.model.date import parse_date_string
    from eeextract_plugin.sandbox.model.geometry import Geometry

    if not text or not text.strip():
        return None
    parts = re.split(r"\s+AND\s+", text.strip())
    filters = []
    for part in parts:
        match = _CLAUSE.fullmatch(part)
        if not match:
            raise invalid_argument(f"Invalid filter: '{part}'.")
        time_field, time_op, time_value, region, prop, prop_op, prop_value = match.groups()
        if time_field:
            millis = parse_date_string(time_value)
            field = "system:time_start" if time_field.lower() == "starttime" else "system:time_end"
            filters.append(_comparison(F, field, time_op, millis, fallback="system:time_start"))
        elif region is not None:
            geojson = region.replace("\\\"", '"').replace("'", '"')
            try:
                geometry = Geometry.from_geojson(json.loads(geojson))
            except ValueError:
                from shapely import wkt

                try:
                    geometry = Geometry(wkt.loads(region))
                except Exception:  # noqa: BLE001 - any parse error is the caller's
                    raise invalid_argument(f"Invalid region in filter: '{region}'.") from None
            filters.append(F.BinaryFilter("Filter.intersects", F._intersects, ".all", geometry))
        else:
            value: Any = prop_value
            if value.startswith('"'):
                value = value[1:-1]
            else:
                try:
                    value = float(value) if any(c in value for c in ".eE") else int(value)
                except ValueError:
                    pass
            filters.append(_comparison(F, prop, prop_op, value))
    return filters[0] if len(filters) == 1 else F.AndFilter(filters)


def _comparison(F: Any, field: str, op: str, value: Any, fallback: Optional[str] = None) -> Any:
    ops = {
        "=": F._equals,
        "!=": lambda a, b: not F._equals(a, b),
        "<": lambda a, b: F._order(a, b) < 0,
        "<=": lambda a, b: F._order(a, b) <= 0,
        ">": lambda a, b: F._order(a, b) > 0,
        ">=": lambda a, b: F._order(a, b) >= 0,
    }
    compare = ops[op]
    if fallback is None:
        return F.BinaryFilter("Filter.compare", compare, field, value)

    def predicate(element: Any) -> bool:
        actual = element.get(field)
        if actual is None:
            actual = element.get(fallback)
        return actual is not None and compare(actual, value)

    return F.PredicateFilter(predicate)


# --------------------------------------------------------------------------- engine


class Engine:
    """The facade the HTTP server calls. Thread-safe: each call evaluates on its own."""

    def __init__(self, config: Optional[SandboxConfig] = None):
        self.config = config or SandboxConfig()
        load_algorithms()
        catalog_module = _optional_import("eeextract_plugin.sandbox.imagery.catalog")
        self.catalog = catalog_module.ImageCatalog(self.config) if catalog_module is not None else None
        from eeextract_plugin.sandbox.model.tables import TableCatalog

        self.tables = TableCatalog(self.config)
        self._algorithms: Optional[List[Dict[str, Any]]] = None

    # ----------------------------------------------------------------- context

    def context(self, interactive: bool = True) -> EvaluationContext:
        """The evaluation context; interactive work gets Earth Engine's 5-minute deadline
        (``config.max_computation_seconds`` when the settings have it)."""
        deadline = None
        if interactive:
            seconds = float(getattr(self.config, "max_computation_seconds", INTERACTIVE_DEADLINE_S))
            deadline = time.monotonic() + seconds
        return EvaluationContext(self.config, self.catalog, self.tables, {"engine": self}, deadline)

    def evaluate(self, expression: Any) -> Any:
        """The evaluated value of a serialized expression (model objects, plain values)."""
        if isinstance(expression, str):
            try:
                expression = json.loads(expression)
            except ValueError:
                raise invalid_argument("Invalid expression: not JSON.") from None
        return evaluate(expression, current_or(self.context()))

    # -------------------------------------------------------------- algorithms

    def algorithms(self) -> List[Dict[str, Any]]:
        """Signatures the client builds its functions from: Earth Engine's own list (from the
        installed client's test fixture) plus the sandbox's algorithms it does not name."""
        if self._algorithms is None:
            self._algorithms = _algorithm_signatures()
        return self._algorithms

    # -------------------------------------------------------------------- values

    def compute_value(self, expression: Any) -> Any:
        from eeextract_plugin.sandbox.model.values import to_info

        with evaluation_context(self.context()):
            value = self.evaluate(expression)
            return to_info(value)

    # -------------------------------------------------------------------- pixels

    def _pixels_module(self) -> Any:
        module = _optional_import("eeextract_plugin.sandbox.imagery.pixels")
        if module is None:
            raise invalid_argument("Pixels are not available in this sandbox build.")
        return module

    def compute_pixels(self, expression: Any, grid: Optional[Dict[str, Any]], band_ids: Optional[List[str]],
                       visualization: Optional[Dict[str, Any]], limits: Any = None) -> Raster:
        """``limits`` (max_grid_dimension, max_bands, max_payload_bytes) replace the settings'
        computePixels limits, e.g. the smaller ones of download URLs."""
        with evaluation_context(self.context()):
            image = self.evaluate(expression)
            if not _is_image(image):
                raise invalid_argument(
                    f"Image.computePixels: The expression must evaluate to an Image, got {_type_name(image)}.")
            return self._pixels_module().compute_pixels(image, grid, band_ids, visualization,
                                                        limits if limits is not None else self.config)

    def asset_pixels(self, asset_name: str, grid: Optional[Dict[str, Any]], band_ids: Optional[List[str]],
                     region: Any, visualization: Optional[Dict[str, Any]]) -> Raster:
        asset_id = asset_name_to_id(asset_name)
        with evaluation_context(self.context()):
            image = self.catalog.get_image(asset_id) if self.catalog is not None else None
            if image is None:
                raise not_found(f"Image asset '{asset_id}' not found (does not exist or caller does not have access).")
            if isinstance(region, str):
                try:
                    region = json.loads(region)
                except ValueError:
                    raise invalid_argument("Invalid region: not GeoJSON.") from None
            return self._pixels_module().asset_pixels(image, grid, region or None, band_ids, visualization,
                                                      self.config)

    def image_for_export(self, expression: Any) -> Tuple[Any, Optional[PixelGrid]]:
        """The image of an export expression and the grid it is exported on (its default grid)."""
        with evaluation_context(self.context(interactive=False)):
            image = self.evaluate(expression)
            if not _is_image(image):
                raise invalid_argument(
                    f"Export: The expression must evaluate to an Image, got {_type_name(image)}.")
            return image, image.default_grid()

    def compute_export_pixels(self, image: Any, grid: PixelGrid) -> Raster:
        """Pixels of an export's image on one of its grids (no interactive request limits)."""
        with evaluation_context(self.context(interactive=False)):
            return self._pixels_module().compute_pixels(image, grid, None, None, self.config,
                                                        enforce_limits=False)

    # -------------------------------------------------------------------- assets

    def get_asset(self, name: str) -> Dict[str, Any]:
        asset_id = asset_name_to_id(name)
        full = asset_id_to_name(asset_id)
        description = None
        if self.catalog is not None:
            description = self.catalog.asset_description(full)
        if description is None:
            description = self.tables.asset_description(full)
        if description is None:
            description = self._folder_description(full)
        if description is None:
            raise not_found(f"Asset '{full}' does not exist or doesn't allow this operation.")
        return description

    def _folder_description(self, name: str) -> Optional[Dict[str, Any]]:
        if self._children(name):
            return {"type": "FOLDER", "name": name, "id": asset_name_to_id(name)}
        return None

    def _children(self, parent: str, filter: Optional[str] = None) -> List[Dict[str, Any]]:
        children: List[Dict[str, Any]] = []
        if self.catalog is not None:
            children.extend(self.catalog.list_children(parent, filter) or [])
        tables = self.tables.list_children(parent)
        if filter:
            tables = [t for t in tables if _matches_listing(t, filter)]
        children.extend(tables)
        seen = set()
        unique = []
        for child in children:
            if child.get("name") in seen:
                continue
            seen.add(child.get("name"))
            unique.append(child)
        unique.sort(key=lambda c: c.get("name", ""))
        return unique

    def list_assets(self, parent: str, page_size: Optional[int] = None, page_token: Optional[str] = None,
                    filter: Optional[str] = None, view: Optional[str] = None) -> Dict[str, Any]:
        """listAssets / listImages: children of a folder or the images of a collection, paged
        (``nextPageToken`` is an offset). Without a page size an image collection is listed whole,
        and more than ``max_collection_elements`` images fail as Earth Engine fails."""
        parent_name = _parent_name(parent)
        offset = _page_offset(page_token)
        collection = None
        if self.catalog is not None and not parent_name.endswith("/assets"):
            collection = self.catalog.get_collection(asset_name_to_id(parent_name))
        if collection is not None:
            limit = None if page_size in (None, "", 0) else _page_size(page_size, 1000)
            with evaluation_context(self.context()):
                images = self.catalog.list_children(parent_name, filter, offset,
                                                    None if limit is None else limit + 1)
            result: Dict[str, Any] = {"assets": [_view(d, view) for d in images[:limit]]}
            if limit is not None and len(images) > limit:
                result["nextPageToken"] = str(offset + limit)
            return result
        size = _page_size(page_size, 1000)
        children = self._children(parent_name, filter)
        if not children and not parent_name.endswith("/assets"):
            self.get_asset(parent_name)  # 404 for a missing parent
        page = children[offset: offset + size]
        result = {"assets": [_view(d, view) for d in page]}
        if offset + size < len(children):
            result["nextPageToken"] = str(offset + size)
        return result

    # ------------------------------------------------------------------ features

    def compute_features(self, expression: Any, page_size: Optional[int] = None,
                         page_token: Optional[str] = None) -> Dict[str, Any]:
        from eeextract_plugin.sandbox.model.collection import Collection
        from eeextract_plugin.sandbox.model.feature import features_of

        with evaluation_context(self.context()):
            value = self.evaluate(expression)
            if not isinstance(value, Collection):
                try:
                    value = features_of(value, "table:computeFeatures")
                except EEError:
                    raise invalid_argument(
                        f"table:computeFeatures: The expression must evaluate to a FeatureCollection, "
                        f"got {_type_name(value)}.") from None
            return self._feature_page(value, page_size, page_token)

    def _feature_page(self, collection: Any, page_size: Optional[int], page_token: Optional[str]) -> Dict[str, Any]:
        import itertools

        from eeextract_plugin.sandbox.model.values import to_info

        size = _page_size(page_size, 1000)
        offset = _page_offset(page_token)
        window = list(itertools.islice(collection.iterate(), offset, offset + size + 1))
        features = [to_info(_in_wgs84(f)) for f in window[:size]]
        for feature in features:
            if isinstance(feature, dict) and feature.get("type") == "Image":
                raise invalid_argument("table:computeFeatures: The collection must contain Features.")
        result: Dict[str, Any] = {"type": "FeatureCollection", "features": features}
        if len(window) > size:
            result["nextPageToken"] = str(offset + size)
        return result

    def list_features(self, name: str, page_size: Optional[int] = None, page_token: Optional[str] = None,
                      region: Optional[str] = None, filter: Optional[str] = None) -> Dict[str, Any]:
        """``assets.listFeatures`` of a table asset."""
        asset_id = asset_name_to_id(name)
        table = self.tables.get(asset_id)
        if table is None:
            raise not_found(f"Asset '{asset_id_to_name(asset_id)}' does not exist or doesn't allow this operation.")
        with evaluation_context(self.context()):
            collection = table
            clauses = []
            if region:
                quoted = region.replace('"', "'")
                clauses.append(f'intersects("{quoted}")')
            if filter:
                clauses.append(filter)
            query = parse_list_filter(" AND ".join(clauses)) if clauses else None
            if query is not None:
                collection = collection.apply_filter(query)
            page = self._feature_page(collection, page_size, page_token)
        page.pop("type", None)
        return page


# --------------------------------------------------------------------------- helpers


def _in_wgs84(element: Any) -> Any:
    """table:computeFeatures answers GeoJSON in EPSG:4326 whatever the features' projections."""
    from eeextract_plugin.sandbox.model.feature import Feature

    if isinstance(element, Feature) and element.geometry is not None and element.geometry.crs != "EPSG:4326":
        return element.with_geometry(element.geometry.transform("EPSG:4326"))
    return element


def _is_image(value: Any) -> bool:
    return hasattr(value, "bands") and hasattr(value, "band_names") and callable(getattr(value, "compute", None))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    kind = getattr(value, "kind", None)
    if isinstance(kind, str):
        return kind
    return type(value).__name__


def _page_size(page_size: Optional[int], default: int) -> int:
    if page_size in (None, "", 0):
        return default
    try:
        size = int(page_size)
    except (TypeError, ValueError):
        raise invalid_argument(f"Invalid page size: {page_size!r}.") from None
    if size < 0:
        raise invalid_argument("Page size must be non-negative.")
    return min(size, 10000)


def _page_offset(page_token: Optional[str]) -> int:
    if not page_token:
        return 0
    try:
        offset = int(page_token)
    except ValueError:
        raise invalid_argument(f"Invalid page token: '{page_token}'.") from None
    if offset < 0:
        raise invalid_argument(f"Invalid page token: '{page_token}'.")
    return offset


def _parent_name(parent: str) -> str:
    parent = parent.strip().strip("/")
    if parent.startswith("v1/"):
        parent = parent[3:]
    if parent.startswith("projects/") and "/assets" not in parent:
        return parent + "/assets"
    if parent.endswith("/assets"):
        return parent
    return asset_id_to_name(asset_name_to_id(parent))


def _view(description: Dict[str, Any], view: Optional[str]) -> Dict[str, Any]:
    if view == "BASIC":
        return {k: v for k, v in description.items() if k not in ("bands", "properties")}
    return description


def _matches_listing(child: Dict[str, Any], filter: str) -> bool:
    """Listing filters on folders: only ``type = X`` style clauses are understood."""
    match = re.fullmatch(r'\s*type\s*=\s*"?(\w+)"?\s*', filter)
    if match:
        return str(child.get("type", "")).upper() == match.group(1).upper()
    return True


def _algorithm_signatures() -> List[Dict[str, Any]]:
    load_algorithms()
    signatures: List[Dict[str, Any]] = []
    known = set()
    fixture = _fixture_path()
    if fixture is not None:
        try:
            data = json.loads(fixture.read_text(encoding="utf-8"))
            for entry in data.get("algorithms", []):
                signatures.append(entry)
                known.add(entry["name"].split("/", 1)[-1])
        except (OSError, ValueError, KeyError) as exc:  # pragma: no cover - a broken install
            log.warning("cannot read the client's algorithm list %s: %s", fixture, exc)
    for name, impl in sorted(functions.implemented().items()):
        if name in known:
            continue
        signatures.append(_signature_of(name, impl.function))
    return signatures


def _fixture_path() -> Optional[Path]:
    try:
        import ee  # noqa: F401 - only to find its bundled fixture
    except ImportError:
        return None
    path = Path(ee.__file__).parent / "tests" / "algorithms.json"
    return path if path.exists() else None


def _signature_of(name: str, function: Any) -> Dict[str, Any]:
    import inspect

    arguments = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        argument: Dict[str, Any] = {"argumentName": parameter.name, "type": "Object"}
        if parameter.default is not inspect.Parameter.empty:
            argument["optional"] = True
            if parameter.default is not None:
                argument["defaultValue"] = parameter.default
        arguments.append(argument)
    return {"name": f"algorithms/{name}", "description": "", "returnType": "Object", "arguments": arguments}
