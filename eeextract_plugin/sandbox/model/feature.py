"""Features and feature collections (literal ones and table assets)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from eeextract_plugin.sandbox.errors import invalid_argument
from eeextract_plugin.sandbox.functions import algorithm
from eeextract_plugin.sandbox.model.collection import Collection, ListCollection, as_collection
from eeextract_plugin.sandbox.model.element import Element
from eeextract_plugin.sandbox.model.geometry import Geometry, as_geometry, as_projection


class Feature(Element):
    """A geometry (or None) with properties. ``system:index`` is the feature's id."""

    def __init__(self, geometry: Optional[Geometry], properties: Optional[Dict[str, Any]] = None):
        super().__init__(properties)
        self.geometry = geometry

    def with_geometry(self, geometry: Optional[Geometry]) -> Feature:
        return Feature(geometry, self.properties)

    def to_info(self) -> Dict[str, Any]:
        from eeextract_plugin.sandbox.model.values import to_info

        info: Dict[str, Any] = {
            "type": "Feature",
            "geometry": self.geometry.to_geojson() if self.geometry is not None else None,
        }
        index = self.properties.get("system:index")
        if index is not None:
            info["id"] = str(index)
        properties = {k: v for k, v in self.properties.items() if k != "system:index"}
        info["properties"] = to_info(properties)
        return info

    def __repr__(self) -> str:  # pragma: no cover
        return f"Feature({self.properties.get('system:index')})"


class FeatureCollection(ListCollection):
    """A collection of known features."""

    kind = "FeatureCollection"

    def __init__(self, features: List[Element], properties: Optional[Dict[str, Any]] = None,
                 asset_id: Optional[str] = None):
        super().__init__(features, properties, "FeatureCollection", asset_id)


def as_feature(value: Any, where: str = "Feature") -> Feature:
    if isinstance(value, Feature):
        return value
    raise invalid_argument(f"{where}: Invalid type.\nExpected type: Feature.")


# --------------------------------------------------------------------------- algorithms


@algorithm("Feature")
def feature_new(geometry=None, metadata=None, geometryKey=None):
    properties = dict(metadata or {})
    if isinstance(geometry, Feature):
        return Feature(geometry.geometry, {**geometry.properties, **properties})
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        props = dict(geometry.get("properties") or {})
        if geometry.get("id") is not None:
            props["system:index"] = str(geometry["id"])
        geo = geometry.get("geometry")
        return Feature(Geometry.from_geojson(geo) if geo else None, {**props, **properties})
    geom = None if geometry is None else as_geometry(geometry, "Feature")
    return Feature(geom, properties)


@algorithm("Feature.geometry")
def feature_geometry(feature, maxError=None, proj=None, geodesics=None):
    feature = as_feature(feature, "Feature.geometry")
    geom = feature.geometry
    if geom is None:
        return None
    if proj is not None:
        geom = geom.transform(as_projection(proj).crs)
    if geodesics is not None and geom.crs == "EPSG:4326":
        geom = Geometry(geom.shape, geom.crs, bool(geodesics))
    return geom


def _element_geometry(feature, maxError, proj, geodesics, name):
    from eeextract_plugin.sandbox.model.filter import element_footprint

    if isinstance(feature, Feature):
        return feature_geometry(feature, maxError, proj, geodesics)
    if not isinstance(feature, Element):
        raise invalid_argument(f"{name}, argument 'feature': Invalid type.\nExpected type: Element.")
    shape = element_footprint(feature)
    if shape is None:
        # An unbounded image: Earth Engine answers with the whole world.
        from shapely.geometry import box

        shape = box(-180, -90, 180, 90)
        return Geometry(shape, "EPSG:4326", geodesic=False)
    geom = Geometry(shape, "EPSG:4326")
    if proj is not None:
        geom = geom.transform(as_projection(proj).crs)
    return geom


@algorithm("Element.geometry")
def element_geometry(feature, maxError=None, proj=None, geodesics=None):
    return _element_geometry(feature, maxError, proj, geodesics, "Element.geometry")


def image_geometry(feature, maxError=None, proj=None, geodesics=None):
    return _element_geometry(feature, maxError, proj, geodesics, "Image.geometry")


def image_date(image):
    from eeextract_plugin.sandbox.model.date import Date, to_millis

    if not isinstance(image, Element):
        raise invalid_argument("Image.date, argument 'image': Invalid type.\nExpected type: Image.")
    start = image.get("system:time_start")
    if start is None:
        raise invalid_argument("Image.date: Image has no 'system:time_start' property.")
    return Date(to_millis(start))


