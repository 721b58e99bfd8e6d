"""Extract image per feature: one raster per polygon of a layer (clipped to the polygon's
bounds, named by the id field) → a folder and an index layer of the rasters' footprints."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import EngineJobAlgorithm, grid_help, source_help
from eeextract_plugin.processing.results import write_footprints


class ExtractPerFeatureAlgorithm(EngineJobAlgorithm):
    NAME = "extract_per_feature"
    TAGS = ("per feature", "polygons", "fields", "parcels", "download", "raster")  # i18n: not translated (search tags)
    KIND = "features"
    PRIVATE_OUTPUT_FOLDER = False
    POLYGONS = "POLYGONS"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    INDEX = "INDEX"
    RASTER_COUNT = "RASTER_COUNT"

    def displayName(self) -> str:
        return tr("Extract image per feature")

    def help_text(self) -> str:
        return (
            tr("<p>One raster per polygon of the layer (fields, parcels, basins), each on the output grid "
               "over the polygon's extent, fetched in parallel and named by the <b>id field</b> (the "
               "feature id when empty).</p>")
            + source_help()
            + tr("<p>With a <b>start</b> and <b>end date</b>, the asset is an image collection and the "
               "rasters come from its composite over that range (with the <b>reducer</b>).</p>")
            + grid_help()
            + tr("<p><b>Outputs</b>: the folder of rasters and an index layer with each raster's "
               "footprint, feature id and file.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters(dates=True, reducer=True)
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.POLYGONS, tr("Polygons"), [QgsProcessing.TypeVectorPolygon]))
        self.add_id_field_parameter(self.POLYGONS)
        self.add_grid_parameters()
        self.add_folder_outputs(tr("Output folder"), self.INDEX, tr("Index of rasters"),
                                self.RASTER_COUNT, tr("Number of rasters"))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        folder = self.output_path(parameters, self.OUTPUT_FOLDER, context)
        source = self.composite_source_spec(parameters, context)
        return {
            "version": 1,
            "name": self.job_name(self.NAME, folder),
            "kind": self.KIND,
            "source": source,
            "region": self.layer_region(parameters, self.POLYGONS, context, feedback,
                                        self.id_field(parameters, context)),
            "grid": self.grid_spec(parameters, context),
            "output": {"directory": folder, "format": "COG", "name": "image"},
        }

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        count, sink_id = write_footprints(self, self.INDEX, result, parameters, context, feedback,
                                          id_name=spec.region.id_field or "id")
        return {self.OUTPUT_FOLDER: spec.output.directory, self.INDEX: sink_id, self.RASTER_COUNT: count}
