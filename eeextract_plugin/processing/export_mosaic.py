"""Export and mosaic: a batch export to Cloud Storage or Drive, its parts downloaded and
mosaicked into one raster."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import (
    EngineJobAlgorithm,
    grid_help,
    source_help,
    static_enum,
)
from eeextract_plugin.processing.results import move_file

DESTINATIONS = ("export_gcs", "export_drive")


class ExportMosaicAlgorithm(EngineJobAlgorithm):
    NAME = "export_mosaic"
    TAGS = ("export", "batch", "cloud storage", "gcs", "drive", "mosaic", "large")  # i18n: not translated (search tags)
    KIND = "mosaic"
    DESTINATION = "DESTINATION"
    BUCKET = "BUCKET"
    DRIVE_FOLDER = "DRIVE_FOLDER"
    PREFIX = "PREFIX"
    FILE_DIMENSIONS = "FILE_DIMENSIONS"
    OUTPUT = "OUTPUT"
    SINGLE_OUTPUT = OUTPUT

    def displayName(self) -> str:
        return tr("Export and mosaic (Cloud Storage / Drive)")

    def help_text(self) -> str:
        return (
            tr("<p>For regions too large for direct requests: submits batch exports "
               "(<code>Export.image.toCloudStorage</code> / <code>toDrive</code>), follows them, "
               "downloads every part (paged listing, checksums) and mosaics them into one "
               "Cloud-Optimized GeoTIFF. The job is persistent: run it again to resume.</p>")
            + source_help()
            + grid_help()
            + tr("<p><b>Export to</b> <code>export_gcs</code>: a Cloud Storage <b>bucket</b>; "
                 "<code>export_drive</code>: a <b>Drive folder</b>. Empty uses the plugin's settings. Private "
                 "buckets are read with the connection's credentials.</p>")
        )

    def define_parameters(self) -> None:
        self.add_source_parameters()
        self.add_extent_parameter()
        self.add_grid_parameters()
        self.add_nodata_parameter()
        self.addParameter(static_enum(
            self.DESTINATION, tr("Export to (Cloud Storage or Drive)"),
            DESTINATIONS, "export_gcs"))
        self.addParameter(QgsProcessingParameterString(
            self.BUCKET, tr("Cloud Storage bucket (empty: settings)"), optional=True))
        self.addParameter(QgsProcessingParameterString(
            self.DRIVE_FOLDER, tr("Drive folder (empty: settings)"), optional=True))
        self.add_advanced(QgsProcessingParameterString(
            self.PREFIX, tr("Prefix of the exported parts (empty: the job's)"), optional=True))
        self.add_advanced(QgsProcessingParameterNumber(
            self.FILE_DIMENSIONS, tr("Part size (pixels a side, a multiple of 256)"),
            type=QgsProcessingParameterNumber.Integer, minValue=256, defaultValue=12800))
        self.addParameter(QgsProcessingParameterRasterDestination(self.OUTPUT, tr("Output raster")))

    def build_spec(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        output = self.output_path(parameters, self.OUTPUT, context)
        destination = self.parameterAsEnumString(parameters, self.DESTINATION, context)
        method: Dict[str, Any] = {
            "type": destination,
            "file_dimensions": self.parameterAsInt(parameters, self.FILE_DIMENSIONS, context),
        }
        if destination == "export_gcs":
            bucket = self.parameterAsString(parameters, self.BUCKET, context).strip() or _setting("bucket")
            if not bucket:
                raise QgsProcessingException(tr("A Cloud Storage bucket is required (parameter or settings)."))
            method["bucket"] = bucket
        else:
            folder = self.parameterAsString(parameters, self.DRIVE_FOLDER, context).strip() or _setting("drive_folder")
            if not folder:
                raise QgsProcessingException(tr("A Drive folder is required (parameter or settings)."))
            method["folder"] = folder
        prefix = self.parameterAsString(parameters, self.PREFIX, context).strip()
        if prefix:
            method["prefix"] = prefix
        return {
            "version": 1,
            "name": self.job_name(self.NAME, output),
            "kind": self.KIND,
            "source": self.source_spec(parameters, context, collection=False),
            "region": self.extent_region(parameters, context),
            "grid": self.grid_spec(parameters, context),
            "method": method,
            "output": {"format": "COG", "name": "image", "nodata": self.nodata(parameters, context)},
        }

    def collect_outputs(self, result: Any, spec: Any, parameters: Dict[str, Any],
                        context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> Dict[str, Any]:
        mosaic = self.single_output(result.rasters, ".tif", tr("mosaic"))
        return {self.OUTPUT: move_file(mosaic, self.destination(parameters, context))}


def _setting(name: str) -> str:
    from eeextract_plugin.processing.connection import plugin_setting

    return plugin_setting(name)