# Registered by the engine only when the imagery side has not registered them (see
# ``engine.load_algorithms``): both sides may reasonably own these names.
FALLBACK_ALGORITHMS = {
    "Image.geometry": image_geometry,
    "Image.date": image_date,
}


@algorithm("Feature.setGeometry")
def feature_set_geometry(feature, geometry=None):
    return as_feature(feature, "Feature.setGeometry").with_geometry(
        None if geometry is None else as_geometry(geometry, "Feature.setGeometry"))


def _feature_geometry_op(name: str, op):
    @algorithm(name)
    def implementation(feature, maxError=None, proj=None):
        f = as_feature(feature, name)
        if f.geometry is None:
            raise invalid_argument(f"{name}: Feature has no geometry.")
        return op(f, proj)

    return implementation


def _bounds(f, proj):
    return f.with_geometry(f.geometry.bounds(as_projection(proj).crs if proj is not None else None))


def _centroid(f, proj):
    return f.with_geometry(f.geometry.centroid())


_feature_geometry_op("Feature.bounds", _bounds)
_feature_geometry_op("Feature.centroid", _centroid)
_feature_geometry_op("Feature.area", lambda f, proj: f.geometry.area())
_feature_geometry_op("Feature.length", lambda f, proj: f.geometry.length())
_feature_geometry_op("Feature.perimeter", lambda f, proj: f.geometry.perimeter())


@algorithm("Feature.buffer")
def feature_buffer(feature, distance, maxError=None, proj=None):
    f = as_feature(feature, "Feature.buffer")
    if f.geometry is None:
        raise invalid_argument("Feature.buffer: Feature has no geometry.")
    return f.with_geometry(f.geometry.buffer(float(distance)))


@algorithm("Feature.select")
def feature_select(input, propertySelectors, newProperties=None, retainGeometry=True):
    import re

    f = as_feature(input, "Feature.select")
    names: List[str] = []
    for selector in propertySelectors:
        for key in f.properties:
            if re.fullmatch(str(selector), key) and key not in names:
                names.append(key)
    if newProperties is not None and len(newProperties) != len(names):
        raise invalid_argument("Feature.select: the number of new names must match the selected properties.")
    targets = newProperties if newProperties is not None else names
    props = {t: f.properties[n] for n, t in zip(names, targets)}
    if "system:index" in f.properties:
        props["system:index"] = f.properties["system:index"]
    return Feature(f.geometry if retainGeometry else None, props)


@algorithm("Collection")
def collection_new(features):
    if not isinstance(features, list):
        raise invalid_argument("Collection, argument 'features': Invalid type.\nExpected type: List<Feature>.")
    out: List[Element] = []
    for i, item in enumerate(features):
        if isinstance(item, Geometry):
            item = Feature(item, {})
        elif isinstance(item, dict) and item.get("type") == "Feature":
            item = feature_new(item)
        if not isinstance(item, Element):
            raise invalid_argument("Collection: features must be Features or Geometries.")
        if item.get("system:index") is None:
            item = item.with_properties({"system:index": str(i)})
        out.append(item)
    kind = "ImageCollection" if out and all(_is_image(e) for e in out) else "FeatureCollection"
    return ListCollection(out, {}, kind=kind)


def _is_image(element: Element) -> bool:
    return type(element).__name__ == "Image"


@algorithm("Collection.loadTable")
def collection_load_table(tableId, geometryColumn=None, version=None):
    from eeextract_plugin.sandbox.evaluator import current_context

    tables = current_context().tables
    table = tables.get(str(tableId)) if tables is not None else None
    if table is None:
        # Inside a computation Earth Engine answers a missing asset with a 400, not a 404.
        raise invalid_argument(
            f"Collection.loadTable: Collection asset '{tableId}' not found (does not exist or caller does not have access)."
        )
    return table


def features_of(value: Any, where: str) -> Collection:
    """A collection from a FeatureCollection, a Feature, a Geometry or a list of them."""
    if isinstance(value, Collection):
        return value
    if isinstance(value, Feature):
        return ListCollection([value])
    if isinstance(value, Geometry):
        return ListCollection([Feature(value, {"system:index": "0"})])
    if isinstance(value, list):
        return collection_new(value)
    return as_collection(value, where)


def iter_features(collection: Collection) -> Iterator[Element]:
    return collection.iterate()
