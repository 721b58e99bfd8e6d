"""Extract image (direct): one region of an image → one raster, by parallel direct requests."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterRasterDestination,
)

from eeextract_plugin.processing.base import GRID_HELP, SOURCE_HELP, EngineJobAlgorithm
from eeextract_plugin.processing.results import move_file


class ExtractImageAlgorithm(EngineJobAlgorithm):
    NAME = "extract_image"
    DISPLAY_NAME = "Extract image (direct)"
    TAGS = ("download", "raster", "mosaic", "getPixels", "computePixels")
    KIND = "mosaic"
    OUTPUT = "OUTPUT"
    HELP = (
        "<p>Downloads one region of an Earth Engine image as a Cloud-Optimized GeoTIFF, by many "
        "parallel interactive requests (tiles sized under Earth Engine's request limits, retried "
        "on 429 and server errors), then mosaicked.</p>"
        + SOURCE_HELP
        + "<p><b>Extent</b>: the region, in the CRS it is given in; it is reprojected to the "
        "output CRS before tiling.</p>"
        + GRID_HELP
        + "<p><b>Output</b>: the raster (GeoTIFF); it can feed other algorithms of a model.</p>"
    )

    def define_parameters(self) -> None:
        self.add_source_parameters()
        self.add_extent_parameter()
        self.add_grid_parameters()
        self.add_nodata_parameter()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, "Output raster"))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        output = self.output_path(parameters, self.OUTPUT, context)
        return {
            "version": 1,
            "name": self.job_name(self.NAME, output),
            "kind": self.KIND,
            "source": self.source_spec(parameters, context, collection=False),
            "region": self.extent_region(parameters, context),
            "grid": self.grid_spec(parameters, context),
            "output": {"format": "COG", "name": "image", "nodata": self.nodata(parameters, context)},
        }

    def destination(self, parameters: Dict[str, Any], context: QgsProcessingContext) -> str:
        return self.output_path(parameters, self.OUTPUT, context)

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        raster = self.single_output(result.rasters, ".tif", "raster")
        return {self.OUTPUT: move_file(raster, self.destination(parameters, context))}
