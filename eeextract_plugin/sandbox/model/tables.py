"""Table assets: the built-in ``SANDBOX/REGIONS`` and every GeoPackage / GeoJSON file in
``--data DIR`` (``projects/sandbox/assets/<stem>``, read with GDAL's OGR).

``SANDBOX/REGIONS`` is a deterministic table of a few hundred administrative-like polygons in
eight land areas on six continents (Voronoi cells of seeded points, clipped to each area),
with properties ``region_id`` (1…N), ``name``, ``country``, ``continent`` and ``area_km2``
(geodesic area). Where the imagery says a cell is at sea (real coastlines and lakes), the cell is
left out, so every region lies on land.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import shapely
from shapely.geometry import MultiPoint, box

from eeextract_plugin.sandbox.config import SandboxConfig
from eeextract_plugin.sandbox.model.feature import Feature, FeatureCollection
from eeextract_plugin.sandbox.model.geometry import Geometry

log = logging.getLogger(__name__)

REGIONS_ID = "SANDBOX/REGIONS"
PUBLIC_PREFIX = "projects/earthengine-public/assets/"
DATA_PREFIX = "projects/sandbox/assets/"
UPDATE_TIME = "2024-01-01T00:00:00Z"
TABLE_SUFFIXES = (".gpkg", ".geojson", ".json")

# (name, continent, west, south, east, north, cells): interiors of land masses.
REGION_AREAS: Tuple[Tuple[str, str, float, float, float, float, int], ...] = (
    ("Great Plains", "North America", -95.0, 37.0, -90.0, 41.0, 40),
    ("Andean Foothills", "South America", -80.0, -5.0, -75.0, -1.0, 40),
    ("Balkan Uplands", "Europe", 20.0, 41.0, 25.0, 45.0, 40),
    ("Nile Savanna", "Africa", 30.0, 9.0, 35.0, 13.0, 40),
    ("Dzungarian Steppe", "Asia", 85.0, 44.0, 90.0, 48.0, 40),
    ("Loess Plateau", "Asia", 110.0, 34.0, 115.0, 38.0, 40),
    ("Central Plateau", "Asia", 79.0, 20.0, 84.0, 24.0, 40),
    ("Channel Country", "Oceania", 140.0, -26.0, 145.0, -22.0, 40),
)
REGIONS_SEED = 20190101


def _on_synthetic_land(points: np.ndarray) -> np.ndarray:
    """True where the imagery has land (real coastlines; everywhere if it is not available)."""
    try:
        from eeextract_plugin.sandbox.imagery.synthetic import is_land
    except ImportError:
        return np.ones(len(points), bool)
    return np.asarray(is_land(points[:, 0], points[:, 1]))


def build_regions() -> List[Feature]:
    from eeextract_plugin.sandbox.model.geometry import _geodesic_area

    rng = np.random.RandomState(REGIONS_SEED)
    features: List[Feature] = []
    region_id = 0
    for area_name, continent, west, south, east, north, cells in REGION_AREAS:
        frame = box(west, south, east, north)
        # Jittered grid seeds: cells of similar size, irregular shapes.
        ny = max(1, int(round(np.sqrt(cells * (north - south) / (east - west)))))
        nx = max(1, int(np.ceil(cells / ny)))
        gx, gy = np.meshgrid((np.arange(nx) + 0.5) / nx, (np.arange(ny) + 0.5) / ny)
        jitter = rng.uniform(-0.35, 0.35, size=(2,) + gx.shape)
        px = west + (gx + jitter[0] / nx) * (east - west)
        py = south + (gy + jitter[1] / ny) * (north - south)
        seeds = np.column_stack([px.ravel(), py.ravel()])
        diagram = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame.buffer(1.0))
        polygons = [p.intersection(frame) for p in diagram.geoms]
        polygons = [p for p in polygons if p.geom_type == "Polygon" and not p.is_empty]
        # A stable order: north to south, west to east (by representative point).
        polygons.sort(key=lambda p: (-round(p.representative_point().y, 6), round(p.representative_point().x, 6)))
        reps = np.array([[p.representative_point().x, p.representative_point().y] for p in polygons])
        land = _on_synthetic_land(reps) if len(reps) else np.zeros(0, bool)
        number = 0
        for polygon, on_land in zip(polygons, land):
            if not on_land:
                continue
            number += 1
            region_id += 1
            polygon = shapely.set_precision(polygon, 1e-6)
            polygon = shapely.geometry.polygon.orient(polygon, 1.0)
            area_km2 = round(_geodesic_area(polygon) / 1e6, 3)
            features.append(Feature(Geometry(polygon, "EPSG:4326"), {
                "system:index": f"{region_id:05d}",
                "region_id": region_id,
                "name": f"{area_name} {number:02d}",
                "area": area_name,
                "continent": continent,
                "area_km2": area_km2,
            }))
    return features


class TableCatalog:
    """Table assets by id: ``get(asset_id)``, ``asset_description(name)``, ``list_children(parent)``."""

    def __init__(self, config: SandboxConfig):
        self.config = config
        self._lock = threading.Lock()
        self._cache: Dict[str, FeatureCollection] = {}

    # ---- lookup

    def _data_files(self) -> Dict[str, Path]:
        directory = self.config.data_dir
        if directory is None:
            return {}
        directory = Path(directory)
        if not directory.is_dir():
            return {}
        files: Dict[str, Path] = {}
        for path in sorted(directory.iterdir()):
            if path.is_file() and path.suffix.lower() in TABLE_SUFFIXES:
                files.setdefault(DATA_PREFIX + path.stem, path)
        return files

    def ids(self) -> List[str]:
        return [REGIONS_ID] + sorted(self._data_files())

    def get(self, asset_id: str) -> Optional[FeatureCollection]:
        asset_id = _to_id(asset_id)
        with self._lock:
            cached = self._cache.get(asset_id)
            if cached is not None:
                return cached
            if asset_id == REGIONS_ID:
                table = FeatureCollection(build_regions(), {}, asset_id=REGIONS_ID)
            else:
                path = self._data_files().get(asset_id)
                if path is None:
                    return None
                table = FeatureCollection(read_vector_file(path), {}, asset_id=asset_id)
            self._cache[asset_id] = table
            return table

    # ---- descriptions

    def asset_description(self, name: str) -> Optional[Dict[str, Any]]:
        asset_id = _to_id(name)
        if asset_id != REGIONS_ID and asset_id not in self._data_files():
            return None
        table = self.get(asset_id)
        if table is None:
            return None
        description: Dict[str, Any] = {
            "type": "TABLE",
            "name": _to_name(asset_id),
            "id": asset_id,
            "updateTime": UPDATE_TIME,
            "properties": {"feature_count": table.count()},
            "sizeBytes": str(_size_bytes(asset_id, self._data_files())),
        }
        return description

    def list_children(self, parent: str) -> List[Dict[str, Any]]:
        parent = parent.strip().strip("/")
        out = []
        for asset_id in self.ids():
            name = _to_name(asset_id)
            if name.rsplit("/", 1)[0] == parent:
                out.append({"type": "TABLE", "name": name, "id": asset_id, "updateTime": UPDATE_TIME})
        # The SANDBOX folder itself, under the public root.
        if parent == "projects/earthengine-public/assets":
            out.append({"type": "FOLDER", "name": PUBLIC_PREFIX + "SANDBOX", "id": "SANDBOX"})
        return out


def _to_id(name: str) -> str:
    name = name.strip().strip("/")
    if name.startswith(PUBLIC_PREFIX):
        return name[len(PUBLIC_PREFIX):]
    return name


def _to_name(asset_id: str) -> str:
    return asset_id if asset_id.startswith("projects/") else PUBLIC_PREFIX + asset_id


def _size_bytes(asset_id: str, files: Dict[str, Path]) -> int:
    path = files.get(asset_id)
    if path is not None:
        try:
            return path.stat().st_size
        except OSError:
            return 0
    return 250_000


def read_vector_file(path: Path) -> List[Feature]:
    """The features of the first layer of a GeoPackage / GeoJSON, in EPSG:4326."""
    from osgeo import ogr, osr

    ogr.UseExceptions()
    osr.UseExceptions()
    dataset = ogr.Open(str(path))
    if dataset is None or dataset.GetLayerCount() == 0:
        return []
    layer = dataset.GetLayer(0)
    source_srs = layer.GetSpatialRef()
    transform = None
    if source_srs is not None:
        target = osr.SpatialReference()
        target.ImportFromEPSG(4326)
        target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        source_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        if not source_srs.IsSame(target):
            transform = osr.CoordinateTransformation(source_srs, target)
    definition = layer.GetLayerDefn()
    names = [definition.GetFieldDefn(i).GetName() for i in range(definition.GetFieldCount())]
    features: List[Feature] = []
    for index, ogr_feature in enumerate(layer):
        properties: Dict[str, Any] = {}
        for i, name in enumerate(names):
            if not ogr_feature.IsFieldSetAndNotNull(i):
                continue
            value = ogr_feature.GetField(i)
            if isinstance(value, (bytes, bytearray)):
                continue
            properties[name] = value
        fid = ogr_feature.GetFID()
        properties["system:index"] = str(fid if fid is not None and fid >= 0 else index)
        geometry = None
        ogr_geometry = ogr_feature.GetGeometryRef()
        if ogr_geometry is not None:
            ogr_geometry = ogr_geometry.Clone()
            if transform is not None:
                ogr_geometry.Transform(transform)
            ogr_geometry.FlattenTo2D()
            shape = shapely.from_wkb(bytes(ogr_geometry.ExportToWkb()))
            geometry = Geometry(shape, "EPSG:4326")
        features.append(Feature(geometry, properties))
    return features

