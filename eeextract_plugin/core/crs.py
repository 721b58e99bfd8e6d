"""Coordinate reference systems with GDAL's OSR (the PROJ every QGIS build already has).

Every coordinate the core handles is in x, y order (longitude, latitude for geographic CRSs):
spatial references are set to ``OAMS_TRADITIONAL_GIS_ORDER``. OSR objects and coordinate
transformations are kept per thread (PROJ contexts belong to the thread that made them), so
workers never share one.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from eeextract_plugin.core.errors import BadInput

log = logging.getLogger(__name__)

_local = threading.local()

#: Inputs OSR would fetch or read from somewhere (a URL, a file): never followed.
_FORBIDDEN_PREFIXES = ("http://", "https://", "ftp://", "file:", "/", "./", "../")


class CRSError(BadInput):
    """A CRS that OSR cannot understand."""


def _cache(name: str) -> Dict[Any, Any]:
    d = getattr(_local, name, None)
    if d is None:
        d = {}
        setattr(_local, name, d)
    return d


def _parse(user: str) -> Any:
    """A new ``osr.SpatialReference`` from ``user`` (EPSG:n, WKT, PROJ string, URN...)."""
    from osgeo import osr

    text = str(user).strip()
    if not text or text.lower().startswith(_FORBIDDEN_PREFIXES):
        raise CRSError(f"unknown CRS {user!r}")
    srs = osr.SpatialReference()
    try:
        with quiet_gdal():
            err = srs.SetFromUserInput(text)
    except RuntimeError:
        err = 1
    if err != 0:
        raise CRSError(f"unknown CRS {user!r}")
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def spatial_reference(user: str) -> Any:
    """This thread's ``osr.SpatialReference`` for ``user`` (x, y axis order). Do not modify it."""
    cache = _cache("srs")
    srs = cache.get(user)
    if srs is None:
        if len(cache) > 64:
            cache.clear()
        srs = cache[user] = _parse(user)
    return srs


def is_known_crs(user: str) -> bool:
    try:
        spatial_reference(user)
    except CRSError:
        return False
    return True


class CRS:
    """A thin, read-only view of a CRS: WKT, authority, equality (axis order ignored)."""

    def __init__(self, user: str) -> None:
        self.user = user
        spatial_reference(user)  # raises CRSError for an unknown CRS

    @property
    def srs(self) -> Any:
        return spatial_reference(self.user)

    def to_wkt(self, version: str = "WKT2_2019") -> str:
        return self.srs.ExportToWkt([f"FORMAT={version}"])

    def to_authority(self, min_confidence: int = 70) -> Optional[Tuple[str, str]]:
        """(authority, code), also for a WKT or PROJ string that matches one."""
        srs = self.srs
        name, code = srs.GetAuthorityName(None), srs.GetAuthorityCode(None)
        if name and code:
            return name, code
        try:
            with quiet_gdal():
                matches = srs.FindMatches() or []
        except (RuntimeError, AttributeError):
            matches = []
        for match, confidence in matches:
            if confidence >= min_confidence:
                name, code = match.GetAuthorityName(None), match.GetAuthorityCode(None)
                if name and code:
                    return name, code
        return None

    @property
    def is_geographic(self) -> bool:
        return bool(self.srs.IsGeographic())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CRS):
            return NotImplemented
        return self.user == other.user or bool(self.srs.IsSame(other.srs))

    def __hash__(self) -> int:  # equal CRSs may hash apart; only used in small caches
        return hash(self.user)

    def __repr__(self) -> str:
        return f"CRS({self.user[:60]!r})"


def crs_of(user: str) -> CRS:
    return CRS(user)


def crs_code(user: str) -> str:
    """``EPSG:nnnn`` when the CRS has one, else its WKT (what Earth Engine grids accept)."""
    crs = CRS(user)
    auth = crs.to_authority()
    if auth and auth[0] == "EPSG":
        return f"EPSG:{auth[1]}"
    return crs.to_wkt()


