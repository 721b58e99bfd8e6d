"""Sample and reduce in Earth Engine: band values at points (sampleRegions) or a statistic per
polygon (reduceRegions), computed in Earth Engine → a vector layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import (
    GROUP_TABLES,
    EngineJobAlgorithm,
    source_help,
    static_enum,
)
from eeextract_plugin.processing.results import (
    move_file,
    rename_id_column_csv,
    rename_id_field_gpkg,
)

OPERATIONS = ("sample", "reduce_regions")


class SampleReduceAlgorithm(EngineJobAlgorithm):
    NAME = "sample_reduce"
    GROUP = GROUP_TABLES
    TAGS = ("sampleRegions", "reduceRegions", "sample", "statistics", "table", "points", "polygons")
    KIND = "table"
    INPUT = "INPUT"
    OPERATION = "OPERATION"
    OUTPUT = "OUTPUT"
    SINGLE_OUTPUT = OUTPUT

    def displayName(self) -> str:
        return tr("Sample and reduce in Earth Engine")

    def help_text(self) -> str:
        return (
            tr("<p>Computes in Earth Engine, for each feature of the input layer, the image's band values "
               "at the point (<b>Operation</b> <code>sample</code>) or the <b>reducer</b> of its pixels "
               "over the polygon (<code>reduce_regions</code>) at <b>scale</b> metres. Nearby features share one request.</p>")
            + source_help()
            + tr("<p><b>Output</b>: the features with one field per band (GeoPackage); a CSV is written "
               "next to it.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters(reducer=True, reducer_default="mean")
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.INPUT, tr("Points or polygons"),
            [QgsProcessing.TypeVectorPoint, QgsProcessing.TypeVectorPolygon]))
        self.add_id_field_parameter(self.INPUT, tr("Id field (kept in the output)"))
        self.addParameter(static_enum(
            self.OPERATION, tr("Operation (sample or reduce_regions)"),
            OPERATIONS, "sample"))
        self.addParameter(QgsProcessingParameterNumber(
            self.SCALE, tr("Scale (metres; 0: the image's)"), type=QgsProcessingParameterNumber.Double,
            minValue=0.0, defaultValue=0.0, optional=True))
        output = QgsProcessingParameterVectorDestination(self.OUTPUT, tr("Output layer"))
        output.setSupportsNonFileBasedOutput(False)
        self.addParameter(output)

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        output = self.output_path(parameters, self.OUTPUT, context)
        source = self.source_spec(parameters, context, collection=False)
        reducer = source.pop("reducer", "mean")
        table = self.table_spec(parameters, context, self.parameterAsEnumString(parameters, self.OPERATION, context),
                                reducer)
        return {
            "version": 1,
            "name": self.job_name(self.NAME, output),
            "kind": self.KIND,
            "source": source,
            "region": self.layer_region(parameters, self.INPUT, context, feedback,
                                        self.id_field(parameters, context)),
            "table": table,
            "output": {"format": "CSV+GPKG", "name": "table"},
        }

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        destination = self.destination(parameters, context)
        path = move_file(self.single_output(result.tables, ".gpkg", tr("GeoPackage")), destination)
        id_field = spec.region.id_field or ""
        rename_id_field_gpkg(path, id_field)
        for table in (p for p in result.tables if p.endswith(".csv")):
            rename_id_column_csv(move_file(table, str(Path(destination).with_suffix(".csv"))), id_field)
        return {self.OUTPUT: path}
