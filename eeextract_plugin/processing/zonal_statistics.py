"""Zonal statistics (local): statistics of a finished raster per polygon, with exactextract
(partial-pixel weighting) or rasterstats (pixel-centre rule) → a CSV table and a vector layer."""

from __future__ import annotations

from typing import Any, Dict

from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBand,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
)

from eeextract_plugin.i18n import tr
from eeextract_plugin.processing.base import (
    GROUP_TABLES,
    EEExtractAlgorithm,
    split_list,
    static_enum,
)


def _engines():
    from eeextract_plugin.core.zonal import DEFAULT_ENGINE, ENGINES

    names = list(ENGINES)
    return names, names.index(DEFAULT_ENGINE) if DEFAULT_ENGINE in names else 0


class ZonalStatisticsAlgorithm(EEExtractAlgorithm):
    NAME = "zonal_statistics"
    GROUP = GROUP_TABLES
    TAGS = ("zonal", "statistics", "exactextract", "rasterstats", "polygons", "table")
    USES_EARTH_ENGINE = False
    INPUT = "INPUT"
    BANDS = "BANDS"
    ZONES = "ZONES"
    ID_FIELD = "ID_FIELD"
    STATISTICS = "STATISTICS"
    ENGINE = "ENGINE"
    OUTPUT_TABLE = "OUTPUT_TABLE"
    OUTPUT = "OUTPUT"
    ZONE_COUNT = "ZONE_COUNT"
    ZONES_WITH_DATA = "ZONES_WITH_DATA"

    def displayName(self) -> str:
        return tr("Zonal statistics (local)")

    def help_text(self) -> str:
        return (
            tr("<p>Statistics of a raster (for example one this plugin extracted) per zone of a polygon "
               "layer, computed locally, per band.</p>"
               "<p><b>Statistics</b>, comma separated: count, sum, mean, min, max, stddev, median, "
               "pNN (percentile, e.g. p10, p90), majority, minority, variety, frac (class fractions of a "
               "categorical raster: one column per class).</p>"
               "<p><b>Engine</b>: <i>exactextract</i> weights each pixel by the part of it inside the "
               "zone (exact for small zones and fast on many zones); <i>rasterstats</i> counts the pixels "
               "whose centre is inside (EEDL's tables use it); <i>qgis</i> is QGIS's own zonal statistics "
               "(pixel centres). Inside QGIS an engine whose package brings its own GDAL/GEOS (PyPI's "
               "wheels) never runs: QGIS's runs instead (Settings → Zonal statistics says which). Zones in another CRS are reprojected; "
               "zones outside the raster get count 0 and empty statistics; invalid geometries are "
               "repaired or reported by id.</p>"
               "<p><b>Outputs</b>: a CSV table (id field + one column per band and statistic) and the "
               "zones with the statistics as fields (GeoPackage).</p>")
        )

    def define_parameters(self) -> None:
        names, default = _engines()
        self.addParameter(QgsProcessingParameterRasterLayer(self.INPUT, tr("Raster")))
        self.addParameter(QgsProcessingParameterBand(
            self.BANDS, tr("Bands (empty: all)"), parentLayerParameterName=self.INPUT, optional=True,
            allowMultiple=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.ZONES, tr("Zones (polygons)"), [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField(
            self.ID_FIELD, tr("Zone id field"), parentLayerParameterName=self.ZONES))
        self.addParameter(QgsProcessingParameterString(
            self.STATISTICS, tr("Statistics (comma separated)"), defaultValue="count,mean,min,max"))  # i18n: not translated (statistic ids)
        self.addParameter(static_enum(
            self.ENGINE, tr("Engine"),
            names, names[default]))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT_TABLE, tr("Statistics table"), tr("CSV files (*.csv)")))
        zones_out = QgsProcessingParameterVectorDestination(
            self.OUTPUT, tr("Zones with statistics"), QgsProcessing.TypeVectorPolygon)
        zones_out.setSupportsNonFileBasedOutput(False)
        self.addParameter(zones_out)
        self.addOutput(QgsProcessingOutputNumber(self.ZONE_COUNT, tr("Number of zones")))
        self.addOutput(QgsProcessingOutputNumber(self.ZONES_WITH_DATA, tr("Zones with data")))

    def execute(
        self, parameters: Dict[str, Any], context: QgsProcessingContext, feedback: QgsProcessingFeedback
    ) -> Dict[str, Any]:
        from eeextract_plugin.core.zonal import ZonalRequest, run_zonal

        raster = self.parameterAsRasterLayer(parameters, self.INPUT, context)
        if raster is None or not raster.isValid():
            raise QgsProcessingException(tr("The raster cannot be read."))
        if raster.providerType() != "gdal":
            raise QgsProcessingException(tr("The raster must be a file readable by GDAL."))
        raster_path = raster.source().split("|")[0]
        zones_path, zones_layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, self.ZONES, context, ["gpkg", "shp", "geojson"], "gpkg", feedback)
        id_fields = self.parameterAsFields(parameters, self.ID_FIELD, context)
        names, _ = _engines()
        request = ZonalRequest(
            raster=raster_path,
            zones=zones_path.split("|")[0],
            layer=zones_layer or None,
            id_field=id_fields[0] if id_fields else None,
            statistics=split_list(self.parameterAsString(parameters, self.STATISTICS, context)) or ["mean"],
            engine=self.parameterAsEnumString(parameters, self.ENGINE, context),
            bands=self.parameterAsInts(parameters, self.BANDS, context) or None,
            csv_path=self.output_path(parameters, self.OUTPUT_TABLE, context),
            gpkg_path=self.output_path(parameters, self.OUTPUT, context),
        )
        feedback.pushInfo(tr("Zonal statistics with {engine}: {statistics}").format(
            engine=request.engine, statistics=", ".join(request.statistics)))
        result = run_zonal(request, progress=feedback.setProgress, cancel=feedback.isCanceled)
        for text, ids in ((tr("%Ln zone(s) outside the raster: {ids}", None, len(result.outside)), result.outside),
                          (tr("%Ln zone(s) repaired: {ids}", None, len(result.repaired)), result.repaired)):
            if ids:
                feedback.pushInfo(text.format(ids=", ".join(map(str, ids[:20]))))
        for zone_id, message in list(result.invalid.items())[:20]:
            feedback.reportError(tr("zone {id}: {message}").format(id=zone_id, message=message), False)
        return {
            self.OUTPUT_TABLE: result.csv_path,
            self.OUTPUT: result.gpkg_path,
            self.ZONE_COUNT: result.zones,
            self.ZONES_WITH_DATA: result.zones_with_data,
        }
