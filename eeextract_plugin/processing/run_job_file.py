"""Run a job file: any EE Extract job spec (JSON, as the dock saves it or ``examples/`` shows)
run as it is — every kind, including one raster per feature — with an optional output folder."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputFolder,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import EngineJobAlgorithm


class RunJobFileAlgorithm(EngineJobAlgorithm):
    NAME = "run_job_file"
    TAGS = ("job", "json", "spec", "batch", "resume")
    PRIVATE_OUTPUT_FOLDER = False
    JOB = "JOB"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    FOLDER = "FOLDER"
    OUTPUTS = "OUTPUTS"
    OUTPUT_COUNT = "OUTPUT_COUNT"

    def displayName(self) -> str:
        return tr("Run a job file")

    def help_text(self) -> str:
        return (
            tr("<p>Runs an EE Extract job file (JSON, version 1: the format the dock saves and "
               "<code>eeextract run</code> reads) as it is: any kind — mosaic, chips, collection, one "
               "raster per feature, tables, time series — by direct requests or batch exports. Paths in "
               "the file are relative to the file.</p>"
               "<p><b>Output folder</b>: replaces the file's <code>output.directory</code> when given.</p>"
               "<p><b>Outputs</b>: the folder and the list of files written.</p>")
        )

    def define_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterFile(
            self.JOB, tr("Job file (JSON)"), extension="json"))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUTPUT_FOLDER, tr("Output folder (empty: the job file's)"), optional=True,
            createByDefault=False))
        self.addOutput(QgsProcessingOutputFolder(self.FOLDER, tr("Folder of the outputs")))
        self.addOutput(QgsProcessingOutputMultipleLayers(self.OUTPUTS, tr("Files written")))
        self.addOutput(QgsProcessingOutputNumber(self.OUTPUT_COUNT, tr("Number of files written")))

    def build_spec(self, parameters: Dict[str, Any], context: QgsProcessingContext,
                   feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        from eeextract_plugin.core.spec import JobSpec, SpecError

        path = self.parameterAsFile(parameters, self.JOB, context)
        try:
            spec = JobSpec.from_file(path)
        except SpecError as error:
            raise QgsProcessingException(tr("Job file: {error}").format(error=error)) from error
        raw = spec.to_dict()
        folder = self.output_path(parameters, self.OUTPUT_FOLDER, context)
        if folder:
            raw.setdefault("output", {})["directory"] = folder
        return raw

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        return {self.FOLDER: spec.output.directory, self.OUTPUTS: list(result.outputs),
                self.OUTPUT_COUNT: len(result.outputs), self.OUTPUT_FOLDER: spec.output.directory}
