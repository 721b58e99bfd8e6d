"""The engines: ``exactextract`` (partial-pixel coverage weighting) and ``rasterstats``
(pixel-centre rule, as EEDL) here, and any a host plugs in with :func:`register_engine` (the QGIS
plugin adds ``qgis``: QGIS's own zonal statistics). Each turns a batch of prepared zones into one
dict of ``column -> value`` per zone; values are plain Python numbers or ``None`` (empty).

Which engine runs: the request names one (``auto`` lets the host choose); a host may install a
policy (:func:`set_engine_policy`) that maps the requested name to the engine to run in its
process — QGIS uses its own when exactextract or rasterstats cannot be imported safely there.
Without a policy, ``auto`` is exactextract, else rasterstats."""

from __future__ import annotations

import logging
import math
import warnings
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from eeextract_plugin.core.geometry import box
from eeextract_plugin.core.zonal.errors import ZonalError
from eeextract_plugin.core.zonal.rasters import RasterInfo
from eeextract_plugin.core.zonal.statistics import Statistic, class_label
from eeextract_plugin.core.zonal.zones import Zone

log = logging.getLogger(__name__)

AUTO = "auto"
#: Engines a request may name (``qgis`` runs where the QGIS plugin registered it).
ENGINES = ("exactextract", "rasterstats", "qgis")
#: Chosen from ``bench/bench_zonal.py`` (see docs/zonal-statistics.md): fastest on both the
#: mid-size and the small-zone case, with the exact area weighting.
DEFAULT_ENGINE = "exactextract"

Row = Dict[str, Any]
EngineFactory = Callable[[RasterInfo, List[Statistic]], Any]

_FACTORIES: Dict[str, EngineFactory] = {}
_PROBLEMS: Dict[str, Callable[[], Optional[str]]] = {}
_POLICY: Optional[Callable[[str], str]] = None


def register_engine(name: str, factory: EngineFactory,
                    problem: Optional[Callable[[], Optional[str]]] = None) -> None:
    """Adds (or replaces) an engine: ``factory(raster, statistics)`` returns an object with
    ``name``, ``compute(zones) -> rows`` and ``close()``; ``problem()`` says why it cannot run
    in this process (``None`` when it can)."""
    _FACTORIES[name] = factory
    if problem is not None:
        _PROBLEMS[name] = problem
    else:
        _PROBLEMS.pop(name, None)


def unregister_engine(name: str) -> None:
    _FACTORIES.pop(name, None)
    _PROBLEMS.pop(name, None)


def set_engine_policy(policy: Optional[Callable[[str], str]]) -> None:
    """``policy(requested)`` → the engine to run (a host's settings); ``None`` removes it."""
    global _POLICY
    _POLICY = policy


def engine_problem(name: str) -> Optional[str]:
    """Why engine ``name`` cannot run in this process, or ``None`` when it can."""
    if name not in _FACTORIES:
        if name == "qgis":
            return "engine 'qgis' runs inside QGIS only"
        return f"unknown zonal engine {name!r}; engines are: {', '.join(ENGINES)}"
    check = _PROBLEMS.get(name)
    return check() if check is not None else None


def choose_engine(requested: str) -> str:
    """The engine that runs for ``requested`` (``auto`` or an engine's name) in this process."""
    if requested != AUTO and requested not in ENGINES and requested not in _FACTORIES:
        raise ZonalError(
            f"unknown zonal engine {requested!r}; engines are: {', '.join((AUTO,) + ENGINES)}")
    if _POLICY is not None:
        return _POLICY(requested)
    if requested != AUTO:
        return requested
    for name in ("exactextract", "rasterstats"):
        if engine_problem(name) is None:
            return name
    raise ZonalError("no zonal statistics engine can run here: install exactextract "
                     "(pip install exactextract) or rasterstats")


def bundled_native_libraries(module: str) -> Optional[str]:
    """The folder of native libraries that ``module``'s wheel brings along (auditwheel's
    ``<name>.libs``, delocate's ``.dylibs``, delvewheel's ``<name>.libs``), found without
    importing it; ``None`` when it has none or is not installed. Such copies of GEOS, PROJ or
    GDAL clash with the ones a host like QGIS has already loaded."""
    import importlib.util
    from pathlib import Path

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    package = Path(spec.origin).parent
    for candidate in (package.parent / f"{module}.libs", package / ".dylibs",
                      package.parent / f"{module.replace('_', '-')}.libs"):
        if candidate.is_dir():
            return str(candidate)
    return None


def exactextract_problem() -> Optional[str]:
    import importlib.util

    try:
        found = importlib.util.find_spec("exactextract") is not None
    except (ImportError, ValueError):  # an import hook that refuses it
        found = False
    if not found:
        return "engine 'exactextract' is not installed (pip install exactextract)"
    return None


def _plain(v: Any) -> Any:
    """numpy scalars → Python; NaN → None."""
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return None if math.isnan(f) else f
    return v


