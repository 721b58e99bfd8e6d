"""QGIS's own zonal statistics as an engine of the core's zonal module, and the rule that picks
the engine inside QGIS.

PyPI's exactextract, and rasterstats' rasterio and shapely, are wheels that bring their own GDAL,
GEOS and PROJ; loaded into a QGIS process that already has QGIS's, the two sets clash (wrong
geometries, crashes). Inside QGIS an engine whose wheel bundles native libraries therefore never
runs: ``qgis`` (``QgsZonalStatistics``) runs instead. An exactextract built against the system's
libraries (a distribution package, conda) is used as asked.

The setting ``eeextract/zonal_engine`` (``auto`` by default) says which engine runs: ``auto``
takes the job's engine when it can run safely here, else ``qgis``; a named engine is used when it
can run safely, else ``qgis``. :func:`engine_report` words the choice for the settings dialog.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Dict, List, Optional

from qgis.core import QgsGeometry, QgsRasterLayer, QgsSettings

from eeextract_plugin.core.zonal import (
    AUTO,
    ENGINES,
    ZonalError,
    bundled_native_libraries,
    engine_problem,
    register_engine,
    set_engine_policy,
    unregister_engine,
)
from eeextract_plugin.core.zonal.engines import empty_row
from eeextract_plugin.i18n import tr

log = logging.getLogger(__name__)

SETTING = "eeextract/zonal_engine"
CHOICES = (AUTO,) + ENGINES
#: Modules whose wheels would bring native libraries into QGIS's process, per engine.
NATIVE_MODULES = {"exactextract": ("exactextract",), "rasterstats": ("rasterio", "shapely")}
QGIS_STATISTICS = ("count", "sum", "mean", "min", "max", "stddev", "median", "majority",
                   "minority", "variety")


def load_engine_setting(settings: Optional[QgsSettings] = None) -> str:
    value = str((settings or QgsSettings()).value(SETTING, AUTO) or AUTO)
    return value if value in CHOICES else AUTO


def save_engine_setting(value: str, settings: Optional[QgsSettings] = None) -> None:
    if value not in CHOICES:
        raise ValueError(f"zonal engine must be one of {', '.join(CHOICES)}, not {value!r}")  # i18n: not translated (a programming error)
    (settings or QgsSettings()).setValue(SETTING, value)


def unsafe_reason(engine: str) -> Optional[str]:
    """Why ``engine`` must not run in this QGIS process (not installed, or its wheel brings its
    own GDAL/GEOS/PROJ), or ``None`` when it may."""
    if engine == "qgis":
        return None
    for module in NATIVE_MODULES.get(engine, ()):  # checked without importing anything
        libs = bundled_native_libraries(module)
        if libs:
            return tr("engine '{engine}': the {module} package brings its own native libraries ({libs}), "
                      "which clash with QGIS's").format(engine=engine, module=module, libs=libs)
    return engine_problem(engine)


def choose_in_qgis(requested: str) -> str:
    """The core's engine policy inside QGIS (see the module docstring)."""
    setting = load_engine_setting()
    wanted = requested if setting == AUTO else setting
    if wanted == AUTO:
        wanted = "exactextract"
    reason = unsafe_reason(wanted)
    if reason:
        log.info("zonal statistics: %s; QGIS's zonal statistics run instead", reason)
        return "qgis"
    return wanted


def engine_report(setting: Optional[str] = None) -> str:
    """One line for the settings dialog: which engine runs for a job asking for exactextract."""
    setting = setting or load_engine_setting()
    wanted = "exactextract" if setting == AUTO else setting
    reason = unsafe_reason(wanted)
    if reason:
        return tr("QGIS's zonal statistics run ({reason}).").format(reason=reason)
    if wanted == "qgis":
        return tr("QGIS's zonal statistics run (pixel centres; tiny zones weighted by area).")
    return tr("{engine} runs.").format(engine=wanted)


class QgisZonalEngine:
    """``QgsZonalStatistics.calculateStatistics`` per zone and band: a pixel counts when its
    centre is inside the zone; a zone holding at most one pixel centre is weighted by the
    area of each pixel it covers (QGIS's rule)."""

    name = "qgis"

    def __init__(self, raster: Any, stats: List[Any]) -> None:
        from qgis.analysis import QgsZonalStatistics

        unsupported = [s.name for s in stats if s.name not in QGIS_STATISTICS]
        if unsupported:
            raise ZonalError(tr("engine 'qgis' (QGIS's zonal statistics) does not compute {missing}; it computes "
                                "{known}").format(missing=", ".join(unsupported), known=", ".join(QGIS_STATISTICS)))
        self.raster = raster
        self.stats = stats
        self._layer = QgsRasterLayer(raster.path, "eeextract-zonal", "gdal")
        if not self._layer.isValid():
            raise ZonalError(tr("raster {path}: QGIS cannot read it").format(path=raster.path))
        self._provider = self._layer.dataProvider()
        self._cell_x = self._layer.rasterUnitsPerPixelX()
        self._cell_y = self._layer.rasterUnitsPerPixelY()
        Z = QgsZonalStatistics
        self._flags = {"count": Z.Count, "sum": Z.Sum, "mean": Z.Mean, "min": Z.Min, "max": Z.Max,
                       "stddev": Z.StDev, "median": Z.Median, "majority": Z.Majority,
                       "minority": Z.Minority, "variety": Z.Variety}
        wanted = Z.Count
        for s in stats:
            wanted |= self._flags[s.name]
        self._wanted = wanted

    def compute(self, zones: List[Any]) -> List[Dict[str, Any]]:
        from qgis.analysis import QgsZonalStatistics

        rows: List[Dict[str, Any]] = []
        for z in zones:
            if z.geometry is None:
                continue
            geometry = QgsGeometry()
            geometry.fromWkb(z.geometry.wkb)
            row: Dict[str, Any] = {}
            for band_index, band in zip(self.raster.bands, self.raster.band_names):
                values = QgsZonalStatistics.calculateStatistics(
                    self._provider, geometry, self._cell_x, self._cell_y, band_index, self._wanted)
                row.update(self._band_row(band, values))
            rows.append(row)
        return rows

    def _band_row(self, band: str, values: Dict[Any, Any]) -> Dict[str, Any]:
        count = _number(values.get(self._flags["count"]))
        if not count:
            return {k: v for k, v in empty_row([band], self.stats).items()}
        row: Dict[str, Any] = {}
        for s in self.stats:
            v = _number(values.get(self._flags[s.name]))
            if s.name in ("count", "variety") and v is not None and float(v).is_integer():
                v = int(v)
            row[s.column(band)] = v
        return row

    def close(self) -> None:
        self._provider = None
        self._layer = None


def _number(value: Any) -> Optional[float]:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def install() -> None:
    """Registers the ``qgis`` engine and the QGIS engine policy (idempotent)."""
    register_engine("qgis", QgisZonalEngine)
    set_engine_policy(choose_in_qgis)


def uninstall() -> None:
    set_engine_policy(None)
    unregister_engine("qgis")


__all__ = ["CHOICES", "QgisZonalEngine", "choose_in_qgis", "engine_report", "install",
           "load_engine_setting", "save_engine_setting", "uninstall", "unsafe_reason"]
