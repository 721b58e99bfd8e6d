"""Extract image (direct): one region of an image → one raster, by parallel direct requests."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterRasterDestination,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import EngineJobAlgorithm, grid_help, source_help
from eeextract_plugin.processing.results import move_file


class ExtractImageAlgorithm(EngineJobAlgorithm):
    NAME = "extract_image"
    TAGS = ("download", "raster", "mosaic", "getPixels", "computePixels")
    KIND = "mosaic"
    OUTPUT = "OUTPUT"
    SINGLE_OUTPUT = OUTPUT

    def displayName(self) -> str:
        return tr("Extract image (direct)")

    def help_text(self) -> str:
        return (
            tr("<p>Downloads one region of an Earth Engine image as a Cloud-Optimized GeoTIFF, by many "
               "parallel interactive requests (tiles sized under Earth Engine's request limits, retried "
               "on 429 and server errors), then mosaicked.</p>")
            + source_help()
            + tr("<p><b>Extent</b>: the region, in the CRS it is given in; it is reprojected to the "
               "output CRS before tiling.</p>")
            + grid_help()
            + tr("<p><b>Output</b>: the raster (GeoTIFF); it can feed other algorithms of a model.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters()
        self.add_extent_parameter()
        self.add_grid_parameters()
        self.add_nodata_parameter()
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Output raster")))

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

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        raster = self.single_output(result.rasters, ".tif", tr("raster"))
        return {self.OUTPUT: move_file(raster, self.destination(parameters, context))}
