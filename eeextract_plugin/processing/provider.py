"""The "EE Extract" Processing provider (id ``eeextract``).

Registered by ``EEExtractPlugin.initProcessing()`` and removed in ``unload()``; also found by
``qgis_process`` when the plugin is enabled in the profile it runs with, e.g. against a sandbox::

    qgis_process plugins enable eeextract_plugin
    EEEXTRACT_URL=http://127.0.0.1:8765 EEEXTRACT_PROJECT=sandbox \
        qgis_process run eeextract:extract_image -- ASSET=SANDBOX/DEM \
        "EXTENT=7.0,7.1,46.0,46.1 [EPSG:4326]" OUTPUT=/tmp/dem.tif

Algorithms: ``extract_image``, ``extract_chips``, ``extract_collection``, ``extract_per_feature``,
``export_mosaic``,
``zonal_statistics``, ``sample_reduce``, ``time_series``, ``run_job_file`` (one module each;
``base.py`` holds the parameter → job spec translation and the run wrapper, ``results.py`` the
engine results → Processing outputs, ``connection.py`` the Earth Engine connection and shared
session, ``feedback.py`` the progress / cancel / log adapters). See ``README.md`` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from eeextract_plugin.i18n import PLUGIN_NAME, tr

ICON = Path(__file__).resolve().parents[1] / "resources" / "icon.svg"


class EEExtractProvider(QgsProcessingProvider):
    """Provider of the EE Extract algorithms."""

    def __init__(self) -> None:
        super().__init__()
        from eeextract_plugin import qgis_zonal

        qgis_zonal.install()  # zonal statistics inside QGIS: never a wheel with its own GDAL/GEOS

    def id(self) -> str:
        return "eeextract"

    def name(self) -> str:
        return PLUGIN_NAME

    def longName(self) -> str:
        return tr("EE Extract (Google Earth Engine bulk extraction)")

    def icon(self) -> QIcon:
        return QIcon(str(ICON))

    def svgIconPath(self) -> str:
        return str(ICON)

    def supportedOutputRasterLayerExtensions(self) -> List[str]:
        return ["tif"]  # the engine writes (Cloud-Optimized) GeoTIFF

    def supportedOutputVectorLayerExtensions(self) -> List[str]:
        return ["gpkg"]  # the engine and the zonal statistics write GeoPackage

    def loadAlgorithms(self) -> None:
        # Imported here so that creating the provider costs nothing until QGIS asks for algorithms.
        from eeextract_plugin.processing.algorithms import all_algorithms

        for algorithm in all_algorithms():
            self.addAlgorithm(algorithm)