def empty_row(band_names: List[str], stats: List[Statistic]) -> Row:
    """The row of a zone with no valid pixel: count 0, variety 0, every other statistic empty."""
    row: Row = {}
    for band in band_names:
        for s in stats:
            if s.name == "frac":
                continue
            row[s.column(band)] = 0 if s.name in ("count", "variety") else None
    return row


def _finish(row: Row, band: str, stats: List[Statistic]) -> None:
    """Count 0 → every statistic but count and variety empty (engines disagree otherwise)."""
    count = row.pop("__count__", None)
    if count is None:
        count = row.get(f"{band}_count")
    if count:
        return
    for s in stats:
        if s.name == "frac":
            for k in [k for k in row if k.startswith(f"{band}_frac_")]:
                del row[k]
        else:
            row[s.column(band)] = 0 if s.name in ("count", "variety") else None


class ExactExtractEngine:
    """exactextract 0.3: every pixel a zone touches counts with the fraction of it covered."""

    name = "exactextract"

    def __init__(self, raster: RasterInfo, stats: List[Statistic]) -> None:
        try:
            from exactextract.operation import Operation
            from exactextract.raster import GDALRasterSource
        except ImportError as exc:  # pragma: no cover - a packaging problem, reported plainly
            raise ZonalError(f"engine 'exactextract' is not installed ({exc})") from None
        from osgeo import gdal

        self.raster = raster
        self.stats = stats
        self._ds = gdal.Open(raster.path)
        self._sources = []
        self._ops = []
        for band_idx, band in zip(raster.bands, raster.band_names):
            src = GDALRasterSource(self._ds, band_idx, name=band)
            self._sources.append(src)
            wanted = [s for s in stats]
            if not any(s.name == "count" for s in stats):
                wanted.append(Statistic("__count__"))
            for s in wanted:
                for stat, field, options in self._ops_for(band, s):
                    self._ops.append(Operation(stat, field, src, None, options))

    @staticmethod
    def _ops_for(band: str, s: Statistic):
        if s.name == "__count__":
            return [("count", f"{band}|__count__", None)]
        if s.is_percentile:
            return [("quantile", f"{band}|{s.name}", {"q": s.percentile / 100.0})]
        if s.name == "frac":
            return [("unique", f"{band}|__unique__", None), ("frac", f"{band}|frac", None)]
        stat = {"stddev": "stdev"}.get(s.name, s.name)
        return [(stat, f"{band}|{s.name}", None)]

    def compute(self, zones: List[Zone]) -> List[Row]:
        from exactextract import exact_extract

        todo = [z for z in zones if z.geometry is not None]
        if not todo:
            return []
        features = _WkbFeatureSource(
            [(k, z.geometry.wkb) for k, z in enumerate(todo)], self.raster.crs_wkt
        )
        out = exact_extract(
            self._sources,
            features,
            self._ops,
            include_cols=["zi"],
            strategy="feature-sequential",
            output="geojson",
        )
        rows: List[Row] = [{} for _ in todo]
        for feat in out:
            props = feat["properties"]
            k = int(props["zi"])
            rows[k] = self._row(props)
        return rows

    def _row(self, props: Dict[str, Any]) -> Row:
        row: Row = {}
        for band in self.raster.band_names:
            for s in self.stats:
                if s.name == "frac":
                    values = props.get(f"{band}|__unique__")
                    fracs = props.get(f"{band}|frac")
                    if values is not None and fracs is not None:
                        for v, f in zip(values, fracs):
                            row[f"{band}_frac_{class_label(v)}"] = float(f)
                    continue
                if s.is_percentile:  # exactextract appends the quantile to the field name
                    prefix = f"{band}|{s.name}_"
                    v = _plain(next((props[k] for k in props if k.startswith(prefix)), None))
                else:
                    v = _plain(props.get(f"{band}|{s.name}"))
                if s.name == "variety" and v is not None:
                    v = int(v)
                row[s.column(band)] = v
            if f"{band}|__count__" in props:
                row["__count__"] = _plain(props[f"{band}|__count__"])
            _finish(row, band, self.stats)
        return row

    def close(self) -> None:
        self._ops = []
        self._sources = []
        self._ds = None


def _feature_classes():
    from exactextract.feature import Feature, FeatureSource

    class WkbFeature(Feature):
        def __init__(self, index: int, wkb: bytes) -> None:
            Feature.__init__(self)
            self._index = index
            self._wkb = wkb

        def geometry(self):
            return self._wkb

        def set_geometry_format(self):
            return "wkb"

        def get(self, name):
            if name == "zi":
                return self._index
            raise KeyError(name)

        def set(self, name, value):  # pragma: no cover - writers never write into inputs here
            raise NotImplementedError

        def set_geometry(self, wkb):  # pragma: no cover
            raise NotImplementedError

        def fields(self):
            return ["zi"]

    class WkbFeatureSource(FeatureSource):
        def __init__(self, items, srs_wkt):
            FeatureSource.__init__(self)
            self._items = items
            self._srs = srs_wkt or None

        def count(self):
            return len(self._items)

        def __iter__(self):
            for k, wkb in self._items:
                yield WkbFeature(k, wkb)

        def srs_wkt(self):
            return self._srs

    return WkbFeatureSource


