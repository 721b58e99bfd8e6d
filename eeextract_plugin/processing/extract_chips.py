"""Extract chips at points: one chip of N×N pixels centred on each point → a folder of files
and a layer of chip footprints."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import (
    EngineJobAlgorithm,
    grid_help,
    source_help,
    split_list,
    static_enum,
)
from eeextract_plugin.processing.results import write_footprints

FORMATS = ("COG", "GEO_TIFF", "PNG", "JPEG", "NPY")


class ExtractChipsAlgorithm(EngineJobAlgorithm):
    NAME = "extract_chips"
    TAGS = ("chips", "patches", "points", "training data", "deep learning")  # i18n: not translated (search tags)
    KIND = "chips"
    POINTS = "POINTS"
    CHIP_SIZE = "CHIP_SIZE"
    FORMAT = "FORMAT"
    VIS_MIN = "VIS_MIN"
    VIS_MAX = "VIS_MAX"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    FOOTPRINTS = "FOOTPRINTS"
    CHIP_COUNT = "CHIP_COUNT"

    def displayName(self) -> str:
        return tr("Extract chips at points")

    def help_text(self) -> str:
        return (
            tr("<p>One chip of <i>chip size</i> × <i>chip size</i> pixels centred on each point of the "
               "layer, fetched in parallel (e.g. 4,000 RGB chips of 256 × 256 for training data). Files "
               "are named by the <b>id field</b> (the feature id when empty).</p>")
            + source_help()
            + tr("<p>With a <b>start</b> and <b>end date</b>, the asset is an image collection and chips "
               "come from its composite over that range (with the <b>reducer</b>).</p>")
            + grid_help()
            + tr("<p><b>Format</b>: GeoTIFF keeps values and georeferencing; PNG / JPEG are visualized "
               "with <b>min</b> / <b>max</b> (one value, or one per band).</p>"
               "<p><b>Outputs</b>: the folder of chips and a polygon layer of chip footprints with the "
               "point id and the chip's file.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters(dates=True, reducer=True)
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.POINTS, tr("Points (chip centres)"), [QgsProcessing.TypeVectorPoint]))
        self.add_id_field_parameter(self.POINTS)
        self.add_grid_parameters()
        self.addParameter(QgsProcessingParameterNumber(
            self.CHIP_SIZE, tr("Chip size (pixels a side)"), type=QgsProcessingParameterNumber.Integer,
            minValue=1, maxValue=32768, defaultValue=256))
        self.addParameter(static_enum(
            self.FORMAT, tr("Format (COG, GEO_TIFF, PNG / JPEG visualized, NPY)"), FORMATS, "COG"))
        self.addParameter(QgsProcessingParameterString(
            self.VIS_MIN, tr("Visualization min (PNG/JPEG; one value or one per band)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.VIS_MAX, tr("Visualization max (PNG/JPEG; one value or one per band)"), optional=True))
        self.add_folder_outputs(tr("Chips folder"), self.FOOTPRINTS, tr("Chip footprints"),
                                self.CHIP_COUNT, tr("Number of chips"))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        folder = self.output_path(parameters, self.OUTPUT_FOLDER, context)
        source = self.composite_source_spec(parameters, context)
        size = self.parameterAsInt(parameters, self.CHIP_SIZE, context)
        fmt = self.parameterAsEnumString(parameters, self.FORMAT, context)
        output: Dict[str, Any] = {"directory": folder, "format": fmt, "name": "chip",
                                  "chip_size": [size, size]}
        if fmt in ("PNG", "JPEG"):
            visualization: Dict[str, Any] = {}
            for key, name in (("min", self.VIS_MIN), ("max", self.VIS_MAX)):
                values = split_list(self.parameterAsString(parameters, name, context))
                if values:
                    visualization[key] = [float(v) for v in values]
            if source.get("bands") and len(source["bands"]) in (1, 3):
                visualization["bands"] = source["bands"]
            output["visualization"] = visualization
        region = self.layer_region(parameters, self.POINTS, context, feedback,
                                   self.id_field(parameters, context))
        return {
            "version": 1,
            "name": self.job_name(self.NAME, folder),
            "kind": self.KIND,
            "source": source,
            "region": region,
            "grid": self.grid_spec(parameters, context),
            "output": output,
        }

    PRIVATE_OUTPUT_FOLDER = False

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        count, sink_id = write_footprints(self, self.FOOTPRINTS, result, parameters, context, feedback,
                                          id_name="point_id")
        return {self.OUTPUT_FOLDER: spec.output.directory, self.FOOTPRINTS: sink_id, self.CHIP_COUNT: count}
