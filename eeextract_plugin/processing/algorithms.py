"""The list of algorithms the provider offers (one module per algorithm)."""

from __future__ import annotations

import importlib
from typing import List

from qgis.core import QgsProcessingAlgorithm

# module name in this package -> class name
ALGORITHMS = (
    ("extract_image", "ExtractImageAlgorithm"),
    ("extract_chips", "ExtractChipsAlgorithm"),
    ("extract_collection", "ExtractCollectionAlgorithm"),
    ("extract_per_feature", "ExtractPerFeatureAlgorithm"),
    ("export_mosaic", "ExportMosaicAlgorithm"),
    ("zonal_statistics", "ZonalStatisticsAlgorithm"),
    ("sample_reduce", "SampleReduceAlgorithm"),
    ("time_series", "TimeSeriesAlgorithm"),
    ("run_job_file", "RunJobFileAlgorithm"),
)


def all_algorithms() -> List[QgsProcessingAlgorithm]:
    algorithms = []
    for module_name, class_name in ALGORITHMS:
        module = importlib.import_module(f"eeextract_plugin.processing.{module_name}")
        algorithms.append(getattr(module, class_name)())
    return algorithms