def same_crs(a: str, b: str) -> bool:
    if a == b:
        return True
    key = (a, b)
    cache = _cache("same")
    if key not in cache:
        cache[key] = bool(spatial_reference(a).IsSame(spatial_reference(b)))
    return cache[key]


def transformation(src: str, dst: str) -> Any:
    """This thread's ``osr.CoordinateTransformation`` from ``src`` to ``dst`` (x, y order)."""
    from osgeo import osr

    cache = _cache("ct")
    ct = cache.get((src, dst))
    if ct is None:
        try:
            with quiet_gdal() as messages:
                ct = osr.CoordinateTransformation(spatial_reference(src), spatial_reference(dst))
        except RuntimeError as exc:
            raise CRSError(f"no transformation from {src[:40]} to {dst[:40]} ({exc})") from None
        if ct is None or getattr(ct, "this", True) is None:
            raise CRSError(f"no transformation from {src[:40]} to {dst[:40]} "
                           f"({'; '.join(messages) or 'unknown error'})")
        cache[(src, dst)] = ct
    return ct


def transform_points(ct: Any, xy: Sequence[Tuple[float, float]]) -> List[Tuple[float, float]]:
    """Points through ``ct``; a point that cannot be transformed becomes (inf, inf)."""
    if not xy:
        return []
    pts = [(float(x), float(y)) for x, y in xy]
    try:
        with quiet_gdal():
            out = ct.TransformPoints(pts)
    except RuntimeError:
        out = None
    if out is None or len(out) != len(pts):  # one by one: keep the ones that work
        out = []
        for p in pts:
            try:
                with quiet_gdal():
                    out.append(ct.TransformPoint(*p))
            except RuntimeError:
                out.append((math.inf, math.inf))
    return [(float(p[0]), float(p[1])) if math.isfinite(p[0]) and math.isfinite(p[1])
            else (math.inf, math.inf) for p in out]


def transform_bounds(src: str, dst: str, bounds: Tuple[float, float, float, float],
                     points_per_edge: int = 21) -> Tuple[float, float, float, float]:
    """The bounds in ``dst`` of a box in ``src``, each edge sampled at ``points_per_edge``
    points; infinite values when no sample point can be transformed."""
    if same_crs(src, dst):
        return bounds
    xmin, ymin, xmax, ymax = bounds
    n = max(2, points_per_edge)
    pts: List[Tuple[float, float]] = []
    for i in range(n):
        f = i / (n - 1)
        x = xmin + (xmax - xmin) * f
        y = ymin + (ymax - ymin) * f
        pts += [(x, ymin), (x, ymax), (xmin, y), (xmax, y)]
    out = [p for p in transform_points(transformation(src, dst), pts) if math.isfinite(p[0])]
    if not out:
        return (math.inf, math.inf, math.inf, math.inf)
    xs = [p[0] for p in out]
    ys = [p[1] for p in out]
    return (min(xs), min(ys), max(xs), max(ys))


class quiet_gdal:  # noqa: N801 - used as a context manager
    """GDAL/OGR/OSR messages collected (``as messages``) instead of printed; the error mode
    (exceptions or return codes) is left as it was found."""

    def __enter__(self) -> List[str]:
        from osgeo import gdal

        self.messages: List[str] = []

        def handler(cls: int, num: int, msg: str) -> None:
            self.messages.append(str(msg))

        self._handler = handler  # kept alive while pushed
        gdal.PushErrorHandler(handler)
        return self.messages

    def __exit__(self, *exc: Any) -> bool:
        from osgeo import gdal

        gdal.PopErrorHandler()
        return False


__all__ = ["CRS", "CRSError", "crs_code", "crs_of", "is_known_crs", "quiet_gdal", "same_crs",
           "spatial_reference", "transform_bounds", "transform_points", "transformation"]
