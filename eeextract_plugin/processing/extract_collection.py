"""Extract image collection: one raster per image, or one composite per date window → a folder
of rasters and an index layer (one footprint per raster, with its dates and file)."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterNumber,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import EngineJobAlgorithm, grid_help, static_enum
from eeextract_plugin.processing.results import write_footprints

MODES = ("per_image", "composite")


class ExtractCollectionAlgorithm(EngineJobAlgorithm):
    NAME = "extract_collection"
    TAGS = ("collection", "time series", "composite", "per image", "date window")  # i18n: not translated (search tags)
    KIND = "collection"
    MODE = "MODE"
    WINDOW_DAYS = "WINDOW_DAYS"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    INDEX = "INDEX"
    RASTER_COUNT = "RASTER_COUNT"

    def displayName(self) -> str:
        return tr("Extract image collection")

    def help_text(self) -> str:
        return (
            tr("<p>The images of an Earth Engine image collection over an extent, between two dates "
               "(start inclusive, end exclusive), after optional property filters "
               "(<code>CLOUDY_PIXEL_PERCENTAGE &lt; 20; SPACECRAFT_NAME == Sentinel-2A</code>):</p>"
               "<ul><li><b>One raster per image</b> (<i>Outputs</i> <code>per_image</code>), named by "
               "the image; or</li>"
               "<li><b>One composite per date window</b> (<code>composite</code>) of <i>window</i> days (0: one composite of the "
               "whole range), reduced with the <b>reducer</b>.</li></ul>"
               "<p>An optional <b>normalized difference</b> (e.g. <code>B8,B4</code> for NDVI) is added "
               "as a band.</p>")
            + grid_help()
            + tr("<p><b>Outputs</b>: the folder of rasters and an index layer with one footprint per "
               "raster: file, image id or window, start and end dates.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters(asset_label=tr("Image collection ID"), expression=False, dates=True,
                                   dates_optional=False, reducer=True)
        self.add_filter_parameters()
        self.addParameter(static_enum(
            self.MODE, tr("Outputs (per_image or composite)"),
            MODES, "per_image"))
        self.addParameter(QgsProcessingParameterNumber(
            self.WINDOW_DAYS, tr("Date window (days; 0: the whole range)"),
            type=QgsProcessingParameterNumber.Integer, minValue=0, defaultValue=0))
        self.add_extent_parameter()
        self.add_grid_parameters()
        self.add_folder_outputs(tr("Output folder"), self.INDEX, tr("Index of rasters"),
                                self.RASTER_COUNT, tr("Number of rasters"))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        folder = self.output_path(parameters, self.OUTPUT_FOLDER, context)
        source = self.source_spec(parameters, context, collection=True)
        source.update(self.collection_options(parameters, context))
        mode = self.parameterAsEnumString(parameters, self.MODE, context)
        source["mode"] = mode
        if mode == "composite":
            window = self.parameterAsInt(parameters, self.WINDOW_DAYS, context)
            if window > 0:
                source["window_days"] = window
        else:
            source.pop("reducer", None)
        return {
            "version": 1,
            "name": self.job_name(self.NAME, folder),
            "kind": self.KIND,
            "source": source,
            "region": self.extent_region(parameters, context),
            "grid": self.grid_spec(parameters, context),
            "output": {"directory": folder, "format": "COG", "name": "image"},
        }

    PRIVATE_OUTPUT_FOLDER = False

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        count, sink_id = write_footprints(self, self.INDEX, result, parameters, context, feedback,
                                          id_name="key", image_fields=True)
        return {self.OUTPUT_FOLDER: spec.output.directory, self.INDEX: sink_id, self.RASTER_COUNT: count}
