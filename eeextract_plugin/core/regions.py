"""Reading a job's region: a bbox, a GeoJSON geometry, or the features of a vector file (GDAL/OGR),
each with its id and CRS."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from eeextract_plugin.core.errors import BadInput
from eeextract_plugin.core.geometry import Geometry, as_geometry, box, union_all
from eeextract_plugin.core.grid import reproject
from eeextract_plugin.core.spec import Region

log = logging.getLogger(__name__)


class RegionError(BadInput):
    """A region that cannot be used; the message names the spec field."""


@dataclass
class RegionFeature:
    """One feature of a region; ``geometry`` may be given as anything
    :func:`~eeextract_plugin.core.geometry.as_geometry` reads (GeoJSON, WKB, shapely...)."""

    id: str
    geometry: Geometry
    crs: str

    def __post_init__(self) -> None:
        self.geometry = as_geometry(self.geometry)


def _feature_id(v: object) -> str:
    """A feature's id as the file holds it: file names are made from it by core.naming."""
    return "" if v is None else str(v)


def read_region(region: Region) -> List[RegionFeature]:
    """Features of the region in their own CRS; a bbox or geometry is one feature ``"0"``."""
    if region.type == "bbox":
        assert region.bbox
        return [RegionFeature("0", box(*region.bbox), region.crs)]
    if region.type == "geometry":
        g = Geometry.from_geojson(region.geometry)
        if g.geom_type == "MultiPoint":
            return [RegionFeature(str(i), p, region.crs) for i, p in enumerate(g.parts)]
        if not g.is_valid:
            g = g.buffer(0)
        return [RegionFeature("0", g, region.crs)]
    return read_vector(region.path or "", region.layer, region.id_field)


def read_vector(path: str, layer: Optional[str] = None, id_field: Optional[str] = None) -> List[RegionFeature]:
    from osgeo import ogr, osr

    p = Path(path)
    if not p.exists():
        raise RegionError(f"region.path: no such file {p}")
    ds = ogr.Open(str(p))
    if ds is None:
        from osgeo import gdal

        raise RegionError(f"region.path: cannot read {p} ({gdal.GetLastErrorMsg() or 'not a vector file'})")
    lyr = ds.GetLayerByName(layer) if layer else ds.GetLayer(0)
    if lyr is None:
        raise RegionError(f"region.layer: no layer {layer!r} in {p}")
    srs = lyr.GetSpatialRef()
    if srs is not None:
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        auth = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
        crs = f"{auth[0]}:{auth[1]}" if auth[0] and auth[1] else srs.ExportToWkt()
        if crs == "OGC:CRS84":
            crs = "EPSG:4326"
    else:
        crs = "EPSG:4326"
    defn = lyr.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    if id_field and id_field not in fields:
        raise RegionError(f"region.id_field: no field {id_field!r} in {p.name} (fields: {', '.join(fields)})")
    out: List[RegionFeature] = []
    seen = set()
    for feat in lyr:
        g = feat.GetGeometryRef()
        if g is None:
            continue
        if g.HasCurveGeometry():
            g = g.GetLinearGeometry()
        geom = Geometry(g.Clone()).force_2d()
        if geom.is_empty:
            continue
        if not geom.is_valid:
            geom = geom.buffer(0)
        fid = _feature_id(feat.GetField(id_field) if id_field else feat.GetFID())
        if fid in seen:
            raise RegionError(f"region.id_field: duplicate id {fid!r} in {p.name}")
        seen.add(fid)
        if geom.geom_type == "MultiPoint":
            parts = [(f"{fid}_{i}", pt) for i, pt in enumerate(geom.parts)]
        else:
            parts = [(fid, geom)]
        for part_id, part in parts:
            if part_id in seen and part_id != fid:
                raise RegionError(f"region.id_field: id {part_id!r} (a point of multipoint {fid!r}) "
                                  f"is also another feature's id in {p.name}")
            seen.add(part_id)
            out.append(RegionFeature(part_id, part, crs))
    feat = g = None  # noqa: F841 - release OGR objects before their dataset (GDAL 3.6 crashes)
    lyr = None  # noqa: F841
    ds = None  # noqa: F841
    if not out:
        raise RegionError(f"region.path: {p.name} has no features")
    return out


def union(features: Sequence[RegionFeature], crs: str) -> Geometry:
    """The union of the features, reprojected into ``crs``."""
    return union_all([reproject(f.geometry, f.crs, crs) for f in features])


def region_geojson_4326(features: Sequence[RegionFeature]) -> Dict[str, Any]:
    """The region as one GeoJSON geometry in EPSG:4326 (what collections are filtered by)."""
    g = union(features, "EPSG:4326")
    if g.geom_type not in ("Polygon", "MultiPolygon", "Point", "MultiPoint"):
        g = g.envelope
    return g.to_geojson()


def geojson_4326(geom: Any, crs: str) -> Dict[str, Any]:
    """``geom`` (in ``crs``) as GeoJSON in EPSG:4326."""
    return reproject(geom, crs, "EPSG:4326").to_geojson()
