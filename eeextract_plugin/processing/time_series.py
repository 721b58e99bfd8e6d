"""Time series per region: one row per image per region (a statistic of each image's pixels
over each polygon, computed in Earth Engine) → a table."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import (
    GROUP_TABLES,
    EngineJobAlgorithm,
)
from eeextract_plugin.processing.results import move_file, rename_id_column_csv


class TimeSeriesAlgorithm(EngineJobAlgorithm):
    NAME = "time_series"
    GROUP = GROUP_TABLES
    TAGS = ("time series", "ndvi", "reduceRegions", "collection", "table")  # i18n: not translated (search tags)
    KIND = "timeseries"
    REGIONS = "REGIONS"
    OUTPUT = "OUTPUT"
    SINGLE_OUTPUT = OUTPUT

    def displayName(self) -> str:
        return tr("Time series per region")

    def help_text(self) -> str:
        return (
            tr("<p>For every image of a collection between two dates (after optional property filters), "
               "the <b>reducer</b> of each band over each region at <b>scale</b> metres — or, when a "
               "<b>normalized difference</b> is given (e.g. <code>B8,B4</code> for NDVI), of that index "
               "alone — computed in Earth Engine.</p>"
               "<p><b>Output</b>: a CSV table with one row per image per region: the region's id (under "
               "the layer's id field name), time (ms), date, one column per band or the index, and the "
               "image id.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters(asset_label=tr("Image collection ID"), expression=False, dates=True,
                                   dates_optional=False, reducer=True, reducer_default="mean")
        self.add_filter_parameters()
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.REGIONS, tr("Regions"), [QgsProcessing.TypeVectorPolygon, QgsProcessing.TypeVectorPoint]))
        self.add_id_field_parameter(self.REGIONS, tr("Region id field"))
        self.addParameter(QgsProcessingParameterNumber(
            self.SCALE, tr("Scale (metres; 0: the images')"), type=QgsProcessingParameterNumber.Double,
            minValue=0.0, defaultValue=0.0, optional=True))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, tr("Time series table"), tr("CSV files (*.csv)")))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        output = self.output_path(parameters, self.OUTPUT, context)
        source = self.source_spec(parameters, context, collection=True)
        source.update(self.collection_options(parameters, context))
        table = self.table_spec(parameters, context, "reduce_regions", source.pop("reducer", "mean"))
        return {
            "version": 1,
            "name": self.job_name(self.NAME, output),
            "kind": self.KIND,
            "source": source,
            "region": self.layer_region(parameters, self.REGIONS, context, feedback,
                                        self.id_field(parameters, context)),
            "table": table,
            "output": {"format": "CSV", "name": "timeseries"},
        }

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        path = move_file(self.single_output(result.tables, ".csv", tr("CSV table")), self.destination(parameters, context))
        rename_id_column_csv(path, spec.region.id_field or "")
        return {self.OUTPUT: path}