_WKB_SOURCE = None


def _WkbFeatureSource(items, srs_wkt):  # noqa: N802 - a class, built lazily (optional import)
    global _WKB_SOURCE
    if _WKB_SOURCE is None:
        _WKB_SOURCE = _feature_classes()
    return _WKB_SOURCE(items, srs_wkt)


def rasterstats_problem() -> Optional[str]:
    """Why rasterstats cannot run in this interpreter, or ``None`` when it can."""
    try:
        import rasterstats  # noqa: F401
        from affine import Affine
    except ImportError as exc:
        return f"engine 'rasterstats' is not installed ({exc})"
    try:
        with warnings.catch_warnings():  # affine 3 deprecates what rasterstats 0.21 does
            warnings.simplefilter("ignore")
            Affine.identity() * (0.0, 0.0)
    except Exception as exc:
        import affine

        try:
            import attr

            attrs_version = attr.__version__
        except Exception:  # pragma: no cover
            attrs_version = "?"
        return (
            f"engine 'rasterstats' cannot run: affine {affine.__version__} fails here "
            f"({type(exc).__name__}: {exc}); affine 3 needs attrs>=23.2 (found "
            f"{attrs_version}); install affine==2.4.0 or a newer attrs"
        )
    return None


class RasterstatsEngine:
    """rasterstats 0.21: a pixel counts, whole, when its centre is inside the zone."""

    name = "rasterstats"

    def __init__(self, raster: RasterInfo, stats: List[Statistic]) -> None:
        problem = rasterstats_problem()
        if problem:
            raise ZonalError(problem)
        self.raster = raster
        self.stats = stats
        names = []
        self.categorical = False
        for s in stats:
            if s.name == "frac":
                self.categorical = True
                names.append("count")
            elif s.is_percentile:
                names.append(f"percentile_{s.percentile:g}")
            else:
                names.append({"stddev": "std", "variety": "unique"}.get(s.name, s.name))
        if "count" not in names:
            names.append("count")
        self._rs_stats = list(dict.fromkeys(names))
        xmin, ymin, xmax, ymax = raster.extent
        eps = 1e-6 * min(raster.pixel_size)
        self._inner = box(xmin + eps, ymin + eps, xmax - eps, ymax - eps)

    def _rs_name(self, s: Statistic) -> str:
        if s.is_percentile:
            return f"percentile_{s.percentile:g}"
        return {"stddev": "std", "variety": "unique"}.get(s.name, s.name)

    def compute(self, zones: List[Zone]) -> List[Row]:
        from rasterstats import gen_zonal_stats

        todo = [z for z in zones if z.geometry is not None]
        if not todo:
            return []
        # Zones are already clipped to the raster; a hair more (a millionth of a pixel, which
        # moves no pixel centre) keeps every window inside it despite rounding, so reads need
        # no "boundless" mode (rasterio's boundless reads grow memory with every zone).
        inner = [z.geometry.intersection(self._inner) for z in todo]
        live = [k for k, g in enumerate(inner) if not g.is_empty and g.area > 0]
        rows: List[Row] = [{} for _ in todo]
        for band_idx, band, nodata in zip(
            self.raster.bands, self.raster.band_names, self.raster.nodata
        ):
            for row in rows:  # a sliver thinner than the margin holds no pixel centre
                row["__count__"] = 0
                _finish(row, band, self.stats)
            results = gen_zonal_stats(
                [inner[k] for k in live],
                self.raster.path,
                band=band_idx,
                stats=self._rs_stats,
                categorical=self.categorical,
                all_touched=False,
                boundless=False,
                # No nodata in the file: NaN never equals a value, so nothing is masked
                # (rasterstats would otherwise assume -999).
                nodata=nodata if nodata is not None else float("nan"),
            )
            for row, res in zip((rows[k] for k in live), results):
                count = res.get("count") or 0
                for s in self.stats:
                    if s.name == "frac":
                        for key, n in res.items():
                            if isinstance(key, str) or not count:
                                continue
                            row[f"{band}_frac_{class_label(key)}"] = n / count
                        continue
                    v = _plain(res.get(self._rs_name(s)))
                    if s.name in ("count", "variety") and v is not None:
                        v = int(v)
                    row[s.column(band)] = v
                row["__count__"] = count
                _finish(row, band, self.stats)
        return rows

    def close(self) -> None:
        pass


register_engine("exactextract", ExactExtractEngine, exactextract_problem)
register_engine("rasterstats", RasterstatsEngine, rasterstats_problem)


def make_engine(name: str, raster: RasterInfo, stats: List[Statistic]):
    problem = engine_problem(name)
    if problem:
        raise ZonalError(problem)
    return _FACTORIES[name](raster, stats)
